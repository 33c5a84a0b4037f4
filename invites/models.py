"""Rows of the invites app."""
