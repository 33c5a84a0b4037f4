#!/bin/sh
# The browser tests (the invites join page, the previews dashboard) drive Debian's chromium through its
# chromedriver (selenium; no browser downloads). `make test` installs both with apt-get when they are missing.
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo"
echo "installing chromium and chromium-driver (apt-get) for the browser tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
