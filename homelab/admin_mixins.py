"""Admin columns shared by the job rows of every app (a status in colour, the last message cut short)."""
from django.contrib import admin
from django.utils.html import format_html

STATUS_COLOURS = {"success": "green", "completed": "green", "error": "red", "failed": "red",
                  "fetching": "orange", "parsing": "orange", "running": "orange", "cancelled": "gray"}


class JobRowAdmin:
    """``status_badge`` and ``short_message`` columns for a ModelAdmin of a row with ``status`` and
    ``last_message``."""

    message_length = 120

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        label = obj.get_status_display() if hasattr(obj, "get_status_display") else obj.status
        return format_html('<b style="color:{}">{}</b>', STATUS_COLOURS.get(obj.status, "gray"), label)

    @admin.display(description="last message")
    def short_message(self, obj):
        text = obj.last_message or ""
        n = self.message_length
        return text if len(text) <= n else text[:n - 3] + "..."
