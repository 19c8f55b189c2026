#!/usr/bin/env bash
# Usage: ensure-debian-package.sh COMMAND PACKAGE
# Tests that drive a program from Debian (chromium, systemd-analyze, …) run this first, so that
# `pnpm test` on a fresh machine passes: it installs PACKAGE with apt-get (as root) when COMMAND
# (a name on PATH or an absolute path) is missing, and does nothing when it is there.
set -euo pipefail
command="$1"
package="$2"
if command -v "$command" >/dev/null; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-debian-package: $command is missing; install it: sudo apt-get install -y $package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "$package" >/dev/null
