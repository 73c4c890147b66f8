"""The model registry: importing verified folders, promoting, rolling back, the audit trail, the CLI.

Pointer tests run on SQLite and on the real PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import typer
from registry_support import model_folder, tamper
from schema_support import migration_drift
from sqlalchemy import select
from typer.testing import CliRunner

from tonewatch import InputError, ModelIntegrityError, NotFoundError
from tonewatch.audit import AuditLog, AuditRow
from tonewatch.cli import _model
from tonewatch.learn import (
    BUILTIN,
    Registry,
    import_model,
    promote,
    read_pointer,
    rollback,
    set_shadow,
)
from tonewatch.learn._catalogue import list_versions
from tonewatch.learn._promotion import read_history
from tonewatch.score import BUNDLED_MODEL_DIR
from tonewatch.score._multilingual import MultilingualLayer
from tonewatch.store import Store


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "models")


def _import(store: Store, registry: Registry, tmp_path: Path, version: str, **manifest: Any) -> str:
    src = model_folder(tmp_path / "src" / version, version, **manifest)
    return import_model(store, registry, src, actor="test:alice", why="new data").name


MY_TABLES = {"model_serving", "model_history", "shadow_results"}


def test_migration_matches_the_models(store: Store) -> None:
    """``registry_0001`` creates exactly what the ORM classes declare, on both backends."""
    assert migration_drift(store, MY_TABLES) == []
    with store.session(readonly=True) as s:
        pointer = read_pointer(s)
    assert (pointer.active, pointer.shadow, pointer.revision) == (None, None, 0)  # the seed row


# -- the folder registry ---------------------------------------------------------------------


def test_import_verifies_copies_and_names_the_version(tmp_path: Path, registry: Registry) -> None:
    src = model_folder(tmp_path / "src", "2.0.0")
    v = registry.import_folder(src)
    assert v.name == "2.0.0"
    assert v.model_version == "2.0.0"
    assert not v.builtin
    assert (registry.root / "2.0.0" / "model.onnx").is_file()
    v.verify()
    renamed = registry.import_folder(src, version="2.0.0-retrained")
    manifest = json.loads((registry.root / "2.0.0-retrained" / "manifest.json").read_text())
    assert manifest["version"] == "2.0.0-retrained"
    assert manifest["source_version"] == "2.0.0"
    assert [x.name for x in registry.versions()] == [BUILTIN, "2.0.0", "2.0.0-retrained"]
    assert registry.get("bundled").builtin
    assert registry.get(BUILTIN).path == BUNDLED_MODEL_DIR
    assert renamed.summary()["tweeteval_macro_recall"] is not None
    assert renamed.summary()["languages"]["german"]["metric"] == "macro_f1"


def test_import_refuses_duplicates_bad_names_and_tampered_folders(tmp_path: Path, registry: Registry) -> None:
    src = model_folder(tmp_path / "src", "2.0.0")
    registry.import_folder(src)
    with pytest.raises(InputError) as dup:
        registry.import_folder(src)
    assert dup.value.code == "version_exists"
    builtin_version = registry.builtin.model_version
    with pytest.raises(InputError):
        registry.import_folder(src, version=builtin_version)
    for bad in ("../escape", ".hidden", "a/b", "x" * 81, BUILTIN):
        with pytest.raises(InputError):
            registry.import_folder(src, version=bad)
    bad_src = model_folder(tmp_path / "bad", "3.0.0")
    tamper(bad_src)
    with pytest.raises(ModelIntegrityError):
        registry.import_folder(bad_src)
    assert not (registry.root / "3.0.0").exists()
    assert [p.name for p in registry.root.iterdir() if p.name.startswith(".")] == []  # no staging left behind
    with pytest.raises(NotFoundError):
        registry.get("9.9.9")


# -- pointers, history, audit (SQLite and PostgreSQL) ---------------------------------------


def test_promote_and_rollback_walk_the_history(store: Store, registry: Registry, tmp_path: Path) -> None:
    _import(store, registry, tmp_path, "2.0.0")
    _import(store, registry, tmp_path, "3.0.0")
    with store.session(readonly=True) as s:
        assert read_pointer(s).active is None  # nothing promoted: the bundled model serves

    promote(store, registry, "2.0.0", actor="test:alice", why="better on billing")
    promote(store, registry, "3.0.0", actor="test:bob", why="even better")
    with store.session(readonly=True) as s:
        p = read_pointer(s)
        assert (p.active, p.revision, p.updated_by) == ("3.0.0", 2, "test:bob")

    assert rollback(store, registry, actor="test:carol", why="complaints").version == "2.0.0"
    entry = rollback(store, registry, actor="test:carol", why="still bad")
    assert entry.version is None
    assert entry.previous == "2.0.0"
    with pytest.raises(InputError) as nothing:
        rollback(store, registry, actor="test:carol")
    assert nothing.value.code == "nothing_to_roll_back"
    with pytest.raises(InputError) as already:
        promote(store, registry, BUILTIN, actor="test:carol")
    assert already.value.code == "already_active"

    with store.session(readonly=True) as s:
        history = [(e.action, e.version, e.previous, e.actor, e.why) for e in reversed(read_history(s))]
        audit = [(r.actor, r.action, r.subject, r.details) for r in s.scalars(select(AuditRow).order_by(AuditRow.seq))]
        AuditLog(s).verify()
    assert history == [
        ("promote", "2.0.0", None, "test:alice", "better on billing"),
        ("promote", "3.0.0", "2.0.0", "test:bob", "even better"),
        ("rollback", "2.0.0", "3.0.0", "test:carol", "complaints"),
        ("rollback", None, "2.0.0", "test:carol", "still bad"),
    ]
    actions = [(a, act, subj) for a, act, subj, _ in audit]
    assert actions == [
        ("test:alice", "model.import", "model:2.0.0"),
        ("test:alice", "model.import", "model:3.0.0"),
        ("test:alice", "model.promote", "model:2.0.0"),
        ("test:bob", "model.promote", "model:3.0.0"),
        ("test:carol", "model.rollback", "model:2.0.0"),
        ("test:carol", "model.rollback", "model:builtin"),
    ]
    assert audit[3][3]["why"] == "even better"
    assert audit[3][3]["previous"] == "2.0.0"


def test_promotion_needs_shadow_comparisons_unless_forced(store: Store, registry: Registry, tmp_path: Path) -> None:
    _import(store, registry, tmp_path, "2.0.0")
    with pytest.raises(InputError) as refused:
        promote(store, registry, "2.0.0", actor="test:alice", min_comparisons=5)
    assert refused.value.code == "not_enough_comparisons"
    assert "0 shadow comparisons" in refused.value.message
    entry = promote(store, registry, "2.0.0", actor="test:alice", min_comparisons=5, force=True, why="hotfix")
    assert entry.forced
    assert entry.comparisons == 0
    with store.session(readonly=True) as s:
        assert read_pointer(s).active == "2.0.0"
        assert s.scalars(select(AuditRow.details).where(AuditRow.action == "model.promote")).one()["forced"] is True


def test_labels_that_differ_are_refused(store: Store, registry: Registry, tmp_path: Path) -> None:
    manifest = json.loads((BUNDLED_MODEL_DIR / "manifest.json").read_text())
    labels = manifest["labels"]
    go = labels["goemotions"]
    labels["goemotions"] = [go[1], go[0], *go[2:]]  # still valid for the runtime, but different meaning
    _import(store, registry, tmp_path, "2.0.0", labels=labels)
    with pytest.raises(InputError) as refused:
        promote(store, registry, "2.0.0", actor="test:alice", force=True)
    assert refused.value.code == "labels_differ"
    with store.session(readonly=True) as s:
        assert read_pointer(s).active is None


def test_tampered_or_unknown_versions_are_refused(store: Store, registry: Registry, tmp_path: Path) -> None:
    _import(store, registry, tmp_path, "2.0.0")
    tamper(registry.root / "2.0.0", "model.onnx")
    with pytest.raises(ModelIntegrityError):
        promote(store, registry, "2.0.0", actor="test:alice", force=True)
    with pytest.raises(ModelIntegrityError):
        set_shadow(store, registry, "2.0.0", actor="test:alice")
    with pytest.raises(NotFoundError):
        promote(store, registry, "7.0.0", actor="test:alice", force=True)
    with store.session(readonly=True) as s:
        assert read_pointer(s).active is None
        assert read_pointer(s).shadow is None
        items = {i["version"]: i for i in list_versions(s, registry, verify=True)}
    assert items[BUILTIN]["integrity"] == "ok"
    assert "does not match its manifest" in items["2.0.0"]["integrity"]


def test_an_active_version_missing_on_this_machine_is_shown_and_recoverable(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    _import(store, registry, tmp_path, "2.0.0")
    promote(store, registry, "2.0.0", actor="test:alice", force=True)
    shutil.rmtree(registry.root / "2.0.0")  # e.g. promoted from a machine whose registry is not shared
    with store.session(readonly=True) as s:
        items = {i["version"]: i for i in list_versions(s, registry)}
    assert items["2.0.0"]["marks"] == ["active"]
    assert "missing" in items["2.0.0"]["error"]
    promote(store, registry, BUILTIN, actor="test:alice", force=True, why="recover")
    with store.session(readonly=True) as s:
        assert read_pointer(s).active is None


def test_shadow_pointer_and_marks(store: Store, registry: Registry, tmp_path: Path) -> None:
    _import(store, registry, tmp_path, "2.0.0")
    _import(store, registry, tmp_path, "3.0.0")
    with pytest.raises(InputError) as same:
        set_shadow(store, registry, BUILTIN, actor="test:alice")
    assert same.value.code == "shadow_is_active"
    set_shadow(store, registry, "2.0.0", actor="test:alice", why="try it")
    with store.session(readonly=True) as s:
        marks = {i["version"]: i["marks"] for i in list_versions(s, registry)}
    assert marks == {BUILTIN: ["active"], "2.0.0": ["shadow"], "3.0.0": ["candidate"]}
    promote(store, registry, "2.0.0", actor="test:alice", force=True)
    with store.session(readonly=True) as s:
        p = read_pointer(s)
        marks = {i["version"]: i["marks"] for i in list_versions(s, registry)}
    assert (p.active, p.shadow) == ("2.0.0", None)  # promoting the shadow ends its shadowing
    assert marks == {BUILTIN: ["retired"], "2.0.0": ["active"], "3.0.0": ["candidate"]}
    set_shadow(store, registry, "3.0.0", actor="test:alice")
    set_shadow(store, registry, None, actor="test:alice", why="enough")
    with pytest.raises(InputError):
        set_shadow(store, registry, None, actor="test:alice")
    with store.session(readonly=True) as s:
        assert read_pointer(s).shadow is None
        actions = list(s.scalars(select(AuditRow.action).where(AuditRow.action.like("model.shadow%"))))
    assert actions == ["model.shadow", "model.shadow", "model.shadow_off"]


def test_concurrent_promotions_serialise(store: Store, registry: Registry, tmp_path: Path) -> None:
    for v in ("2.0.0", "3.0.0", "4.0.0", "5.0.0"):
        _import(store, registry, tmp_path, v)
    errors: list[BaseException] = []

    def go(version: str) -> None:
        try:
            promote(store, registry, version, actor=f"test:{version}", force=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(v,)) for v in ("2.0.0", "3.0.0", "4.0.0", "5.0.0")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session(readonly=True) as s:
        p = read_pointer(s)
        history = list(reversed(read_history(s)))
    assert p.revision == 4
    # each promotion saw the one before it: the chain of previous versions is unbroken
    assert [h.previous for h in history] == [None, *[h.version for h in history[:-1]]]
    assert p.active == history[-1].version


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    app = typer.Typer()
    _model.register(app)
    env = {
        "TONEWATCH_HOME": str(tmp_path / "home"),
        "TONEWATCH_DB_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "TONEWATCH_MODEL_REGISTRY": str(tmp_path / "registry"),
        "TONEWATCH_SHADOW_MIN_COMPARISONS": "3",
        "COLUMNS": "220",
    }

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["model", *args], env=env)

    return run


def test_cli_import_list_show_promote_rollback(cli: Any, tmp_path: Path) -> None:
    src = model_folder(tmp_path / "src", "2.0.0", sentences={"read": "in_context"})
    r = cli("import", str(src), "--version", "2.1.0", "--actor", "ops:dana", "--why", "retrained")
    assert r.exit_code == 0, r.output
    assert "imported model version 2.1.0" in r.output

    r = cli("list", "--format", "json")
    assert r.exit_code == 0, r.output
    models = {m["version"]: m for m in json.loads(r.output)["models"]}
    assert models[BUILTIN]["marks"] == ["active"]
    assert models["2.1.0"]["marks"] == ["candidate"]
    assert models["2.1.0"]["integrity"] == "ok"
    assert models["2.1.0"]["metrics"]["airline_macro_f1"] > 0.5
    r = cli("list")
    assert r.exit_code == 0
    assert "TweetEval" in r.output
    assert "candidate" in r.output

    r = cli("show", "2.1.0")
    assert r.exit_code == 0, r.output
    assert "Validated per language" in r.output
    assert "as scored" in r.output
    assert "pooled from their message's forward pass" in r.output
    r = cli("show", "2.1.0", "--format", "json")
    assert json.loads(r.output)["sentence_reading"] == "in_context"
    r = cli("show", BUILTIN, "--format", "json")  # the bundled model pools sentences, reading mixed ones again
    assert json.loads(r.output)["sentence_reading"] == "checked"
    assert "read again alone where the message could be mixed" in cli("show", BUILTIN).output
    routing = {row["language"]: row for row in json.loads(r.output)["language_routing"]}
    layer = MultilingualLayer()
    # English is read by the version itself; the other UMSAB languages by the multilingual layer, whose figure
    # decides whether results are acted on
    assert routing["en"]["scored_by"] == "this version"
    assert routing["en"]["validated_macro_f1"] == routing["en"]["this_version"]
    assert routing["de"]["scored_by"].startswith("multilingual layer")
    assert routing["de"]["validated_macro_f1"] == layer.macro_f1("de")
    assert routing["de"]["routing"] == "acted on"
    assert routing["hi"]["routing"] == "review (low_accuracy_language)"

    r = cli("promote", "2.1.0", "--actor", "ops:dana")
    assert r.exit_code == 2
    assert "0 shadow comparisons" in r.output
    assert "--force" in r.output
    r = cli("promote", "2.1.0", "--actor", "ops:dana", "--why", "urgent fix", "--force")
    assert r.exit_code == 0, r.output
    assert "2.1.0 is now active (forced) (was builtin)" in r.output
    show = json.loads(cli("show", "2.1.0", "--format", "json").output)
    assert show["marks"] == ["active"]
    assert show["history"][0]["why"] == "urgent fix"

    r = cli("rollback", "--actor", "ops:dana", "--why", "complaints")
    assert r.exit_code == 0
    assert "rolled back to model version builtin (was 2.1.0)" in r.output
    r = cli("rollback")
    assert r.exit_code == 2
    assert "nothing to roll back to" in r.output


def test_cli_errors_exit_non_zero(cli: Any, tmp_path: Path) -> None:
    r = cli("show", "9.9.9")
    assert r.exit_code == 2
    assert "no model version '9.9.9'" in r.output
    r = cli("promote", "9.9.9", "--force")
    assert r.exit_code == 2
    assert "no model version" in r.output
    r = cli("import", str(tmp_path / "nowhere"))
    assert r.exit_code == 2
    assert "is not a model folder" in r.output
    r = cli("shadow")
    assert r.exit_code == 2
    r = cli("compare")
    assert r.exit_code == 2
    assert "no shadow version is set" in r.output

    src = model_folder(tmp_path / "src", "2.0.0")
    assert cli("import", str(src)).exit_code == 0
    tamper(tmp_path / "registry" / "2.0.0")
    r = cli("list")
    assert r.exit_code == 1
    assert "does not match" in r.output.replace("\n", " ")
    r = cli("show", "2.0.0")
    assert r.exit_code == 2
    assert "does not verify" in r.output
    r = cli("promote", "2.0.0", "--force")
    assert r.exit_code == 2
    assert "does not match its manifest" in r.output
    r = cli("shadow", "2.0.0")
    assert r.exit_code == 2
