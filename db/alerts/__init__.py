"""Alerts: the stored episodes and their life cycle, the feed, the evidence, actions and answers,
and the overdue flags."""
