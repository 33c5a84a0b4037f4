"""Rows of the channels app."""
