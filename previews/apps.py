from django.apps import AppConfig


class PreviewsConfig(AppConfig):
    name = "previews"
    label = "previews"
    verbose_name = "Previews"

    def ready(self):
        from . import realtime, schedule_tasks  # noqa: F401 - part 2: /previews/ws/jobs, schedule and webhook tasks
