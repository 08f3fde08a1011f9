"""Early warning: surges in report counts, indicator signals, false-discovery control, episodes.

Pure functions over pandas DataFrames (no Dash, Flask or database); each states its columns.
The package is split by job: :mod:`.surges` (with its configuration, shape model, statistics
and messages), :mod:`.categories`, :mod:`.indicator_rules` and :mod:`.lifecycle`; this module
re-exports their public names (and the alert states and severities of
:mod:`triage.vocabulary`), so importers use ``triage.detection`` alone.
"""

from __future__ import annotations

from triage.detection.categories import (
    detect_new_categories,
    report_count_series,
    report_series_key,
)
from triage.detection.common import ALERT_COLUMNS, ALERT_KINDS, EPOCH
from triage.detection.indicator_rules import (
    _with_unit,
    detect_deterioration,
    detect_indicator_alerts,
    detect_seasonal_anomalies,
    detect_stale_indicators,
    detect_threshold_breaches,
    indicator_series_key,
    latest_observations,
)
from triage.detection.lifecycle import (
    ALERT_TRANSITIONS,
    EPISODE_COLUMNS,
    OPEN_STATES,
    AlertChanges,
    AlertTransitionError,
    alert_episodes,
    check_alert_transition,
    dedupe_key,
    plan_alert_changes,
)
from triage.detection.surge_config import SurgeConfig, surge_method
from triage.detection.surge_messages import _surge_messages, surge_message
from triage.detection.surge_stats import (
    _level_scaled_phi,
    _simes,
    _skew_adjusted,
    benjamini_hochberg,
)
from triage.detection.surges import _grids, detect_surges, infer_periods
from triage.vocabulary import ALERT_STATES, SEVERITIES

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_KINDS",
    "ALERT_STATES",
    "ALERT_TRANSITIONS",
    "EPISODE_COLUMNS",
    "EPOCH",
    "OPEN_STATES",
    "SEVERITIES",
    "AlertChanges",
    "AlertTransitionError",
    "SurgeConfig",
    "_grids",
    "_level_scaled_phi",
    "_simes",
    "_skew_adjusted",
    "_surge_messages",
    "_with_unit",
    "alert_episodes",
    "benjamini_hochberg",
    "check_alert_transition",
    "dedupe_key",
    "detect_deterioration",
    "detect_indicator_alerts",
    "detect_new_categories",
    "detect_seasonal_anomalies",
    "detect_stale_indicators",
    "detect_surges",
    "detect_threshold_breaches",
    "indicator_series_key",
    "infer_periods",
    "latest_observations",
    "plan_alert_changes",
    "report_count_series",
    "report_series_key",
    "surge_message",
    "surge_method",
]
