"""Persistence: models, sessions, queries, writes and migrations."""
