"""Rows of the previews app."""
