from django.apps import AppConfig


class InvitesConfig(AppConfig):
    name = "invites"
    label = "invites"
    verbose_name = "Invites"
