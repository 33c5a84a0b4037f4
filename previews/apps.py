from django.apps import AppConfig


class PreviewsConfig(AppConfig):
    name = "previews"
    label = "previews"
    verbose_name = "Previews"
