"""Read-only access to an OCI distribution registry over HTTP(S): tags, manifests, blobs, referrers.

Credentials come from the environment (``MLPROV_REGISTRY_USER`` / ``MLPROV_REGISTRY_PASSWORD``) or
the Docker config (``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``, ``auths`` entries);
they are used for Basic auth or to fetch a bearer token after a 401 challenge, and never appear in
a message, a node or a cursor.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

# Manifests and indexes, OCI and Docker: a registry serves an OCI manifest only to a client
# that accepts it (distribution answers MANIFEST_UNKNOWN otherwise).
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join((*MANIFEST_TYPES, *INDEX_TYPES))
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
TIMEOUT = (5.0, 60.0)


class RegistryError(Exception):
    """A registry call failed: one line naming the registry, what was asked and the status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Fetched:
    """A manifest or index as served: its bytes, media type and content digest."""

    body: bytes
    media_type: str
    digest: str

    def json(self) -> dict[str, Any]:
        doc = json.loads(self.body)
        if not isinstance(doc, dict):
            raise ValueError("manifest is not a JSON object")
        return doc


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def media_type_of(body: bytes, header: str) -> str:
    """The media type a manifest declares, else the Content-Type it was served with."""
    try:
        declared = json.loads(body).get("mediaType")
    except (ValueError, AttributeError):
        declared = None
    return str(declared or header.split(";")[0].strip())


@dataclass(frozen=True, slots=True)
class RegistryRef:
    """``host[:port]/repository`` and the scheme to reach it."""

    scheme: str
    host: str
    repository: str

    @property
    def name(self) -> str:
        return f"{self.host}/{self.repository}"

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}/v2/{self.repository}"


def parse_registry_ref(location: str) -> RegistryRef:
    """``[http(s)://]host[:port]/repo[/more]``; plain HTTP only for 127.0.0.1/localhost by default."""
    scheme = ""
    rest = location.strip()
    for prefix in ("http://", "https://"):
        if rest.startswith(prefix):
            scheme, rest = prefix[:-3], rest[len(prefix) :]
    rest = rest.rstrip("/")
    host, sep, repository = rest.partition("/")
    if not sep or not repository or not re.match(r"^[A-Za-z0-9.-]+(:\d+)?$", host):
        raise RegistryError(f"not a registry repository: {location!r} (expected host[:port]/repository)")
    repository = repository.split("@", 1)[0]
    repository = re.sub(r":[^/]*$", "", repository)  # a tag given with the repository is ignored
    if not scheme:
        bare = host.split(":", 1)[0]
        scheme = "http" if bare in ("127.0.0.1", "localhost", "::1") else "https"
    return RegistryRef(scheme, host, repository)


def _docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def credentials_for(host: str) -> tuple[str, str] | None:
    """(user, password) for a registry host from the environment, else the Docker config."""
    user, password = os.environ.get("MLPROV_REGISTRY_USER"), os.environ.get("MLPROV_REGISTRY_PASSWORD")
    if user and password:
        return user, password
    try:
        config = json.loads(_docker_config_path().read_text())
    except (OSError, ValueError):
        return None
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        # entries are keyed "host", "host:port" or a URL such as https://host/v1/
        name = re.sub(r"^https?://", "", str(key)).split("/", 1)[0]
        if name != host or not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(str(entry["auth"])).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            user, sep, password = decoded.partition(":")
            return (user, password) if sep else None
        if entry.get("username") and entry.get("password"):
            return str(entry["username"]), str(entry["password"])
    return None


_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


@dataclass(slots=True)
class RegistryClient:
    """One repository on one registry, read-only."""

    ref: RegistryRef
    session: requests.Session = field(default_factory=requests.Session)
    _auth_header: str | None = None

    @property
    def name(self) -> str:
        return self.ref.name

    def _get(self, url: str, accept: str | None = None, *, stream: bool = False) -> requests.Response:
        headers = {"Accept": accept} if accept else {}
        response = self._send(url, headers, stream)
        if response.status_code == 401 and self._authenticate(response):
            response = self._send(url, headers, stream)
        return response

    def _send(self, url: str, headers: dict[str, str], stream: bool) -> requests.Response:
        if self._auth_header:
            headers = {**headers, "Authorization": self._auth_header}
        try:
            return self.session.get(url, headers=headers, stream=stream, timeout=TIMEOUT)
        except requests.exceptions.SSLError as exc:
            raise RegistryError(
                f"registry {self.ref.host}: TLS failed ({type(exc).__name__}); "
                "use http://host/repo for a plain-HTTP registry"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise RegistryError(
                f"registry {self.ref.host} is not reachable ({self.ref.scheme}): "
                "connection refused or host down"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise RegistryError(f"registry {self.ref.host} did not answer in time") from exc

    def _authenticate(self, response: requests.Response) -> bool:
        """Answer a 401 challenge once: Basic with the stored credentials, or a bearer token."""
        if self._auth_header is not None and not self._auth_header.startswith("Basic"):
            return False
        challenge = response.headers.get("WWW-Authenticate", "")
        creds = credentials_for(self.ref.host)
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "basic":
            if creds is None or self._auth_header is not None:
                return False
            self._auth_header = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            return True
        if scheme != "bearer":
            return False
        params = dict(_CHALLENGE.findall(challenge))
        realm = params.pop("realm", "")
        if not realm:
            return False
        params.setdefault("scope", f"repository:{self.ref.repository}:pull")
        try:
            token = self.session.get(realm, params=params, auth=creds, timeout=TIMEOUT)
        except requests.exceptions.RequestException as exc:
            raise RegistryError(f"registry {self.ref.host}: token service {realm} not reachable") from exc
        if token.status_code != 200:
            return False
        try:
            doc = token.json()
        except ValueError:
            return False
        value = doc.get("token") or doc.get("access_token")
        if not value:
            return False
        self._auth_header = f"Bearer {value}"
        return True

    def _check(self, response: requests.Response, what: str) -> None:
        status = response.status_code
        if status == 200:
            return
        if status == 401:
            hint = (
                "credentials were refused"
                if self._auth_header
                else "set MLPROV_REGISTRY_USER/MLPROV_REGISTRY_PASSWORD or log in (~/.docker/config.json)"
            )
            raise RegistryError(f"registry {self.name}: {what}: 401 unauthorized ({hint})", status)
        if status == 403:
            raise RegistryError(f"registry {self.name}: {what}: 403 forbidden", status)
        if status == 404:
            raise RegistryError(f"registry {self.name}: {what}: 404 not found", status)
        raise RegistryError(f"registry {self.name}: {what}: HTTP {status}", status)

    # --- the read API ---------------------------------------------------------------------------

    def tags(self) -> list[str]:
        """Every tag of the repository, following ``Link`` pagination."""
        url: str | None = f"{self.ref.base}/tags/list?n=1000"
        found: list[str] = []
        while url:
            response = self._get(url)
            self._check(response, "list tags")
            try:
                found.extend(response.json().get("tags") or [])
            except (ValueError, AttributeError) as exc:
                raise RegistryError(f"registry {self.name}: list tags: not a JSON tag list") from exc
            url = _next_link(response, f"{self.ref.scheme}://{self.ref.host}")
        return found

    def manifest(self, reference: str) -> Fetched:
        """A manifest or index by tag or digest, as served (digest from the header or the bytes)."""
        response = self._get(f"{self.ref.base}/manifests/{reference}", ACCEPT)
        self._check(response, f"manifest {reference}")
        body = response.content[: MAX_MANIFEST_BYTES + 1]
        if len(body) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"registry {self.name}: manifest {reference} is larger than 4 MiB")
        served = sha256_digest(body)
        header = response.headers.get("Docker-Content-Digest", "")
        if reference.startswith("sha256:") and served != reference:
            raise RegistryError(f"registry {self.name}: manifest {reference} bytes hash to {served}")
        # The header is the registry's word for a tag; the bytes decide when they disagree.
        digest = header if header == served or not header.startswith("sha256:") else served
        return Fetched(body, media_type_of(body, response.headers.get("Content-Type", "")), digest or served)

    def blob(self, digest: str, limit: int) -> bytes:
        """A blob of at most ``limit`` bytes (configs, SBOMs, signatures), checked against its digest."""
        response = self._get(f"{self.ref.base}/blobs/{digest}", stream=True)
        self._check(response, f"blob {digest[:19]}")
        data = b""
        for chunk in response.iter_content(65536):
            data += chunk
            if len(data) > limit:
                response.close()
                raise RegistryError(f"registry {self.name}: blob {digest[:19]} is larger than {limit} bytes")
        if digest.startswith("sha256:") and sha256_digest(data) != digest:
            raise RegistryError(f"registry {self.name}: blob {digest[:19]} does not match its digest")
        return data

    def open_blob(self, digest: str) -> Iterator[bytes]:
        """A blob streamed in chunks (layers): never held whole in memory."""
        response = self._get(f"{self.ref.base}/blobs/{digest}", stream=True)
        self._check(response, f"blob {digest[:19]}")
        try:
            yield from response.iter_content(1 << 20)
        finally:
            response.close()

    def referrers(self, digest: str) -> list[dict[str, Any]] | None:
        """Descriptors from the OCI 1.1 referrers API; ``None`` when the registry lacks it (404)."""
        response = self._get(f"{self.ref.base}/referrers/{digest}", OCI_INDEX)
        if response.status_code in (404, 405, 400):
            return None
        self._check(response, f"referrers of {digest[:19]}")
        try:
            doc = response.json()
        except ValueError:
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("manifests"), list):
            return None
        return [m for m in doc["manifests"] if isinstance(m, dict)]


def _next_link(response: requests.Response, origin: str) -> str | None:
    link = response.headers.get("Link", "")
    match = re.search(r"<([^>]+)>\s*;\s*rel=\"?next\"?", link)
    if not match:
        return None
    target = match.group(1)
    return target if target.startswith("http") else origin + target
