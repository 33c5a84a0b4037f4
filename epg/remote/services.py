"""Writes of the push-refresh's settings: testing a connection, discovering the remote EPG source, the link's
Service and its settings (``save_link_settings``, the one rule of ``PUT /api/dispatcharr/settings`` and the admin).
The push itself is ``pushes.py``; queueing is ``tasks.py`` (nothing here imports it)."""
from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from homelab.http import HTTPError
from integrations.models import Service

from .manager import DispatcharrError, EPGManager, match_by_filename
from .models import DEFAULT_OUTPUT_FILENAME, DispatcharrLink, normalize_url, validate_remote_url

logger = logging.getLogger("epg.remote")

SOURCE_FIELDS = ("id", "name", "source_type", "url", "is_active", "status", "last_refresh", "updated_at")


def source_summary(source: dict) -> dict:
    return {key: source.get(key) for key in SOURCE_FIELDS}


def check_connection(manager: EPGManager) -> dict:
    """``{success, message, epg_sources}`` as Teamarr's test endpoint answers."""
    try:
        sources = manager.fetch_sources()
    except DispatcharrError as exc:
        logger.info("Connection test failed: %s", exc.message)
        return {"success": False, "message": exc.message, "epg_sources": []}
    count = len(sources)
    message = f"Connected to Dispatcharr: {count} EPG source{'s' if count != 1 else ''} found."
    return {"success": True, "message": message, "epg_sources": [source_summary(s) for s in sources]}


def discover_source(manager: EPGManager, filename: str) -> dict:
    """``{success, epg_id, epg_name, message}``: the remote ``url`` source whose URL ends in ``filename``."""
    try:
        sources = manager.fetch_sources()
    except DispatcharrError as exc:
        logger.info("EPG source discovery failed: %s", exc.message)
        return {"success": False, "epg_id": None, "epg_name": None, "message": exc.message}
    source = match_by_filename(sources, filename)
    if source is None:
        return {
            "success": False, "epg_id": None, "epg_name": None,
            "message": f"No URL EPG source on Dispatcharr has a URL ending in '{filename}'. Add this project's "
                       f"guide URL (…/output/{filename}) as an EPG source there, then try again.",
        }
    name = source.get("name") or ""
    return {
        "success": True, "epg_id": source.get("id"), "epg_name": name,
        "message": f"Found EPG source '{name}' (id {source.get('id')}) for {filename}.",
    }


def discover_for_link(link: DispatcharrLink, *, manager: EPGManager | None = None) -> dict:
    """Discover and store the link's EPG source; returns the discovery result."""
    if manager is None:
        from .clients import manager_for_link

        if link.unusable_reason():
            return {"success": False, "epg_id": None, "epg_name": None, "message": link.unusable_reason()}
        try:
            manager = manager_for_link(link)
        except HTTPError as exc:  # a URL the client refuses
            return {"success": False, "epg_id": None, "epg_name": None, "message": f"Cannot reach Dispatcharr: {exc}"}
    result = discover_source(manager, link.output_filename)
    if result["success"]:
        link.epg_id, link.epg_name = result["epg_id"], result["epg_name"]
        link.save(update_fields=["epg_id", "epg_name", "updated_at"])
        logger.info("Dispatcharr link %s: EPG source %s (%s) discovered", link.pk, link.epg_id, link.epg_name)
    return result


# --- the remote's Service ------------------------------------------------------------------------

class SettingsInvalid(Exception):
    """Settings refused before anything is saved: ``errors`` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _service_name(url: str, username: str) -> str:
    """A free Service name for a typed-in Dispatcharr: ``Dispatcharr admin@dispatcharr:9191``."""
    host = url.split("://", 1)[-1].split("/", 1)[0]
    base = (f"Dispatcharr {username}@{host}" if username else f"Dispatcharr {host}")[:190]
    name, n = base, 2
    while Service.objects.filter(name=name).exists():
        name, n = f"{base} {n}", n + 1
    return name


def _link_using(service: Service, *, url: str, username: str, exclude_pk) -> DispatcharrLink | None:
    """Another link on this Service, or on another Service with the same URL and username."""
    others = DispatcharrLink.objects.filter(service__isnull=False).exclude(pk=exclude_pk).select_related("service")
    for other in others:
        if (service.pk and other.service_id == service.pk) or (other.url == url and other.username == username):
            return other
    return None


def remote_service(*, link: DispatcharrLink, pick: Service | None = None, url: str | None = None,
                   username: str | None = None, password: str | None = None,
                   verify_tls: bool | None = None) -> Service:
    """The Service the link is to use after these settings, changed in memory only (saved with the link).

    ``pick`` (a Service, e.g. synced from Traefik) is used as it is, with the credentials given written to it;
    its URL is its own. Otherwise a typed-in URL, username and password update the link's Service when it is a
    manual one or keeps the URL, and else go to a manual Service of type dispatcharr (an unused one with this URL
    and username, or a new one). ``None`` means "keep"; a blank password keeps the stored one too."""
    current = link.service if link.service_id else None
    if pick is not None:
        target = normalize_url(pick.target_url)
        try:
            validate_remote_url(target)
        except ValidationError as exc:
            raise SettingsInvalid({"service_id": [f"The service '{pick.name}' has no usable URL: {exc.messages[0]}"]}) \
                from None
        if url is not None and url != target:
            raise SettingsInvalid({"url": [f"The picked service's URL is {target or 'not set'}: leave the URL out "
                                           "or give that one."]})
        service = pick
    elif current is not None and (url is None or current.source == Service.Source.MANUAL
                                  or url == normalize_url(current.target_url)):
        service = current
    else:
        url = url if url is not None else (normalize_url(current.target_url) if current else "")
        name = username if username is not None else (current.api_username if current else "")
        service = Service.objects.filter(source=Service.Source.MANUAL, service_type="dispatcharr", api_url=url,
                                         api_username=name, dispatcharr_links__isnull=True).first()
        if service is None:
            service = Service(source=Service.Source.MANUAL, service_type="dispatcharr", api_auth_type="jwt",
                              api_auth_type_locked=True, api_url_locked=True)
            if current is not None:  # a typed-in URL replaces a picked Service: its credentials come along
                service.api_username, service.api_password = current.api_username, current.api_password
                service.verify_ssl = current.verify_ssl
        service.api_url = url
    if url is not None and service.source == Service.Source.MANUAL and url != normalize_url(service.target_url):
        service.api_url, service.api_url_locked = url, True
    if username is not None:
        service.api_username = username.strip()
    if password:
        service.api_password = password
    if verify_tls is not None:
        service.verify_ssl = verify_tls
    if not service.service_type:
        service.service_type = "dispatcharr"
    return service


def save_service(service: Service) -> Service:
    if not service.name:
        service.name = _service_name(normalize_url(service.target_url), service.api_username)
    service.save()
    return service


# --- the link's settings (PUT /api/dispatcharr/settings and the admin's form) ---------------------

KEEP = object()  # "left out": the stored value stays


class CredentialsRejected(Exception):
    """The remote refused the credentials (or could not be reached) when the settings were checked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def credentials_confirmed(link: DispatcharrLink) -> None:
    """The one rule for the automatic disabling: a fresh login that worked (a settings check, a "Test connection",
    an import the remote accepted) starts the count of consecutive authentication failures again."""
    link.auth_failures = 0
    if link.pk is not None:
        DispatcharrLink.objects.filter(pk=link.pk).update(auth_failures=0)


class PreparedSettings:
    """Settings checked and applied in memory: ``save()`` writes the Service and the link."""

    FIELDS = ["name", "enabled", "service", "output_filename", "epg_id", "epg_name", "updated_at"]

    def __init__(self, link: DispatcharrLink, service: Service, *, checked: bool):
        self.link, self.service, self.checked = link, service, checked

    def save(self) -> DispatcharrLink:
        link = self.link
        with transaction.atomic():
            if self.service is not None:  # None: a link left without its (deleted) Service, only disabled
                link.service = save_service(self.service)
            if link.pk is None:
                link.save()
            else:
                # only the settings: a push that ended during the check keeps its outcome and frees its claim
                link.save(update_fields=self.FIELDS)
                if self.checked:
                    credentials_confirmed(link)
                link.refresh_from_db()
        logger.info("Dispatcharr link %s saved (service %s, %s)", link.pk, link.service_id,
                    "enabled" if link.enabled else "disabled")
        return link


def _set_plain(link: DispatcharrLink, *, enabled: bool | None, name: str | None, output_filename: str | None) -> None:
    """The settings that need no check of the remote (None leaves one as stored)."""
    if enabled is not None:
        link.enabled = enabled
    if name is not None:
        link.name = name
    if output_filename is not None:
        link.output_filename = output_filename.strip()


def prepare_link_settings(*, link: DispatcharrLink | None, service: Service | None = None,
                          enabled: bool | None = None, url: str | None = None, username: str | None = None,
                          password: str | None = None, verify_tls: bool | None = None, name: str | None = None,
                          output_filename: str | None = None, epg_id=KEEP) -> PreparedSettings:
    """Validate new settings of a link (a new one when ``link`` is None) and check them against the remote, in
    memory; ``None`` / ``KEEP`` leave a value as stored, a blank password keeps the stored one.

    The credentials are checked (a fresh login and a listing of the EPG sources) whenever the link is enabled
    or its URL, username or password change; a check that passes resets the authentication failure count. With
    the check, an ``epg_id`` must name a non-dummy source of the remote, and when it is None, or left out while
    the remote or the output file name changed, the source is discovered by ``output_filename``. Raises
    ``SettingsInvalid`` (field errors) or ``CredentialsRejected``; nothing is written until ``save()``."""
    link = link or DispatcharrLink(output_filename=DEFAULT_OUTPUT_FILENAME)
    if (link.pk is not None and link.service_id is None and service is None and url is None and username is None
            and not password and (enabled is False or (enabled is None and not link.enabled))):
        # its Service was deleted: it can still be disabled (or renamed) without typing credentials again
        _set_plain(link, enabled=enabled, name=name, output_filename=output_filename)
        if epg_id is not KEEP and epg_id != link.epg_id:
            link.epg_id, link.epg_name = epg_id, ""
        return PreparedSettings(link, None, checked=False)
    before = (link.url, link.username, link.password)
    remote = remote_service(link=link, pick=service, url=url, username=username, password=password,
                            verify_tls=verify_tls)
    link.service = remote
    new_remote = (link.url, link.username) != before[:2]
    new_password = link.password != before[2]
    new_filename = output_filename is not None and output_filename.strip() != link.output_filename
    _set_plain(link, enabled=enabled, name=name, output_filename=output_filename)

    missing = {key: ["This field is required."] for key in ("url", "username", "password") if not getattr(link, key)}
    if missing:
        raise SettingsInvalid(missing)
    if _link_using(remote, url=link.url, username=link.username, exclude_pk=link.pk):
        raise SettingsInvalid({"url": ["Another Dispatcharr link already uses this URL and username."]})

    if epg_id is not KEEP:
        if epg_id != link.epg_id:
            link.epg_name = ""
        link.epg_id = epg_id
    elif new_remote or new_filename:
        link.epg_id, link.epg_name = None, ""

    checked = link.enabled or new_remote or new_password
    if checked:
        check_settings(link)
        link.auth_failures = 0  # written by save(), through credentials_confirmed
    return PreparedSettings(link, remote, checked=checked)


def save_link_settings(**values) -> DispatcharrLink:
    """``prepare_link_settings(**values).save()``: what ``PUT /api/dispatcharr/settings`` does."""
    return prepare_link_settings(**values).save()


def check_settings(link: DispatcharrLink) -> None:
    """A fresh login and a listing of the remote's EPG sources; sets the link's ``epg_id`` / ``epg_name``."""
    from .clients import manager_for_service

    try:
        sources = manager_for_service(link.service, fresh_login=True).fetch_sources()
    except HTTPError as exc:  # a URL the client refuses
        raise CredentialsRejected(f"Settings not saved: {exc}") from None
    except DispatcharrError as exc:
        logger.info("Dispatcharr settings refused: %s", exc.message)
        raise CredentialsRejected(f"Settings not saved: {exc.message}") from None
    if link.epg_id is not None:
        source = next((x for x in sources if x.get("id") == link.epg_id), None)
        if source is None:
            raise SettingsInvalid({"epg_id": [f"Dispatcharr has no EPG source with id {link.epg_id}."]})
        if source.get("source_type") == "dummy":
            raise SettingsInvalid({"epg_id": [
                f"EPG source {link.epg_id} ('{source.get('name', '')}') is a dummy source; Dispatcharr does not "
                "refresh dummy sources."]})
        link.epg_name = source.get("name") or ""
    else:
        source = match_by_filename(sources, link.output_filename)
        if source is not None:
            link.epg_id, link.epg_name = source.get("id"), source.get("name") or ""


def check_link(*, link: DispatcharrLink) -> dict:
    """The admin's "Test connection": ``{success, message, epg_sources}`` from a fresh login with the link's
    Service; a success resets the authentication failure count (``credentials_confirmed``)."""
    from .clients import manager_for_service

    if link.service is None:
        return {"success": False, "message": link.unusable_reason(), "epg_sources": []}
    try:
        manager = manager_for_service(link.service, fresh_login=True)
    except HTTPError as exc:  # a URL the client refuses
        return {"success": False, "message": f"Cannot reach Dispatcharr: {exc}", "epg_sources": []}
    result = check_connection(manager)
    if result["success"]:
        credentials_confirmed(link)
    return result
