"""Tests that build the whole Dash app (Flask test client, callbacks) on a seeded city."""
