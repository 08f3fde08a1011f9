"""Application settings: one frozen value built once from the environment and passed down."""

from __future__ import annotations

import datetime as dt
import math
import os
import secrets
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = REPO_ROOT / "instance"
MIN_SECRET_KEY_LENGTH = 32
WEAK_SECRET_KEYS = frozenset({"", "dev", "secret", "changeme", "change-me", "development"})
# token_urlsafe(32) or token_hex(32) always clear this estimate; 36 x "a" or a repeated word
# never do, however long.
MIN_SECRET_KEY_BITS = 128
ZLIB_FRAME_BYTES = 8  # zlib's header and checksum around an empty stream
MAX_PROXY_HOPS = 5


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message says which and what to do."""


def parse_today(text: str) -> dt.date:
    """``TRIAGE_TODAY`` as a date (``YYYY-MM-DD``), or ``SettingsError`` saying what was wrong."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise SettingsError(
            f"TRIAGE_TODAY must be a date written YYYY-MM-DD (e.g. 2026-11-18), not {text!r}."
        ) from None
    if not 1990 <= day.year <= 2199:
        raise SettingsError(f"TRIAGE_TODAY {text!r} is outside the years 1990 to 2199.")
    return day


def default_database_url(instance_dir: Path = DEFAULT_INSTANCE_DIR) -> str:
    """The embedded default: a SQLite file under ``instance/``."""
    return f"sqlite:///{instance_dir / 'triage.sqlite3'}"


def _estimated_bits(data: bytes) -> float:
    """Shannon bits per symbol times the symbols zlib could not express as repeats."""
    counts = Counter(data)
    per_symbol = -sum(c / len(data) * math.log2(c / len(data)) for c in counts.values())
    novel = min(len(data), max(0, len(zlib.compress(data, 9)) - ZLIB_FRAME_BYTES))
    return per_symbol * novel


def secret_key_entropy_bits(key: str) -> float:
    """A rough, conservative estimate of how many random bits a key holds.

    Taken on the characters and on the steps between neighbours (so that ``abcd...`` and
    ``0123...`` count as little as ``aaaa...``), keeping the smaller; characters are reduced
    modulo 256, which can only lower the estimate.
    """
    codes = [ord(ch) for ch in key]
    if len(codes) < 2:
        return 0.0
    characters = bytes(code % 256 for code in codes)
    steps = bytes((b - a) % 256 for a, b in pairwise(codes))
    return min(_estimated_bits(characters), _estimated_bits(steps))


@dataclass(frozen=True)
class Settings:
    """Everything the app, the CLI and the jobs need to know about their environment.

    ``mode`` is ``demo`` (seeded users are printed, an ephemeral secret key is allowed),
    ``development`` or ``production`` (a strong ``SECRET_KEY`` is required).
    """

    database_url: str = field(default_factory=default_database_url)
    mode: str = "demo"
    secret_key: str = ""
    city_name: str = "Your city"  # the stored city pack's name replaces it (adopt_city)
    timezone: str = "America/New_York"
    max_upload_bytes: int = 5 * 1024 * 1024
    login_max_failures: int = 5
    login_window_seconds: int = 900
    secure_cookies: bool = False
    proxy_hops: int = 0  # trusted reverse proxies in front of the app (X-Forwarded-For)
    run_scheduler_in_process: bool = False
    today_override: dt.date | None = None
    fiscal_year_start: int = 7  # month the city's fiscal year starts (TRIAGE_FISCAL_YEAR_START)
    # Fields the environment set (``from_env``): they win over the stored city's values.
    pinned: frozenset[str] = frozenset()

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
        if env.get("TRIAGE_TODAY"):
            values["today_override"] = parse_today(env["TRIAGE_TODAY"])
        if env.get("TRIAGE_SECURE_COOKIES"):
            values["secure_cookies"] = env["TRIAGE_SECURE_COOKIES"].lower() in {"1", "true", "yes"}
        if env.get("TRIAGE_PROXY_HOPS"):
            hops = env["TRIAGE_PROXY_HOPS"].strip()
            if not hops.isdigit():
                raise SettingsError(
                    f"TRIAGE_PROXY_HOPS must be a whole number of proxies (e.g. 1), not {hops!r}."
                )
            values["proxy_hops"] = int(hops)
        if env.get("TRIAGE_FISCAL_YEAR_START"):
            month = env["TRIAGE_FISCAL_YEAR_START"].strip()
            if not month.isdigit() or not 1 <= int(month) <= 12:
                raise SettingsError(
                    f"TRIAGE_FISCAL_YEAR_START must be a month number, 1 to 12, not {month!r}."
                )
            values["fiscal_year_start"] = int(month)
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["pinned"] = frozenset(
            name for name in ("city_name", "timezone", "fiscal_year_start") if name in values
        )
        return cls(**values)  # type: ignore[arg-type]

    def adopt_city(self, stored: Mapping[str, Any] | None) -> Settings:
        """These settings with the city's name, time zone and fiscal year taken from the city
        pack the database holds (``triage city import`` stores them), wherever the environment
        did not set them: the pages then say "New York City", not the demo's name.

        A value counts as set when it differs from the default (``TRIAGE_CITY_NAME``,
        ``TRIAGE_TIMEZONE``, ``TRIAGE_FISCAL_YEAR_START``, or a keyword); an explicit value wins.
        """
        if not stored:
            return self
        defaults = Settings.__dataclass_fields__
        changes: dict[str, Any] = {}
        for field_name, key in (
            ("city_name", "name"),
            ("timezone", "timezone"),
            ("fiscal_year_start", "fiscal_year_start"),
        ):
            value = stored.get(key)
            if value in (None, "") or field_name in self.pinned:
                continue
            if getattr(self, field_name) == defaults[field_name].default:
                changes[field_name] = value
        return replace(self, **changes) if changes else self

    def today(self) -> dt.date:
        """Today's date in the city's time zone (the date reports and indicators count in).

        ``TRIAGE_TODAY`` pins it for a demo or a test run; production refuses that setting.
        """
        if self.today_override is not None:
            return self.today_override
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
        if not 0 <= self.proxy_hops <= MAX_PROXY_HOPS:
            raise SettingsError(
                f"TRIAGE_PROXY_HOPS must be 0 (no proxy) to {MAX_PROXY_HOPS}, not "
                f"{self.proxy_hops}."
            )
        if self.mode == "production":
            if self.today_override is not None:
                raise SettingsError(
                    "TRIAGE_TODAY pins the city's date for demos and tests only; unset it in "
                    "production, where today is read from the clock in TRIAGE_TIMEZONE."
                )
            key = self.secret_key
            if (
                key.lower() in WEAK_SECRET_KEYS
                or len(key) < MIN_SECRET_KEY_LENGTH
                or secret_key_entropy_bits(key) < MIN_SECRET_KEY_BITS
            ):
                raise SettingsError(
                    "Production mode needs a strong SECRET_KEY (at least "
                    f"{MIN_SECRET_KEY_LENGTH} random characters, not a pattern or a repeated "
                    "word), e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
                )
            return self
        if not self.secret_key:
            return replace(self, secret_key=secrets.token_urlsafe(48))
        return self
