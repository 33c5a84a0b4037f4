from django.apps import AppConfig


class PreviewsConfig(AppConfig):
    name = "previews"
    label = "previews"
    verbose_name = "Previews"

    def ready(self):
        from . import schedule_tasks  # noqa: F401 - part 2: the schedule and webhook tasks
