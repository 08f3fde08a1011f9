"""Every component ID in the app, kebab-case ``<page>-<thing>-<kind>``, plus pattern-ID helpers.

Layouts and callbacks import IDs from here only, so a renamed component cannot drift apart.
"""

from __future__ import annotations

from typing import Any

# Shell (navigation bar, main landmark, sign-out form)
SHELL_SKIP_LINK = "shell-skip-link"
SHELL_HEADER = "shell-top-header"
SHELL_NAV = "shell-main-nav"
SHELL_MAIN = "shell-main-region"
SHELL_USER_TEXT = "shell-user-text"
SHELL_ROLE_BADGE = "shell-role-badge"
SHELL_LOGOUT_FORM = "shell-logout-form"
SHELL_CSRF_INPUT = "shell-csrf-input"
SHELL_LOGOUT_BUTTON = "shell-logout-button"

# A fold whose content is sent with the page but drawn only when the fold is first opened (a
# chart's table of numbers, an actor's engagements): pattern-matching ids ``{"type": ...,
# "key": ...}`` for the fold, the content's place in it, and the content as JSON text.
LAZY_FOLD = "lazy-fold-details"
LAZY_FOLD_BODY = "lazy-fold-body"
LAZY_FOLD_STORE = "lazy-fold-store"
# A chart sent with the page but drawn only when it first comes near the screen
# (``layouts.components.deferred``): its place, its content as JSON text, and the store that
# ``assets/deferred.js`` sets when the place scrolls into view.
DEFERRED_BODY = "deferred-chart-body"
DEFERRED_STORE = "deferred-chart-store"
DEFERRED_SEEN = "deferred-chart-seen"

# Home: the city's problems
HOME_PAGE_STORE = "home-page-store"
HOME_AREA_SELECT = "home-area-select"
HOME_STATUS_SELECT = "home-status-select"
HOME_KPI_DIV = "home-kpi-div"
HOME_TABLE_DIV = "home-problems-div"
HOME_QUERY_STORE = "home-query-store"

# Weekly priorities (the landing page): week and filters in ``?week=&show=``, decision dialog
PRIORITIES_PAGE_STORE = "priorities-page-store"
PRIORITIES_QUERY_STORE = "priorities-query-store"
PRIORITIES_SAVED_STORE = "priorities-saved-store"
PRIORITIES_LOCATION = "priorities-nav-location"
PRIORITIES_WEEK_SELECT = "priorities-week-select"
PRIORITIES_SHOW_SELECT = "priorities-show-select"
PRIORITIES_WEEK_NOTICE_DIV = "priorities-week-notice-div"
PRIORITIES_SUMMARY_DIV = "priorities-summary-div"
PRIORITIES_LIST_DIV = "priorities-list-div"
PRIORITIES_QUADRANT_GRAPH = "priorities-quadrant-graph"
PRIORITIES_QUADRANT_TEXT_DIV = "priorities-quadrant-text-div"
PRIORITIES_CHANGES_DIV = "priorities-changes-div"
PRIORITIES_CSV_BUTTON = "priorities-csv-button"
PRIORITIES_CSV_DOWNLOAD = "priorities-csv-download"
PRIORITIES_BRIEF_BUTTON = "priorities-brief-button"
PRIORITIES_BRIEF_DOWNLOAD = "priorities-brief-download"
PRIORITIES_DECISION_MODAL = "priorities-decision-modal"
PRIORITIES_DECISION_TITLE = "priorities-decision-title"
PRIORITIES_DECISION_CONTEXT_DIV = "priorities-decision-context-div"
PRIORITIES_DECISION_PROBLEM_STORE = "priorities-decision-problem-store"
# The decide button last clicked (a clientside relay, so drawing the buttons calls no server).
PRIORITIES_DECIDE_CLICK_STORE = "priorities-decide-click-store"
PRIORITIES_OPEN_CLICK_STORE = "priorities-open-click-store"
PRIORITIES_DECISION_RADIO = "priorities-decision-choice-radio"
PRIORITIES_DECISION_NOTE_TEXTAREA = "priorities-decision-note-textarea"
PRIORITIES_DECISION_SAVE_BUTTON = "priorities-decision-save-button"
PRIORITIES_DECISION_CANCEL_BUTTON = "priorities-decision-cancel-button"
PRIORITIES_DECISION_FEEDBACK_DIV = "priorities-decision-feedback-div"
PRIORITIES_DECISION_STATUS_DIV = "priorities-decision-status-div"
PRIORITIES_DECIDE_BUTTON_TYPE = "priorities-decide-button"
PRIORITIES_ATTENTION_DIV = "priorities-attention-div"
PRIORITIES_ATTENTION_FEEDBACK_DIV = "priorities-attention-feedback-div"
PRIORITIES_OPENED_STORE = "priorities-opened-store"
PRIORITIES_OPEN_PROBLEM_BUTTON_TYPE = "priorities-open-problem-button"

# One problem
PROBLEM_ID_STORE = "problem-id-store"
PROBLEM_BODY_DIV = "problem-body-div"
PROBLEM_INDICATOR_GRAPH_TYPE = "problem-indicator-graph"
# Drill-down: header, section tabs (kept in ``?tab=``), one panel per tab, the map graph
PROBLEM_VERSION_STORE = "problem-version-store"
PROBLEM_EDITOR_STORE = "problem-editor-store"
PROBLEM_TAB_STORE = "problem-tab-store"
PROBLEM_HEADER_DIV = "problem-header-div"
PROBLEM_SECTIONS_DIV = "problem-sections-div"
PROBLEM_TABS = "problem-section-tablist"
PROBLEM_OVERVIEW_DIV = "problem-overview-div"
PROBLEM_INDICATORS_DIV = "problem-indicators-div"
PROBLEM_REPORTS_DIV = "problem-reports-div"
PROBLEM_MAP_DIV = "problem-map-div"
PROBLEM_ACTORS_DIV = "problem-actors-div"
PROBLEM_INNOVATIONS_DIV = "problem-innovations-div"
PROBLEM_HISTORY_DIV = "problem-history-div"
PROBLEM_MAP_GRAPH_TYPE = "problem-map-graph"
PROBLEM_MAP_DETAIL_TYPE = "problem-map-detail-div"
# Drill-down editors (chief of staff): one panel per form; fields via ``problem_field``
PROBLEM_EDIT_PANEL = "problem-edit-panel-div"
PROBLEM_EDIT_SAVE_BUTTON = "problem-edit-save-button"
PROBLEM_EDIT_FEEDBACK_DIV = "problem-edit-feedback-div"
PROBLEM_EDIT_SAVED_STORE = "problem-edit-saved-store"
PROBLEM_FACTOR_PANEL = "problem-factor-panel-div"
PROBLEM_FACTOR_SELECT = "problem-factor-choice-select"
PROBLEM_FACTOR_SAVE_BUTTON = "problem-factor-save-button"
PROBLEM_FACTOR_REMOVE_CONFIRM = "problem-factor-remove-confirm"
PROBLEM_FACTOR_REMOVE_BUTTON = "problem-factor-remove-button"
PROBLEM_FACTOR_FEEDBACK_DIV = "problem-factor-feedback-div"
PROBLEM_FACTOR_SAVED_STORE = "problem-factor-saved-store"
PROBLEM_ENGAGEMENT_PANEL = "problem-engagement-panel-div"
PROBLEM_ENGAGEMENT_SELECT = "problem-engagement-choice-select"
PROBLEM_ENGAGEMENT_SAVE_BUTTON = "problem-engagement-save-button"
PROBLEM_ENGAGEMENT_REMOVE_CONFIRM = "problem-engagement-remove-confirm"
PROBLEM_ENGAGEMENT_REMOVE_BUTTON = "problem-engagement-remove-button"
PROBLEM_ENGAGEMENT_FEEDBACK_DIV = "problem-engagement-feedback-div"
PROBLEM_ENGAGEMENT_SAVED_STORE = "problem-engagement-saved-store"
PROBLEM_INNOVATION_PANEL = "problem-innovation-panel-div"
PROBLEM_INNOVATION_SELECT = "problem-innovation-choice-select"
PROBLEM_INNOVATION_SAVE_BUTTON = "problem-innovation-save-button"
PROBLEM_INNOVATION_REMOVE_CONFIRM = "problem-innovation-remove-confirm"
PROBLEM_INNOVATION_REMOVE_BUTTON = "problem-innovation-remove-button"
PROBLEM_INNOVATION_FEEDBACK_DIV = "problem-innovation-feedback-div"
PROBLEM_INNOVATION_SAVED_STORE = "problem-innovation-saved-store"

# My department
DEPARTMENT_PAGE_STORE = "department-page-store"
DEPARTMENT_SELECT = "department-dept-select"
DEPARTMENT_INDICATORS_DIV = "department-indicators-div"
DEPARTMENT_RECENT_DIV = "department-recent-div"
DEPARTMENT_INDICATOR_SELECT = "department-indicator-select"
DEPARTMENT_PERIOD_INPUT = "department-period-input"
DEPARTMENT_VALUE_INPUT = "department-value-input"
DEPARTMENT_STATUS_SELECT = "department-status-select"
DEPARTMENT_NOTE_TEXTAREA = "department-note-textarea"
DEPARTMENT_SAVE_BUTTON = "department-save-button"
DEPARTMENT_FEEDBACK_DIV = "department-feedback-div"
DEPARTMENT_SAVED_STORE = "department-saved-store"
DEPARTMENT_INDICATOR_DETAILS_DIV = "department-indicator-details-div"
DEPARTMENT_CONFIRM_STORE = "department-confirm-store"
DEPARTMENT_ALERTS_DIV = "department-alerts-div"
DEPARTMENT_ALERT_SELECT = "department-alert-select"
DEPARTMENT_ALERT_NOTE_TEXTAREA = "department-alert-note-textarea"
DEPARTMENT_ALERT_ACK_BUTTON = "department-alert-ack-button"
DEPARTMENT_ALERT_ANSWER_BUTTON = "department-alert-answer-button"
DEPARTMENT_ALERT_FEEDBACK_DIV = "department-alert-feedback-div"
DEPARTMENT_ALERT_CHANGED_STORE = "department-alert-changed-store"

# User administration
ADMIN_USERS_TABLE_DIV = "admin-users-table-div"
ADMIN_USERS_FEEDBACK_DIV = "admin-users-feedback-div"
ADMIN_USERS_CHANGED_STORE = "admin-users-changed-store"
ADMIN_USERS_TOGGLE_TYPE = "admin-users-toggle-button"

# Actors and funding
ACTORS_QUERY_STORE = "actors-query-store"
ACTORS_SECTOR_SELECT = "actors-sector-select"
ACTORS_SEARCH_INPUT = "actors-search-input"
ACTORS_MEASURE_RADIO = "actors-measure-radio"
ACTORS_MIN_SECTORS_SELECT = "actors-minsectors-select"
ACTORS_DIRECTORY_DIV = "actors-directory-div"
ACTORS_HEATMAP_DIV = "actors-heatmap-div"
ACTORS_SANKEY_DIV = "actors-sankey-div"
ACTORS_GAPS_DIV = "actors-gaps-div"
# The directory's pages (25 actors each): previous, next, which rows, the page shown.
ACTORS_PAGE_STORE = "actors-page-store"
ACTORS_PREV_BUTTON = "actors-prev-page-button"
ACTORS_NEXT_BUTTON = "actors-next-page-button"
ACTORS_PAGER_TEXT = "actors-pager-text"

# Citizen reports
REPORTS_PAGE_STORE = "reports-page-store"
REPORTS_QUERY_STORE = "reports-query-store"
REPORTS_CATEGORY_SELECT = "reports-category-select"
REPORTS_DISTRICT_SELECT = "reports-district-select"
REPORTS_PROBLEM_SELECT = "reports-problem-select"
REPORTS_FROM_INPUT = "reports-from-input"
REPORTS_TO_INPUT = "reports-to-input"
REPORTS_MEASURE_RADIO = "reports-measure-radio"
REPORTS_SUMMARY_DIV = "reports-summary-div"
REPORTS_TREND_DIV = "reports-trend-div"
REPORTS_CATEGORIES_DIV = "reports-categories-div"
REPORTS_DISTRICTS_DIV = "reports-districts-div"
REPORTS_RECENT_DIV = "reports-recent-div"

# Administration (tabs: users, scoring weights, category mapping, data sources and jobs)
ADMIN_TAB_NAV = "admin-tab-nav"
ADMIN_WEIGHTS_PAGE_STORE = "admin-weights-page-store"
ADMIN_WEIGHTS_COMPONENTS_STORE = "admin-weights-components-store"
ADMIN_WEIGHTS_SAVED_STORE = "admin-weights-saved-store"
ADMIN_WEIGHTS_INPUT_TYPE = "admin-weights-value-input"
ADMIN_WEIGHTS_FORM_DIV = "admin-weights-form-div"
ADMIN_WEIGHTS_PREVIEW_DIV = "admin-weights-preview-div"
ADMIN_WEIGHTS_SAVE_BUTTON = "admin-weights-save-button"
ADMIN_WEIGHTS_DEFAULTS_BUTTON = "admin-weights-defaults-button"
ADMIN_WEIGHTS_FEEDBACK_DIV = "admin-weights-feedback-div"
ADMIN_MAPPING_CHANGED_STORE = "admin-mapping-changed-store"
# The remove or edit button last clicked (clientside relays, as for the decide buttons).
ADMIN_MAPPING_REMOVE_CLICK_STORE = "admin-mapping-remove-click-store"
ADMIN_MAPPING_EDIT_CLICK_STORE = "admin-mapping-edit-click-store"
ADMIN_MAPPING_TABLE_DIV = "admin-mapping-table-div"
ADMIN_MAPPING_CATEGORY_SELECT = "admin-mapping-category-select"
ADMIN_MAPPING_PROBLEM_SELECT = "admin-mapping-problem-select"
ADMIN_MAPPING_WEIGHT_INPUT = "admin-mapping-weight-input"
ADMIN_MAPPING_SAVE_BUTTON = "admin-mapping-save-button"
ADMIN_MAPPING_FEEDBACK_DIV = "admin-mapping-feedback-div"
ADMIN_MAPPING_REMOVE_TYPE = "admin-mapping-remove-button"
ADMIN_MAPPING_EDIT_TYPE = "admin-mapping-edit-button"
ADMIN_SOURCES_PAGE_STORE = "admin-sources-page-store"
ADMIN_SOURCES_DIV = "admin-sources-table-div"
ADMIN_JOBS_DIV = "admin-jobs-table-div"


def admin_user_toggle(user_id: Any, action: Any) -> dict[str, Any]:
    """The enable/disable button of one user; ``action`` is ``"enable"`` or ``"disable"``.

    Pass ``dash.ALL`` for both to address the whole family in a callback.
    """
    return {"type": ADMIN_USERS_TOGGLE_TYPE, "index": user_id, "action": action}


def indicator_chart(indicator_id: Any) -> dict[str, Any]:
    """The history chart of one indicator on the problem page."""
    return {"type": PROBLEM_INDICATOR_GRAPH_TYPE, "index": indicator_id}


def problem_field(form: str, field: str) -> str:
    """A field of a problem-page editor: ``problem_field("factor", "title")`` →
    ``"problem-factor-title-field"`` (``form``: edit, factor, engagement or innovation)."""
    return f"problem-{form}-{field.replace('_', '-')}-field"


def problem_map_graph(problem_id: Any) -> dict[str, Any]:
    """The backward-map graph (Cytoscape) of one problem."""
    return {"type": PROBLEM_MAP_GRAPH_TYPE, "index": problem_id}


def problem_map_detail(problem_id: Any) -> dict[str, Any]:
    """The panel beside the graph that describes the node last selected."""
    return {"type": PROBLEM_MAP_DETAIL_TYPE, "index": problem_id}


def problem_tab_button(tab: str) -> str:
    """The tab (a button, ``role="tab"``) of one section of the problem page."""
    return f"problem-{tab}-tab-button"


def problem_tab_panel(tab: str) -> str:
    """The panel (``role="tabpanel"``) a problem-page tab shows."""
    return f"problem-{tab}-tab-panel"


def admin_weight_input(name: Any) -> dict[str, Any]:
    """The number input of one scoring weight (``name`` as in ``ScoringWeights.names()``)."""
    return {"type": ADMIN_WEIGHTS_INPUT_TYPE, "index": name}


def admin_mapping_button(kind: str, category_id: Any, problem_id: Any) -> dict[str, Any]:
    """The remove (``kind="remove"``) or edit (``"edit"``) button of one category mapping."""
    kind_type = ADMIN_MAPPING_REMOVE_TYPE if kind == "remove" else ADMIN_MAPPING_EDIT_TYPE
    return {"type": kind_type, "index": category_id, "problem": problem_id}


def priorities_decide_button(problem_id: Any) -> dict[str, Any]:
    """The "Record decision" button of one problem on the weekly priorities page."""
    return {"type": PRIORITIES_DECIDE_BUTTON_TYPE, "index": problem_id}


def priorities_open_problem_button(alert_id: Any) -> dict[str, Any]:
    """The "Open a problem" button of one uncovered surge on the attention list."""
    return {"type": PRIORITIES_OPEN_PROBLEM_BUTTON_TYPE, "index": alert_id}


# My department: bulk upload of indicator values (CSV or XLSX), preview, all-or-nothing commit.
DEPT_UPLOAD_FILE_UPLOAD = "department-upload-file-upload"
DEPT_UPLOAD_CHOOSE_BUTTON = "department-upload-choose-button"
DEPT_UPLOAD_HELP_TEXT = "department-upload-help-text"
DEPT_UPLOAD_GATE_STORE = "department-upload-gate-store"
DEPT_UPLOAD_SIZE_DIV = "department-upload-size-div"
DEPT_UPLOAD_TEMPLATE_BUTTON = "department-upload-template-button"
DEPT_UPLOAD_TEMPLATE_DOWNLOAD = "department-upload-template-download"
DEPT_UPLOAD_PREVIEW_DIV = "department-upload-preview-div"
DEPT_UPLOAD_DIGEST_STORE = "department-upload-digest-store"
DEPT_UPLOAD_COMMIT_BUTTON = "department-upload-commit-button"
DEPT_UPLOAD_REASON_TEXT = "department-upload-reason-text"
DEPT_UPLOAD_RESULT_DIV = "department-upload-result-div"
DEPT_UPLOAD_COMMITTED_STORE = "department-upload-committed-store"


# Early warnings: every filter in ``?severity=&department=&district=&category=&problem=&state=``
# plus the chosen alert in ``&alert=``; the evidence and the actions of the chosen alert
ALERTS_PAGE_STORE = "alerts-page-store"
ALERTS_QUERY_STORE = "alerts-query-store"
ALERTS_SELECTED_STORE = "alerts-selected-store"
ALERTS_FEED_PAGE_STORE = "alerts-feed-page-store"
ALERTS_PREV_BUTTON = "alerts-prev-page-button"
ALERTS_NEXT_BUTTON = "alerts-next-page-button"
ALERTS_PAGER_TEXT = "alerts-pager-text"
ALERTS_PAGER_NAV = "alerts-pager-nav"
ALERTS_HEALTH_DIV = "alerts-data-health-div"
ALERTS_SHOWN_STORE = "alerts-shown-store"
ALERTS_CURRENT_STORE = "alerts-current-store"
ALERTS_CHANGED_STORE = "alerts-changed-store"
ALERTS_CREATED_STORE = "alerts-created-store"
ALERTS_SEVERITY_SELECT = "alerts-severity-select"
ALERTS_DEPARTMENT_SELECT = "alerts-department-select"
ALERTS_DISTRICT_SELECT = "alerts-district-select"
ALERTS_CATEGORY_SELECT = "alerts-category-select"
ALERTS_PROBLEM_SELECT = "alerts-problem-select"
ALERTS_STATE_SELECT = "alerts-state-select"
ALERTS_SUMMARY_DIV = "alerts-summary-div"
ALERTS_FEED_DIV = "alerts-feed-div"
ALERTS_DETAIL_DIV = "alerts-detail-div"
ALERTS_EVIDENCE_FIGURE = "alerts-evidence-figure"
ALERTS_EVIDENCE_IMG = "alerts-evidence-img"
ALERTS_EVIDENCE_GRAPH = "alerts-evidence-graph"
ALERTS_EVIDENCE_CAPTION = "alerts-evidence-caption"
ALERTS_EVIDENCE_TABLE_DIV = "alerts-evidence-table-div"
ALERTS_EVIDENCE_ANALYST_DIV = "alerts-evidence-analyst-div"
ALERTS_ACTIONS_CONTEXT_DIV = "alerts-actions-context-div"
ALERTS_ACK_BUTTON = "alerts-acknowledge-button"
ALERTS_LINK_SELECT = "alerts-link-problem-select"
ALERTS_LINK_BUTTON = "alerts-link-button"
ALERTS_REASON_TEXTAREA = "alerts-reason-textarea"
ALERTS_DISMISS_BUTTON = "alerts-dismiss-button"
ALERTS_REOPEN_BUTTON = "alerts-reopen-button"
ALERTS_ACTION_FEEDBACK_DIV = "alerts-action-feedback-div"
ALERTS_NEW_TITLE_INPUT = "alerts-new-title-input"
ALERTS_NEW_AREA_SELECT = "alerts-new-area-select"
ALERTS_NEW_BUTTON = "alerts-new-problem-button"
ALERTS_NEW_FEEDBACK_DIV = "alerts-new-feedback-div"
ALERTS_SELECT_BUTTON_TYPE = "alerts-select-button"


def alerts_select_button(alert_id: Any) -> dict[str, Any]:
    """The "Show evidence" button of one alert in the early-warnings feed."""
    return {"type": ALERTS_SELECT_BUTTON_TYPE, "index": alert_id}


# Administration, "City setup" tab: departments, indicators, problems, actors (one form and one
# table, the kind chosen by a radio), district boundaries by upload, and new data sources.
ADMIN_CATALOG_KIND_RADIO = "admin-catalog-kind-radio"
ADMIN_CATALOG_SAVED_STORE = "admin-catalog-saved-store"
ADMIN_CATALOG_EDITING_STORE = "admin-catalog-editing-store"
ADMIN_CATALOG_QUERY_STORE = "admin-catalog-query-store"
ADMIN_CATALOG_FORM_SECTION = "admin-catalog-form-section"
ADMIN_CATALOG_FORM_TITLE = "admin-catalog-form-title"
ADMIN_CATALOG_FIELDS_DIV = "admin-catalog-fields-div"
ADMIN_CATALOG_SAVE_BUTTON = "admin-catalog-save-button"
ADMIN_CATALOG_CANCEL_BUTTON = "admin-catalog-cancel-button"
ADMIN_CATALOG_ARCHIVE_BUTTON = "admin-catalog-archive-button"
ADMIN_CATALOG_RESTORE_BUTTON = "admin-catalog-restore-button"
ADMIN_CATALOG_CONFIRM_DIV = "admin-catalog-confirm-div"
ADMIN_CATALOG_CONFIRM_TEXT = "admin-catalog-confirm-text"
ADMIN_CATALOG_CONFIRM_BUTTON = "admin-catalog-confirm-button"
ADMIN_CATALOG_KEEP_BUTTON = "admin-catalog-keep-button"
ADMIN_CATALOG_FEEDBACK_DIV = "admin-catalog-feedback-div"
ADMIN_CATALOG_TABLE_TITLE = "admin-catalog-table-title"
ADMIN_CATALOG_FILTER_INPUT = "admin-catalog-filter-input"
ADMIN_CATALOG_ARCHIVED_CHECK = "admin-catalog-archived-check"
ADMIN_CATALOG_SORT_SELECT = "admin-catalog-sort-select"
ADMIN_CATALOG_PREV_BUTTON = "admin-catalog-prev-button"
ADMIN_CATALOG_NEXT_BUTTON = "admin-catalog-next-button"
ADMIN_CATALOG_TABLE_DIV = "admin-catalog-table-div"
ADMIN_CATALOG_FIELD_TYPE = "admin-catalog-field-input"
ADMIN_CATALOG_ERROR_TYPE = "admin-catalog-error-text"
ADMIN_CATALOG_EDIT_TYPE = "admin-catalog-edit-button"
ADMIN_DISTRICTS_SECTION = "admin-districts-section"
ADMIN_DISTRICTS_UPLOAD = "admin-districts-file-upload"
ADMIN_DISTRICTS_CHOOSE_BUTTON = "admin-districts-choose-button"
ADMIN_DISTRICTS_FILE_DIV = "admin-districts-file-div"
ADMIN_DISTRICTS_CODE_SELECT = "admin-districts-code-select"
ADMIN_DISTRICTS_NAME_SELECT = "admin-districts-name-select"
ADMIN_DISTRICTS_POPULATION_SELECT = "admin-districts-population-select"
ADMIN_DISTRICTS_IMPORT_BUTTON = "admin-districts-import-button"
ADMIN_DISTRICTS_FEEDBACK_DIV = "admin-districts-feedback-div"
ADMIN_DISTRICTS_SAVED_STORE = "admin-districts-saved-store"
ADMIN_RENAME_SECTION = "admin-rename-section"
ADMIN_RENAME_NEW_SELECT = "admin-rename-new-select"
ADMIN_RENAME_OLD_SELECT = "admin-rename-old-select"
ADMIN_RENAME_SAVE_BUTTON = "admin-rename-save-button"
ADMIN_RENAME_REMOVE_BUTTON = "admin-rename-remove-button"
ADMIN_RENAME_FEEDBACK_DIV = "admin-rename-feedback-div"
ADMIN_RENAME_SAVED_STORE = "admin-rename-saved-store"
ADMIN_SOURCE_SECTION = "admin-source-section"
ADMIN_SOURCE_NAME_INPUT = "admin-source-name-input"
ADMIN_SOURCE_KIND_SELECT = "admin-source-kind-select"
ADMIN_SOURCE_URL_INPUT = "admin-source-url-input"
ADMIN_SOURCE_URL_LABEL = "admin-source-url-label"
ADMIN_SOURCE_FORMAT_SELECT = "admin-source-format-select"
ADMIN_SOURCE_JURISDICTION_INPUT = "admin-source-jurisdiction-input"
ADMIN_SOURCE_LAYOUT_SELECT = "admin-source-layout-select"
ADMIN_SOURCE_TIMEZONE_INPUT = "admin-source-timezone-input"
ADMIN_SOURCE_POLL_INPUT = "admin-source-poll-input"
ADMIN_SOURCE_OPEN311_DIV = "admin-source-open311-div"
ADMIN_SOURCE_FILE_DIV = "admin-source-file-div"
ADMIN_SOURCE_SAVE_BUTTON = "admin-source-save-button"
ADMIN_SOURCE_FEEDBACK_DIV = "admin-source-feedback-div"
ADMIN_SOURCE_SAVED_STORE = "admin-source-saved-store"
# Users tab: add a user.
ADMIN_USER_ADD_USERNAME_INPUT = "admin-user-add-username-input"
ADMIN_USER_ADD_NAME_INPUT = "admin-user-add-name-input"
ADMIN_USER_ADD_ROLE_SELECT = "admin-user-add-role-select"
ADMIN_USER_ADD_DEPARTMENT_SELECT = "admin-user-add-department-select"
ADMIN_USER_ADD_PASSWORD_INPUT = "admin-user-add-password-input"  # noqa: S105 (an id)
ADMIN_USER_ADD_BUTTON = "admin-user-add-button"
ADMIN_USER_ADD_FEEDBACK_DIV = "admin-user-add-feedback-div"
ADMIN_USER_ADD_SAVED_STORE = "admin-user-add-saved-store"


def admin_catalog_field(name: Any) -> dict[str, Any]:
    """One field of the City setup form (``name`` is the pack column, e.g. ``"target"``)."""
    return {"type": ADMIN_CATALOG_FIELD_TYPE, "index": name}


def admin_catalog_error(name: Any) -> dict[str, Any]:
    """The inline error under one field of the City setup form."""
    return {"type": ADMIN_CATALOG_ERROR_TYPE, "index": name}


def admin_catalog_edit_button(record_id: Any) -> dict[str, Any]:
    """The "Edit" button of one row of the City setup table."""
    return {"type": ADMIN_CATALOG_EDIT_TYPE, "index": record_id}
