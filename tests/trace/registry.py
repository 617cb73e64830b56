"""A real Debian ``docker-registry`` on 127.0.0.1 for the tests, and pushes with real ``skopeo``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REGISTRY_BIN = shutil.which("docker-registry") or (
    "/usr/bin/docker-registry" if os.access("/usr/bin/docker-registry", os.X_OK) else None
)
SKOPEO_BIN = shutil.which("skopeo")
MISSING = [name for name, found in (("docker-registry", REGISTRY_BIN), ("skopeo", SKOPEO_BIN)) if not found]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(slots=True)
class Registry:
    """A running registry: ``host`` is ``127.0.0.1:<port>``."""

    host: str
    process: subprocess.Popen[bytes]
    log: Path

    def push_layout(self, layout: Path, ref_name: str, dest: str) -> None:
        """``skopeo copy`` one tagged image (or index, with --all) of a layout to ``dest`` (repo:tag)."""
        cmd = [
            str(SKOPEO_BIN),
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            f"oci:{layout}:{ref_name}",
            f"docker://{self.host}/{dest}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        assert proc.returncode == 0, f"skopeo failed: {proc.stderr.strip()}"

    def put_blob(self, repo: str, data: bytes) -> str:
        """Upload a blob with the registry's own monolithic upload (POST then PUT)."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = requests.post(f"http://{self.host}/v2/{repo}/blobs/uploads/", timeout=10)
        assert start.status_code == 202, start.text
        location = start.headers["Location"]
        if location.startswith("/"):
            location = f"http://{self.host}{location}"
        sep = "&" if "?" in location else "?"
        done = requests.put(
            f"{location}{sep}digest={digest}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=10,
        )
        assert done.status_code == 201, done.text
        return digest

    def put_manifest(self, repo: str, reference: str, doc: dict[str, Any], media_type: str) -> str:
        body = json.dumps(doc).encode()
        response = requests.put(
            f"http://{self.host}/v2/{repo}/manifests/{reference}",
            data=body,
            headers={"Content-Type": media_type},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_registry(root: Path, extra: str = "") -> Registry:
    """Start ``docker-registry`` with storage under ``root`` on a free port; wait until /v2/ answers."""
    port = free_port()
    storage = root / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + extra
    )
    log = root / "registry.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(REGISTRY_BIN), "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
    registry = Registry(f"127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()[-500:]}")
        try:
            if requests.get(f"http://{registry.host}/v2/", timeout=1).status_code in (200, 401):
                return registry
        except requests.exceptions.ConnectionError:
            time.sleep(0.1)
    registry.stop()
    raise RuntimeError("docker-registry did not answer within 20 s")
