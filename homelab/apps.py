from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HomelabConfig(AppConfig):
    name = "homelab"
    verbose_name = "homelab"


class HomelabAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with homelab's site (a throttled login)."""

    default = False  # "homelab" stays HomelabConfig
    default_site = "homelab.admin_site.HomelabAdminSite"
