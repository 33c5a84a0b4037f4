"""Signals of the epg app.

``output_regenerated`` is sent (after commit) each time /output/epg.xml has been regenerated following a
successful import; ``epg.remote`` listens to push a refresh to linked Dispatcharr instances.
"""
import django.dispatch

# kwargs: filename (str, the output file name, "epg.xml"), source_id (int or None: the import that caused it)
output_regenerated = django.dispatch.Signal()
