"""Benchmarks behind ``triage bench ...``: generated data with known truth, scored side by side."""
