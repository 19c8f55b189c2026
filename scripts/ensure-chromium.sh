#!/usr/bin/env bash
# The status-page test drives Debian's chromium through playwright-core. Installs it when missing
# (as root, with apt-get); does nothing when /usr/bin/chromium is there. Run by .ci/run and by the
# test itself, so `pnpm test` on a fresh machine passes.
exec "$(dirname "$0")/ensure-debian-package.sh" /usr/bin/chromium chromium
