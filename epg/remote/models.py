"""Rows of the remote Dispatcharr links."""
