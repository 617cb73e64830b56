#!/usr/bin/env bash
# Install the Debian tools mlprov's tests and demo use, when they are missing:
# git, PostgreSQL (shared-store tests), Debian's docker-registry and skopeo (registry tests), tmux (terminal test).
set -euo pipefail

need=()
command -v git >/dev/null 2>&1 || need+=(git)
{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || need+=(postgresql)
{ command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ]; } || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing system packages: ${need[*]}" >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "warning: not root and no sudo: cannot install ${need[*]}; the tests needing them will be skipped" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the registry as a system service listening on all interfaces: the tests run their own.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
