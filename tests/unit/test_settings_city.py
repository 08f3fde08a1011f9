"""The stored city pack names the city, its time zone and fiscal year, unless the environment
set them: a city from zero must not be called by the demo's name."""

from __future__ import annotations

from triage.settings import Settings

NYC = {"name": "New York City", "timezone": "America/New_York", "fiscal_year_start": 7}
CHICAGO = {"name": "Chicago", "timezone": "America/Chicago", "fiscal_year_start": 1}


def test_city001_defaults_give_way_to_the_stored_city() -> None:
    settings = Settings().adopt_city(CHICAGO)
    assert (settings.city_name, settings.timezone, settings.fiscal_year_start) == (
        "Chicago",
        "America/Chicago",
        1,
    )


def test_city002_nothing_stored_keeps_a_neutral_name() -> None:
    assert Settings().adopt_city(None).city_name == "Your city"
    assert Settings().adopt_city({}).city_name == "Your city"


def test_city003_the_environment_wins_even_when_it_names_the_default() -> None:
    env = {"TRIAGE_CITY_NAME": "Gotham", "TRIAGE_TIMEZONE": "America/New_York"}
    settings = Settings.from_env(env).adopt_city(CHICAGO)
    assert settings.city_name == "Gotham"
    assert settings.timezone == "America/New_York"  # pinned, although it equals the default
    assert settings.fiscal_year_start == 1  # not set in the environment: the city's


def test_city004_keyword_values_count_as_set() -> None:
    settings = Settings(city_name="Springfield").adopt_city(NYC)
    assert settings.city_name == "Springfield" and settings.timezone == "America/New_York"


def test_city005_a_blank_stored_value_is_ignored() -> None:
    settings = Settings().adopt_city({"name": "", "timezone": None, "fiscal_year_start": 4})
    assert settings.city_name == "Your city" and settings.fiscal_year_start == 4


def test_city006_reading_the_stored_city_never_creates_a_database(tmp_path) -> None:
    from db.city_settings import adopt_stored_city

    missing = tmp_path / "nothing-here.sqlite3"
    settings = adopt_stored_city(Settings(database_url=f"sqlite:///{missing}"))
    assert settings.city_name == "Your city" and not missing.exists()
