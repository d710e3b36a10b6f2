#!/usr/bin/env bash
# Install the Debian packages TMCS needs, only those missing. Idempotent; needs root (or sudo).
set -euo pipefail

PACKAGES=(
  postgresql-15 postgresql-15-postgis-3 postgresql-client-15
  redis-server
  gdal-bin libgdal-dev libgeos-c1v5 libproj25
  gettext
  fonts-noto-cjk
  poppler-utils
  chromium chromium-driver
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "需要 root 权限安装: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "==> installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The Debian postgresql-common package would create and start a default cluster on 5432;
# TMCS runs its own private cluster, so skip that.
$SUDO mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf; then
  echo 'create_main_cluster = false' | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's redis-server package starts a system service on 6379 where systemd runs; we use our own.
