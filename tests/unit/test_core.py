"""Pure rules: roles and capabilities, password hashing, input validation, settings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.security import (
    CAPABILITY_ROLES,
    Capability,
    PermissionDenied,
    Principal,
    Role,
    hash_password,
    require,
    require_department,
    role_allows,
    validate_password,
    verify_password,
)
from triage.settings import Settings, SettingsError
from triage.validation import ValidationError, parse_value, validate_observation

TODAY = dt.date(2026, 11, 23)


def test_sec001_capability_table_is_total_and_public_is_empty() -> None:
    assert set(CAPABILITY_ROLES) == set(Capability)
    assert CAPABILITY_ROLES[Capability.PUBLIC] == frozenset()
    assert all(role_allows(role, Capability.VIEW_CITY) for role in Role)


@pytest.mark.parametrize(
    ("role", "capability", "allowed"),
    [
        (Role.DEPARTMENT_HEAD, Capability.MANAGE_USERS, False),
        (Role.DEPARTMENT_HEAD, Capability.UPDATE_INDICATORS, True),
        (Role.DEPARTMENT_HEAD, Capability.DECIDE, False),
        (Role.MAYOR, Capability.DECIDE, True),
        (Role.MAYOR, Capability.EDIT_PROBLEMS, False),
        (Role.ANALYST, Capability.UPDATE_INDICATORS, False),
        (Role.ADMIN, Capability.MANAGE_USERS, True),
        ("emperor", Capability.VIEW_CITY, False),
    ],
)
def test_sec002_role_allows(role: Role | str, capability: Capability, allowed: bool) -> None:
    assert role_allows(role, capability) is allowed


def test_sec003_require_and_department_scope() -> None:
    head = Principal(3, "head-prk", Role.DEPARTMENT_HEAD, department_id=4)
    with pytest.raises(PermissionDenied, match="Department head accounts may not manage users"):
        require(head, Capability.MANAGE_USERS)
    require(head, Capability.UPDATE_INDICATORS)
    require_department(head, 4)
    with pytest.raises(PermissionDenied, match="own department"):
        require_department(head, 5)
    with pytest.raises(PermissionDenied):
        require_department(Principal(9, "orphan", Role.DEPARTMENT_HEAD, None), None)
    require_department(Principal(1, "chief", Role.CHIEF_OF_STAFF), 5)


def test_sec004_password_hash_round_trip_and_salt() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second and first.startswith("scrypt$32768$8$1$")
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse batterY")
    assert not verify_password(None, "")
    assert not verify_password("md5$abc", "x")
    assert not verify_password("scrypt$x$y$z$!!$!!", "x")


@pytest.mark.parametrize("weak", ["short", "aaaaaaaaaaaaaa", " padded-password-1 "])
def test_sec005_weak_passwords_refused(weak: str) -> None:
    with pytest.raises(ValueError):
        validate_password(weak)


def test_set001_production_needs_strong_secret() -> None:
    for key in ["", "dev", "x" * 10]:
        with pytest.raises(SettingsError, match="strong SECRET_KEY"):
            Settings(mode="production", secret_key=key).validated()
    strong = "Zq7-vR2mXw9LpT4sBn8KcY1uHe6GdJ3aFo5QiW0tEzUx"  # a random token, as documented
    assert Settings(mode="production", secret_key=strong).validated().secret_key == strong
    demo = Settings(mode="demo").validated()
    assert len(demo.secret_key) >= 48
    with pytest.raises(SettingsError, match="TRIAGE_MODE"):
        Settings(mode="prod").validated()


def test_set002_from_env_reads_variables_and_overrides_win() -> None:
    env = {
        "TRIAGE_DATABASE_URL": "postgresql://db/triage",
        "TRIAGE_MODE": "production",
        "SECRET_KEY": "s" * 40,
        "TRIAGE_SECURE_COOKIES": "true",
    }
    settings = Settings.from_env(env)
    assert (settings.database_url, settings.mode, settings.secure_cookies) == (
        "postgresql://db/triage",
        "production",
        True,
    )
    assert Settings.from_env(env, database_url="sqlite://").database_url == "sqlite://"
    assert Settings.from_env({}).database_url.endswith("instance/triage.sqlite3")


def test_val001_observation_clean_values() -> None:
    clean = validate_observation("%", "2026-10-31", " 10.5 ", "at_risk", "  note  ", TODAY)
    assert (clean.period, clean.value, clean.status, clean.note) == (
        dt.date(2026, 10, 31),
        10.5,
        "at_risk",
        "note",
    )
    assert (
        validate_observation("count", dt.datetime(2026, 1, 2, 5), 7, "", None, TODAY).status is None
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [("1,234.5", 1234.5), ("-12,000", -12000.0), (3, 3.0), ("1e3", 1000.0)]
)
def test_val004_parse_value_accepts(raw: object, expected: float) -> None:
    assert parse_value(raw) == expected


@pytest.mark.parametrize("raw", ["10,5", "1,23", "1,2345.0", "", True, "inf", "2e12"])
def test_val005_parse_value_rejects_ambiguous_or_absurd(raw: object) -> None:
    with pytest.raises(ValidationError):
        parse_value(raw)


@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.none()))
def test_val002_parse_value_only_raises_validation_error(raw: object) -> None:
    try:
        value = parse_value(raw)
    except ValidationError:
        return
    assert isinstance(value, float) and abs(value) <= 1e12


@given(st.text(max_size=40), st.text(max_size=40), st.one_of(st.none(), st.text(max_size=12)))
def test_val003_validate_observation_only_raises_validation_error(
    period: str, value: str, status: str | None
) -> None:
    try:
        clean = validate_observation("%", period, value, status, "", TODAY)
    except ValidationError as exc:
        assert str(exc)
        return
    assert dt.date(1990, 1, 1) <= clean.period <= TODAY and 0 <= clean.value <= 100


def test_set003_time_zone_is_checked_and_gives_the_city_date() -> None:
    with pytest.raises(SettingsError, match="not a time zone"):
        Settings(timezone="Mars/Olympus").validated()
    kiritimati, samoa = (
        Settings(timezone="Pacific/Kiritimati"),
        Settings(timezone="Pacific/Pago_Pago"),
    )
    # UTC+14 and UTC-11 are a day apart whatever the hour.
    assert (kiritimati.today() - samoa.today()).days == 1


def test_set004_triage_today_pins_the_city_date_outside_production() -> None:
    pinned = Settings.from_env({"TRIAGE_TODAY": "2027-02-28", "TRIAGE_TIMEZONE": "Asia/Tokyo"})
    assert pinned.today() == dt.date(2027, 2, 28)
    assert pinned.validated().today() == dt.date(2027, 2, 28)
    assert Settings.from_env({}).today_override is None
    for bad in ("28/02/2027", "2027-02-30", "tomorrow", "1850-01-01"):
        with pytest.raises(SettingsError, match="TRIAGE_TODAY"):
            Settings.from_env({"TRIAGE_TODAY": bad})
    production = Settings.from_env(
        {"TRIAGE_TODAY": "2027-02-28", "TRIAGE_MODE": "production", "SECRET_KEY": "x" * 64}
    )
    with pytest.raises(SettingsError, match="demos and tests only"):
        production.validated()
