"""Application settings: one frozen value built once from the environment and passed down."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = REPO_ROOT / "instance"
MIN_SECRET_KEY_LENGTH = 32
WEAK_SECRET_KEYS = frozenset({"", "dev", "secret", "changeme", "change-me", "development"})


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message says which and what to do."""


def default_database_url(instance_dir: Path = DEFAULT_INSTANCE_DIR) -> str:
    """The embedded default: a SQLite file under ``instance/``."""
    return f"sqlite:///{instance_dir / 'triage.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    """Everything the app, the CLI and the jobs need to know about their environment.

    ``mode`` is ``demo`` (seeded users are printed, an ephemeral secret key is allowed),
    ``development`` or ``production`` (a strong ``SECRET_KEY`` is required).
    """

    database_url: str = field(default_factory=default_database_url)
    mode: str = "demo"
    secret_key: str = ""
    city_name: str = "Riverton"
    timezone: str = "America/New_York"
    max_upload_bytes: int = 5 * 1024 * 1024
    login_max_failures: int = 5
    login_window_seconds: int = 900
    secure_cookies: bool = False
    run_scheduler_in_process: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``TRIAGE_*`` variables (and ``SECRET_KEY``); keyword overrides win."""
        env = dict(os.environ) if env is None else env
        values: dict[str, object] = {}
        if env.get("TRIAGE_DATABASE_URL"):
            values["database_url"] = env["TRIAGE_DATABASE_URL"]
        if env.get("TRIAGE_MODE"):
            values["mode"] = env["TRIAGE_MODE"]
        secret = env.get("TRIAGE_SECRET_KEY") or env.get("SECRET_KEY")
        if secret:
            values["secret_key"] = secret
        if env.get("TRIAGE_CITY_NAME"):
            values["city_name"] = env["TRIAGE_CITY_NAME"]
        if env.get("TRIAGE_TIMEZONE"):
            values["timezone"] = env["TRIAGE_TIMEZONE"]
        if env.get("TRIAGE_SECURE_COOKIES"):
            values["secure_cookies"] = env["TRIAGE_SECURE_COOKIES"].lower() in {"1", "true", "yes"}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def today(self) -> dt.date:
        """Today's date in the city's time zone (the date reports and indicators count in)."""
        return dt.datetime.now(ZoneInfo(self.timezone)).date()

    def validated(self) -> Settings:
        """Return settings ready to serve, or raise ``SettingsError`` when they are unsafe.

        Production refuses a missing or weak secret key; other modes get a random one per
        process start when none is given (sessions then end when the process restarts).
        """
        if self.mode not in {"demo", "development", "production"}:
            raise SettingsError(
                f"TRIAGE_MODE must be demo, development or production, not {self.mode!r}"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"TRIAGE_TIMEZONE {self.timezone!r} is not a time zone (e.g. America/New_York)."
            ) from None
        if self.mode == "production":
            key = self.secret_key
            if key.lower() in WEAK_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
                raise SettingsError(
                    "Production mode needs a strong SECRET_KEY (at least "
                    f"{MIN_SECRET_KEY_LENGTH} random characters), e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
                )
            return self
        if not self.secret_key:
            return replace(self, secret_key=secrets.token_urlsafe(48))
        return self
