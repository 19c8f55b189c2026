#!/usr/bin/env bash
# The status-page test drives Debian's chromium through playwright-core. Installs it when missing
# (as root, with apt-get); does nothing when /usr/bin/chromium is there. Run by .ci/run and by the
# test itself, so `pnpm test` on a fresh machine passes.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure-chromium: /usr/bin/chromium is missing; install it: sudo apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
