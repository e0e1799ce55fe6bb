#!/usr/bin/env bash
# Headless Chromium (Debian packages chromium + chromium-driver) for the browser tests: the review report,
# the validation HTML report and define.xml are opened as a reviewer would. Installed here, by `make test`,
# so nothing has to be installed by hand; needs root or password-less sudo and Debian's package mirror.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "warning: chromium is missing and cannot be installed without root: the browser tests will say so" >&2
  exit 0
fi
echo "installing Debian chromium for the browser tests (once)..."
$SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
  || echo "warning: apt-get could not install chromium: the browser tests will say so" >&2
exit 0
