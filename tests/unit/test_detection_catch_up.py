"""Surge detector: reports caught up after a holiday or an outage are not a surge (issue 11)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from triage.detection import SurgeConfig, detect_surges

START = np.datetime64("2022-01-03")  # a Monday


def panel(counts: np.ndarray, names: list[str]) -> pd.DataFrame:
    n, days = counts.shape
    return pd.DataFrame(
        {
            "series": np.repeat(names, days),
            "date": np.tile(START + np.arange(days), n).astype("datetime64[s]"),
            "value": counts.reshape(-1).astype(float),
        }
    )


def day_of(frame: pd.DataFrame) -> np.ndarray:
    return (frame["date"].to_numpy().astype("datetime64[D]") - START).astype(int)


def office_with_holidays(seed: int, days: int = 1100) -> tuple[np.ndarray, np.ndarray]:
    """A busy office (60 a day) closed on a Monday and Tuesday now and then, the missed
    reports entered Wednesday to Friday, plus 30 ordinary categories (1-30 a day)."""
    rng = np.random.default_rng(seed)
    rate = np.full((31, days), 60.0)
    rate[1:] = np.exp(rng.uniform(np.log(1.0), np.log(30.0), 30))[:, None]
    holidays = np.arange(105, days - 14, 63)  # every nine weeks, always a Monday
    assert (holidays % 7 == 0).all()
    for day in holidays:
        rate[0, day + 2 : day + 5] += 0.95 * 2 * rate[0, day] / 3  # Wednesday-Friday
        rate[0, day : day + 2] *= 0.05
    return rng.poisson(rate).astype(float), holidays


def test_detc001_a_week_of_catch_up_after_a_closed_day_does_not_alert() -> None:
    counts, holidays = office_with_holidays(21)
    names = ["office"] + [f"c{i:02d}" for i in range(30)]
    scored = holidays[holidays > 400]
    # The days whose 7-day window holds the caught-up reports but not (all) the closed days.
    after = (scored[:, None] + np.arange(7, 11)[None, :]).ravel()
    mine = day_of(detect_surges(panel(counts, names), daily=True).query("series == 'office'"))
    # One of the 11 scored holidays still alerts, on 2 days: the week 990-996 held 536 reports
    # against 408 expected, 81 of them caught up (Thursday and Friday) and 47 more on top, and
    # the week before was measured 49 short (76 by construction), so 61 % of the excess is left
    # after the deficit, over the rule's half. (Before round 4 of issue 11 item 4 the week
    # expected 416 from its 84-day baseline, the deficit read 60, and the rule held at 49.9 %.)
    assert [h for h in scored if np.isin(mine, h + np.arange(7, 11)).any()] == [987]
    assert np.isin(mine, after).sum() == 2
    # Without the rule (catch_up_share 0) the catch-up weeks of all 11 holidays alert: the
    # test has teeth.
    plain = detect_surges(panel(counts, names), SurgeConfig(catch_up_share=0.0), daily=True)
    plain_days = day_of(plain.query("series == 'office'"))
    assert np.isin(plain_days, after).sum() == 17
    assert all(np.isin(plain_days, h + np.arange(7, 11)).any() for h in scored)


def test_detc002_a_surge_after_a_quiet_week_still_alerts() -> None:
    counts, holidays = office_with_holidays(22)
    names = ["office"] + [f"c{i:02d}" for i in range(30)]
    # A busy series: a real step that follows an ordinary week.
    step = 1020
    counts[0, step:] += np.random.default_rng(5).poisson(30.0, counts.shape[1] - step)
    # A sparse series (0.5 a day) that had a dry week, then a storm: a dry week on a sparse
    # series is no deficit to speak of (SurgeConfig.catch_up_min_expected).
    rng = np.random.default_rng(6)
    sparse = rng.poisson(0.5, counts.shape[1]).astype(float)
    storm = 950
    sparse[storm - 7 : storm] = 0.0
    sparse[storm] = 12.0
    counts = np.vstack([counts, sparse])
    alerts = detect_surges(panel(counts, [*names, "sewer"]), daily=True)
    office = day_of(alerts.query("series == 'office'"))
    assert ((office >= step) & (office < step + 7)).any()
    assert storm in day_of(alerts.query("series == 'sewer'"))
    assert not np.isin(step, holidays + np.arange(0, 14)[:, None])  # not after a holiday
