"""Settings, read from ``TONEWATCH_*`` environment variables or a ``.env`` file.

Nothing is built at import time: callers create ``Settings()`` (or receive one) and pass
it down, so tests and several apps in one process can use different settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._errors import ConfigurationError

__all__ = ["DEFAULT_SECRET", "Settings", "VisibilityPolicy", "environment_fingerprint"]

DEFAULT_SECRET = "tonewatch-development-secret-change-me"

VisibilityPolicy = Literal["full", "supervisor", "post_conversation", "aggregate", "threshold"]


class Settings(BaseSettings):
    """Every knob of a tonewatch deployment; defaults are the embedded, zero-set-up ones."""

    model_config = SettingsConfigDict(env_prefix="TONEWATCH_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    home: Path = Field(default=Path(".tonewatch"), description="Folder for the embedded database, keys and reports")
    db_url: str | None = Field(default=None, description="SQLAlchemy URL; default is a SQLite file under `home`")

    # scoring
    model_dir: Path | None = Field(default=None, description="Use this model folder instead of the bundled one")
    review_threshold: float = Field(default=0.55, ge=0, le=1, description="Confidence below which needs_review is set")
    max_text_chars: int = Field(default=200_000, gt=0, description="Longer texts are refused, never truncated")
    threads: int = Field(default=0, ge=0, description="onnxruntime intra-op threads (0 = all cores)")
    score_alone: bool = Field(
        default=False,
        description="Run every text and sentence through the model on its own, so a score never depends on what "
        "else is in the batch (the int8 model quantises activations per run); about 27 % fewer messages/s",
    )
    unvalidated_language_action: Literal["review", "score"] = "review"
    language_min_f1: float = Field(
        default=0.55, ge=0, le=1, description="Languages validated below this macro-F1 are scored but sent to review"
    )

    # model registry, shadow scoring
    model_registry: Path | None = Field(
        default=None, description="Folder of registered model versions; default is `home/models`"
    )
    model_refresh_seconds: float = Field(
        default=5.0, ge=0, description="How often a process re-reads which model version is active (0 = every call)"
    )
    shadow_min_comparisons: int = Field(
        default=200, ge=0, description="Shadow comparisons a version needs before it may be promoted (unless forced)"
    )
    shadow_queue_size: int = Field(
        default=10_000, ge=1, description="Messages waiting for shadow scoring; more are dropped, never waited for"
    )

    # drift of the traffic away from the reference window (``tonewatch drift report``, docs/operations.md)
    drift_current_days: float = Field(default=7, gt=0, description="Length of the current window in days")
    drift_reference_days: float = Field(default=28, gt=0, description="Reference window: the days before the current")
    drift_min_messages: int = Field(default=50, ge=1, description="Fewer messages in a window: no drift verdict")
    drift_psi_alert: float = Field(default=0.2, gt=0, description="Alert at this PSI of the score or label mix")
    drift_oov_alert: float = Field(default=0.1, gt=0, le=1, description="Alert at this share of never-seen words")
    drift_low_confidence_rise_alert: float = Field(
        default=0.1, gt=0, le=1, description="Alert when the low-confidence share rises by this much"
    )
    drift_term_min_count: int = Field(default=5, ge=1, description="Messages a new frequent term must appear in")
    drift_term_lift: float = Field(default=5.0, gt=1, description="How much more common a new term must be now")
    drift_check_minutes: float = Field(
        default=60,
        ge=0,
        description="How often the API server runs the drift check itself (0: never; run `tonewatch drift report`)",
    )

    # privacy
    store_raw_text: bool = Field(default=False, description="Keep the unmasked text, encrypted with `encryption_key`")
    encryption_key: str | None = Field(default=None, description="Fernet key for raw text at rest")
    retention_days: int | None = Field(default=None, gt=0, description="Purge message text after this many days")

    # proactive support
    rules_path: Path | None = Field(default=None, description="Playbook YAML; default is the bundled starter playbook")
    sla_business_hours: float = Field(default=4.0, gt=0)
    business_hours: tuple[int, int] = (9, 17)
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    timezone: str = "UTC"
    holdout_fraction: float = Field(default=0.1, ge=0, lt=1)
    llm_url: str | None = Field(default=None, description="OpenAI-compatible chat endpoint that may rewrite drafts")
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None

    # server
    secret_key: str = DEFAULT_SECRET
    visibility_policy: VisibilityPolicy = "supervisor"
    visibility_threshold: float = Field(default=0.5, ge=0, le=1, description="|score| beyond which 'threshold' shows")
    aggregate_min_group: int = Field(default=5, ge=1)
    max_batch: int = Field(default=256, ge=1)
    max_request_bytes: int = Field(default=4_000_000, gt=0)
    rate_limit_per_minute: int = Field(default=6000, ge=1)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ConfigurationError(
                "TONEWATCH_SECRET_KEY is the development default; set a real secret in production",
                field="secret_key",
            )
        return self

    @property
    def registry_dir(self) -> Path:
        """The model registry folder: explicit ``model_registry`` or ``home/models``."""
        return self.model_registry if self.model_registry is not None else self.home / "models"

    @property
    def database_url(self) -> str:
        """The URL to connect to: explicit ``db_url`` or the embedded SQLite file."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'tonewatch.db').as_posix()}"


def environment_fingerprint() -> tuple[Any, ...]:
    """What ``Settings()`` would read now: its prefix's environment variables, the working directory, the ``.env`` text.

    Building ``Settings()`` costs about 1.3 ms; this costs microseconds, so a caller that needs the current
    settings on every call (``tonewatch.analyze``) builds them again only when this changes. It reads the
    prefix and the file name from ``Settings.model_config``, so it follows them if they change.
    """
    prefix = str(Settings.model_config.get("env_prefix") or "").upper()
    env = tuple(sorted((k.upper(), v) for k, v in os.environ.items() if k.upper().startswith(prefix)))
    try:
        cwd = os.getcwd()  # relative paths in the settings (a model folder) resolve against it
    except OSError:
        return env, None, None
    env_file = Settings.model_config.get("env_file")
    if not isinstance(env_file, str | Path):
        return env, cwd, None
    try:
        with open(os.path.join(cwd, env_file), "rb") as fh:  # its text, not its time: two edits can share a tick
            return env, cwd, fh.read()
    except OSError:
        return env, cwd, None
