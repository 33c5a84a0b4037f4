"""Rows of the integrations app."""
