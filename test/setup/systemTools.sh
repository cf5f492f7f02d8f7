#!/usr/bin/env bash
# The interop tests talk to real programs: Mosquitto 2 (broker and clients), socat (pty pairs),
# Debian's Chromium, curl and python3. This installs whichever is missing (as root, or through sudo) so that
# `npm test` works on a fresh Debian machine; it does nothing when all are there.
set -euo pipefail
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
command -v socat >/dev/null 2>&1 || missing+=(socat)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The README's walk-throughs (test/interop/readmeWalkthrough.test.ts) use curl, and setsid and
# timeout from util-linux and coreutils.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v setsid >/dev/null 2>&1 || missing+=(util-linux)
# The systemd notify test stands in for systemd's notify socket with python3 (SO_PASSCRED).
command -v python3 >/dev/null 2>&1 || missing+=(python3)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing test tools from Debian: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then run=(); elif command -v sudo >/dev/null 2>&1; then run=(sudo); else
  echo "please install: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq "${missing[@]}"
