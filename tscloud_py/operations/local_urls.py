"""Beside each AWS-shaped URL a local deploy prints, the loopback URL that serves it (``url_local``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from tscloud_py.operations.context import AppContext


def with_local_urls(app: AppContext, outputs: dict[str, Any]) -> dict[str, Any]:
    """``outputs`` with ``url_local`` after ``url`` when the user's emulator serves this deploy: the local
    edge's address for the distribution, else the Function URL's loopback address."""
    if not outputs or not app.at_user_emulator():
        return outputs
    from tscloud_py.emulator.daemon import local_urls

    urls = local_urls(app.resolved_endpoint())
    if urls is None:
        return outputs
    local = urls.distributions.get(str(outputs.get("distribution_id") or ""))
    if local is None and outputs.get("function_url"):
        local = urls.function_url(str(outputs["function_url"]))
    if local is None:
        return outputs
    # the same path the AWS URL names (a fullstack app's url is its distribution's /api/)
    path = urlsplit(str(outputs.get("url") or "")).path.lstrip("/")
    local = local.rstrip("/") + "/" + path
    placed: dict[str, Any] = {}
    for key, value in outputs.items():
        placed[key] = value
        if key == "url":
            placed["url_local"] = local
    placed.setdefault("url_local", local)
    return placed
