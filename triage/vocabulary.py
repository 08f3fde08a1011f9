"""The project's vocabularies, their words for people, and limits, each defined once: the
database's check constraints, the validators, the pages and the jobs all import them from here.

Pure constants (no imports from ``db``, Dash or Flask); ``tests/unit/test_vocabulary.py``
fails if any of them is written out again elsewhere.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who a user is; ``triage.security`` says what each role may do."""

    MAYOR = "mayor"
    CHIEF_OF_STAFF = "chief_of_staff"
    DEPARTMENT_HEAD = "department_head"
    ANALYST = "analyst"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(role.value for role in Role)

# Problems and their indicators.
PROBLEM_STATUSES = ("watch", "emerging", "focus", "monitoring", "resolved")
# The same statuses in the order lists show them: the ones needing attention first.
PROBLEM_STATUSES_BY_ATTENTION = ("focus", "emerging", "watch", "monitoring", "resolved")
# Problems still open (ranked each week, counted on the actors pages): every status but resolved.
OPEN_PROBLEM_STATUSES = ("watch", "emerging", "focus", "monitoring")
# A status's place in that order (lists sort problems needing attention first).
PROBLEM_STATUS_RANK: dict[str, int] = {
    status: rank for rank, status in enumerate(PROBLEM_STATUSES_BY_ATTENTION)
}
# What a title or name shows once its record is archived (it keeps its history).
ARCHIVED_MARK = " (archived)"
DIRECTIONS = ("up", "down")  # which way is better
CADENCES = ("weekly", "monthly", "quarterly", "annual")
INDICATOR_STATUSES = ("on_track", "at_risk", "off_track")
# Units read as percentages: differences between them are points.
PERCENT_UNITS = frozenset({"%", "percent", "pct"})

# The backward map: how far the city reaches a factor, and how strong the evidence is.
REACHES = ("controls", "influences", "outside")
EVIDENCE_LEVELS = ("strong", "moderate", "weak", "anecdotal")
# The 0-5 scale of a problem's authority and political capital, in words.
SCALE_WORDS = ("none", "very little", "some", "moderate", "strong", "full")
# What the drill-down's edit forms change, in the order the forms show them; the writes in
# ``db.problems`` and ``db.backward_map`` refuse any other field.
PROBLEM_FORM_FIELDS = (
    "title",
    "status",
    "description",
    "desired_outcome",
    "authority",
    "authority_notes",
    "political_capital",
    "political_notes",
)
FACTOR_FORM_FIELDS = (
    "title",
    "description",
    "reach",
    "evidence",
    "weight",
    "parent_ids",
    "indicator_id",
)
ENGAGEMENT_FORM_FIELDS = (
    "actor_id",
    "factor_id",
    "role",
    "stance",
    "committed_funding",
    "last_contact",
    "authorisation",
    "strings",
)
INNOVATION_FORM_FIELDS = (
    "title",
    "origin",
    "kind",
    "stage",
    "lead_actor_id",
    "evidence",
    "cost",
    "description",
    "evidence_note",
)
# The records an admin edits one by one on City setup (a city pack's files hold the same).
CATALOGUE_KINDS = ("department", "indicator", "problem", "actor")

# Actors' sectors. The six the method names first, in its order; labour, faith and media
# complete the nine. ``SECTORS`` is the stored order (the database's check constraint);
# ``ALL_SECTORS`` the same nine in the method's order, for pages and reports.
CORE_SECTORS: tuple[str, ...] = (
    "elected_political",
    "government_agency",
    "philanthropic",
    "corporate_civic",
    "community",
    "nonprofit_social_enterprise",
)
SECTORS: tuple[str, ...] = (
    "government_agency",
    "elected_political",
    "philanthropic",
    "corporate_civic",
    "community",
    "nonprofit_social_enterprise",
    "labour",
    "faith",
    "media",
)
ALL_SECTORS: tuple[str, ...] = (*CORE_SECTORS, *(s for s in SECTORS if s not in CORE_SECTORS))
# The sectors in words for people: mid-sentence ("no faith groups engaged") and as labels.
SECTOR_WORDS: dict[str, str] = {
    "elected_political": "political/elected",
    "government_agency": "government agencies",
    "philanthropic": "philanthropy",
    "corporate_civic": "corporate/civic",
    "community": "community groups",
    "nonprofit_social_enterprise": "nonprofits/social enterprise",
    "labour": "labour",
    "faith": "faith groups",
    "media": "media",
}
SECTOR_LABELS: dict[str, str] = {s: w[:1].upper() + w[1:] for s, w in SECTOR_WORDS.items()}
ENGAGEMENT_ROLES = ("funding", "delivering", "advocating", "authorising", "convening")
STANCES = ("complementary", "competing", "indifferent")
INNOVATION_ORIGINS = ("tested_elsewhere", "home_grown", "reclaimed", "wholly_new")
INNOVATION_TYPES = (
    "new_service",
    "cheaper_method",
    "higher_quality",
    "new_resource_flow",
    "coordination",
)
INNOVATION_STAGES = ("idea", "pilot", "evaluating", "scaling", "retired")

# Alerts: their life cycle and how loud they are (quietest first).
ALERT_STATES = ("new", "acknowledged", "linked", "resolved", "dismissed")
OPEN_ALERT_STATES = ("new", "acknowledged", "linked")
SEVERITIES = ("info", "warning", "critical")
SEVERITY_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}

# The office's weekly decision on a problem.
DECISIONS = ("focus", "delegate", "convene", "monitor", "drop")
DECISION_WORDS: dict[str, str] = {
    "focus": "Focus",
    "delegate": "Delegate",
    "convene": "Convene others",
    "monitor": "Monitor",
    "drop": "Drop",
}

# Data sources and scheduled-job runs.
SOURCE_KINDS = ("open311", "csv", "indicators")
JOB_OUTCOMES = ("running", "success", "error", "skipped")

# How long the housekeeping job keeps records that grow with use (the audit log is never pruned).
LOGIN_ATTEMPT_RETENTION_DAYS = 90  # sign-in attempts, kept for a security review
ENDED_SESSION_RETENTION_DAYS = 30  # signed-out or expired browser sessions
JOB_RUN_RETENTION_DAYS = 180  # job runs older than this go, but each job keeps its last ones
JOB_RUNS_KEPT_PER_JOB = 20

# Limits on what people type.
NOTE_LIMIT = 2000  # characters in a decision or status note
TITLE_LENGTH = 200  # characters in a problem's or an alert's title (the column's width)
