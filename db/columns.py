"""Groups of columns that several queries read, each named once: frame column -> table column.

Unpack ``.values()`` into a ``select`` and pass ``list(group)`` as the frame's columns.
"""

from __future__ import annotations

from typing import Any

from db.models import Alert, CausalFactor, Engagement, Indicator

__all__ = [
    "ALERT_EPISODE",
    "ALERT_HEAD",
    "ALERT_LINKS",
    "ENGAGEMENT",
    "FACTOR",
    "INDICATOR",
    "INDICATOR_TARGETS",
]

# Which alert it is: what kind, found how, how loud, on which series.
ALERT_HEAD: dict[str, Any] = {
    "id": Alert.id,
    "kind": Alert.kind,
    "method": Alert.method,
    "severity": Alert.severity,
    "series": Alert.series_key,
}
# What an alert is about (any of them may be None).
ALERT_LINKS: dict[str, Any] = {
    "indicator_id": Alert.indicator_id,
    "category_id": Alert.category_id,
    "district_id": Alert.district_id,
    "problem_id": Alert.problem_id,
}

# What an alert saw and says: its span, the expected band and the observed value.
ALERT_EPISODE: dict[str, Any] = {
    "first_detected": Alert.first_detected,
    "last_detected": Alert.last_detected,
    "expected": Alert.expected,
    "lower": Alert.lower,
    "upper": Alert.upper,
    "observed": Alert.observed,
    "message": Alert.message,
    "state": Alert.state,
}

# A causal factor as the scoring and the map analytics read it.
FACTOR: dict[str, Any] = {
    "id": CausalFactor.id,
    "problem_id": CausalFactor.problem_id,
    "title": CausalFactor.title,
    "reach": CausalFactor.reach,
    "evidence": CausalFactor.evidence,
    "weight": CausalFactor.weight,
    "indicator_id": CausalFactor.indicator_id,
}

# An actor's engagement on a problem (or one of its factors) as the scoring reads it.
ENGAGEMENT: dict[str, Any] = {
    "id": Engagement.id,
    "actor_id": Engagement.actor_id,
    "problem_id": Engagement.problem_id,
    "factor_id": Engagement.factor_id,
    "role": Engagement.role,
    "stance": Engagement.stance,
    "committed_funding": Engagement.committed_funding,
}

# An indicator: what it measures, which way is better and how often it is reported.
INDICATOR: dict[str, Any] = {
    "id": Indicator.id,
    "code": Indicator.code,
    "name": Indicator.name,
    "unit": Indicator.unit,
    "direction": Indicator.direction,
    "cadence": Indicator.cadence,
}
# Where an indicator should be, and where it warns and turns critical.
INDICATOR_TARGETS: dict[str, Any] = {
    "target": Indicator.target,
    "warning_threshold": Indicator.warning_threshold,
    "critical_threshold": Indicator.critical_threshold,
}
