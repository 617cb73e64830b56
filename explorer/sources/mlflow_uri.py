"""Tracking URIs: where a location from ``--mlflow``/``mlprov.toml``/the environment points, and how
to name it without its credentials (in messages, the origin string and stored properties)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s]*)(?::[^@/\s]*)?@")


class TrackingUriError(ValueError):
    """No tracking URI was given and ``MLFLOW_TRACKING_URI`` is not set."""


def resolve_uri(location: str, workspace: Path) -> str:
    """The tracking URI ``location`` names; relative paths and ``sqlite:///rel.db`` from the workspace.

    An empty location (or ``env``) means ``MLFLOW_TRACKING_URI``, as MLflow itself does.
    """
    uri = location.strip()
    if uri in ("", "env", "$" + ENV_TRACKING_URI):
        uri = os.environ.get(ENV_TRACKING_URI, "").strip()
        if not uri:
            raise TrackingUriError(f"no MLflow tracking URI given and {ENV_TRACKING_URI} is not set")
    if uri.startswith("sqlite:///"):
        db = uri.removeprefix("sqlite:///")
        if db and db != ":memory:" and not db.startswith("/"):
            return f"sqlite:///{(workspace / db).resolve()}"
        return uri
    if uri.startswith("file:"):
        return uri
    if "://" not in uri:  # a plain path: a local file store (``mlruns``)
        store = Path(uri).expanduser()
        return (store if store.is_absolute() else workspace / store).resolve().as_uri()
    return uri


def redact(text: str) -> str:
    """``text`` with the password (and any token in a query string) of each URL in it removed."""
    if "@" not in text and "=" not in text:
        return text  # the common case, on every run's artifact URI: nothing to hide
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}{'@' if m['user'] else ''}", text)
    return re.sub(r"(?i)([?&](?:token|password|access_token|sig|signature|key)=)[^&\s]+", r"\1***", text)


def display_uri(uri: str) -> str:
    """The URI as mlprov names it (origin, messages, properties): no password, no query string."""
    if uri.startswith("sqlite:"):
        return uri  # a local file: no credentials to hide
    parts = urlsplit(redact(uri))
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def is_http(uri: str) -> bool:
    return uri.split(":", 1)[0].lower() in ("http", "https")


def local_path(uri: str | None) -> Path | None:
    """The local filesystem path of a ``file:`` URI or a plain absolute path; None for remote stores."""
    if not uri:
        return None
    if uri.startswith("file:"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parts.path))
    if "://" not in uri and ":" not in uri.split("/", 1)[0]:
        return Path(uri)
    return None
