"""Rows of the epg app."""
