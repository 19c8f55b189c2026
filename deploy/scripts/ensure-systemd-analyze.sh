#!/usr/bin/env bash
# The systemd unit's test runs systemd-analyze (verify, security --offline). Installs Debian's
# systemd package when the command is missing (as root, with apt-get); does nothing when it is
# there. Run by the test itself, so `pnpm test` on a fresh machine passes.
set -euo pipefail
if command -v systemd-analyze >/dev/null; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-systemd-analyze: systemd-analyze is missing; install it: sudo apt-get install -y systemd" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq systemd >/dev/null
