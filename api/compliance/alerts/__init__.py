"""Alerts: detection runs over the live tables, the review workflow, dealers' appeals."""
