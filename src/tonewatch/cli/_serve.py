"""``tonewatch serve`` (the HTTP API under uvicorn) and ``tonewatch keys`` (API keys).

Keys are printed once at creation and only their salted hash is stored, so the output of
``keys create`` is the only copy: the command says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tonewatch.store import Store

__all__ = ["register"]

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)

_DB = typer.Option("--db", help="Database URL (default: TONEWATCH_DB_URL or the embedded SQLite file)")


def _store(db: str | None) -> Store:
    """The store named by ``--db`` (or the settings), migrated to the newest schema."""
    from tonewatch.settings import Settings
    from tonewatch.store import Store

    store = Store.from_settings(Settings(db_url=db) if db else Settings())
    store.create_all()
    return store


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    db: Annotated[str | None, _DB] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (each loads the model)")] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
    tracing: Annotated[bool, typer.Option("--otel", help="OpenTelemetry tracing (needs the otel extra)")] = False,
) -> None:
    """Run the HTTP API (docs at /docs, schema at /openapi.json)."""
    import os

    import uvicorn

    from tonewatch.api import create_app
    from tonewatch.api._logging import configure_json_logging
    from tonewatch.settings import Settings

    if db:
        os.environ["TONEWATCH_DB_URL"] = db  # worker processes read settings from the environment
    settings = Settings()
    configure_json_logging(log_level)
    if workers > 1:
        uvicorn.run(
            "tonewatch.api:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
        )
        return
    app = create_app(settings, tracing=tracing)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, log_level=log_level)


def keys_create(
    role: Annotated[str, typer.Option(help="agent, lead, qa, analyst or admin")],
    name: Annotated[str | None, typer.Option(help="A note to recognise the key by")] = None,
    db: Annotated[str | None, _DB] = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from tonewatch._errors import TonewatchError
    from tonewatch.api import create_key
    from tonewatch.audit import AuditLog

    store = _store(db)
    try:
        with store.session() as session:
            new = create_key(session, role, name=name)
            AuditLog(session).record(
                "cli", "api_key.create", f"api_key:{new.info.id}", {"role": new.info.role, "name": name}
            )
    except TonewatchError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        store.dispose()
    typer.echo(new.key)
    typer.echo(f"key id {new.info.id}, role {new.info.role}: store it now, it cannot be shown again", err=True)


def keys_list(db: Annotated[str | None, _DB] = None) -> None:
    """List keys (ids, roles, state; never the secrets)."""
    from tonewatch.api import list_keys

    store = _store(db)
    with store.session(readonly=True) as session:
        infos = list_keys(session)
    store.dispose()
    for info in infos:
        state = "revoked " + info.revoked_at.isoformat() if info.revoked_at else "active"
        typer.echo(f"{info.id}\t{info.role}\t{state}\t{info.name or ''}")


def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The id shown by `keys list` (the part after tw_)")],
    db: Annotated[str | None, _DB] = None,
) -> None:
    """Revoke a key; requests with it get 401 from then on."""
    from tonewatch._errors import TonewatchError
    from tonewatch.api import revoke_key
    from tonewatch.audit import AuditLog

    store = _store(db)
    try:
        with store.session() as session:
            info = revoke_key(session, key_id)
            AuditLog(session).record("cli", "api_key.revoke", f"api_key:{info.id}", {"role": info.role})
    except TonewatchError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        store.dispose()
    typer.echo(f"revoked {info.id}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    keys_app.command("create")(keys_create)
    keys_app.command("list")(keys_list)
    keys_app.command("revoke")(keys_revoke)
    app.add_typer(keys_app, name="keys")
