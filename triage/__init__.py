"""Triage: weekly triage of a city's public problems (domain layer: no Dash, no Flask)."""
