"""Move each link's URL, username, password and TLS choice to a manual integrations Service of type dispatcharr.

The password goes through the EncryptedTextField of both historical models: read (decrypted) from the link's
column and written (encrypted) to the Service's, in memory only; nothing is logged or printed.
"""
from django.db import migrations
from django.utils.text import slugify


def _unique(model, field: str, base: str, limit: int) -> str:
    base = base[:limit]
    value, n = base, 2
    while model.objects.filter(**{field: value}).exists():
        value = f"{base[:limit - 6]}-{n}" if field == "slug" else f"{base[:limit - 6]} {n}"
        n += 1
    return value


def _label(url: str, username: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return f"Dispatcharr {username}@{host}" if username else f"Dispatcharr {host}"


def forward(apps, schema_editor):
    Link = apps.get_model("epg_remote", "DispatcharrLink")
    Service = apps.get_model("integrations", "Service")
    for link in Link.objects.filter(service__isnull=True).order_by("pk"):
        url = (link.url or "").strip().rstrip("/")
        service = Service.objects.filter(source="manual", service_type="dispatcharr", api_url=url,
                                         api_username=link.username, dispatcharr_links__isnull=True).first()
        if service is None:
            name = _unique(Service, "name", _label(url, link.username), 200)
            service = Service(name=name, slug=_unique(Service, "slug", slugify(name.replace("@", "-")) or "service", 200),
                              source="manual", service_type="dispatcharr", api_url=url, api_url_locked=True,
                              api_auth_type="jwt", api_auth_type_locked=True)
        service.api_username = link.username
        service.api_password = link.password
        service.verify_ssl = link.verify_tls
        service.save()
        link.service = service
        link.save(update_fields=["service"])


def backward(apps, schema_editor):
    Link = apps.get_model("epg_remote", "DispatcharrLink")
    for link in Link.objects.filter(service__isnull=False).select_related("service"):
        service = link.service
        link.url = (service.api_url or service.url).rstrip("/")
        link.username = service.api_username
        link.password = service.api_password
        link.verify_tls = service.verify_ssl
        link.save(update_fields=["url", "username", "password", "verify_tls"])


class Migration(migrations.Migration):

    dependencies = [
        ("epg_remote", "0002_link_service"),
    ]

    operations = [migrations.RunPython(forward, backward)]
