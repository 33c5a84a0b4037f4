"""Plex's XML answers (plex.tv and a Plex Media Server), read into plain dicts. No Django here."""
from __future__ import annotations

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


class ParseError(ValueError):
    pass


def _root(text: str | bytes):
    if isinstance(text, str):
        text = text.encode()
    try:
        return etree.fromstring(text, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not XML: {exc}") from None


def plex_users(text) -> list[dict]:
    """plex.tv ``/api/users``: each friend with the servers shared with them
    (``{"id", "username", "email", "servers": {machineIdentifier: shared_server_id}}``)."""
    root = _root(text)
    if root.tag != "MediaContainer":
        raise ParseError(f"unexpected root element {root.tag}")
    users = []
    for user in root.iter("User"):
        servers = {s.get("machineIdentifier"): s.get("id") for s in user.iter("Server") if s.get("machineIdentifier")}
        users.append({"id": user.get("id") or "", "username": user.get("username") or user.get("title") or "",
                      "email": user.get("email") or "", "servers": servers})
    return users


def plex_server_sections(text) -> list[dict]:
    """plex.tv ``/api/servers/{machineId}``: ``[{"id", "key", "title"}]`` (plex.tv's own section ids)."""
    root = _root(text)
    return [{"id": s.get("id"), "key": s.get("key"), "title": s.get("title")} for s in root.iter("Section")]


def plex_shared_server_id(text) -> str:
    """The id of the share plex.tv created (``<SharedServer id=...>``); "" when the answer has none."""
    root = _root(text)
    node = root if root.tag == "SharedServer" else root.find(".//SharedServer")
    return (node.get("id") or "") if node is not None else ""


def pms_sections(body) -> list[dict]:
    """A Plex Media Server's ``/library/sections`` (JSON or XML): ``[{"key", "title", "type", "uuid"}]``."""
    if isinstance(body, dict):
        dirs = (body.get("MediaContainer") or {}).get("Directory") or []
        if not isinstance(dirs, list):
            raise ParseError("MediaContainer.Directory is not a list")
        return [{"key": str(d.get("key", "")), "title": str(d.get("title", "")), "type": d.get("type", ""),
                 "uuid": d.get("uuid", "")} for d in dirs if isinstance(d, dict) and d.get("key")]
    root = _root(body or "")
    return [{"key": d.get("key"), "title": d.get("title") or "", "type": d.get("type") or "",
             "uuid": d.get("uuid") or ""} for d in root.iter("Directory") if d.get("key")]


def pms_machine_identifier(body) -> str:
    """``/identity`` (JSON or XML) -> the machine identifier ("" when missing)."""
    if isinstance(body, dict):
        return str((body.get("MediaContainer") or {}).get("machineIdentifier") or "")
    root = _root(body or "")
    return root.get("machineIdentifier") or ""
