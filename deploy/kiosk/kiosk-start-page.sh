#!/bin/sh
# Writes the kiosk browser's start page: a local file only the kiosk user can read, which sends
# Chromium to the kiosk with the terminal key in the URL fragment. A fragment never reaches a
# server or its logs, and this way the key is on no command line (ps shows those to anyone).
# The page takes the key off the address bar at once and pairs (docs/kiosk-api.md).
#
# Run as root from the kiosk unit: ExecStartPre=+/opt/lockerd/deploy/kiosk/kiosk-start-page.sh
#   $1                     the page to write (default /run/lockerd-kiosk/start.html)
#   LOCKERD_TERMINAL_KEY   the key file lockerd creates (default /var/lib/lockerd/kiosk-terminal.key)
#   KIOSK_URL, KIOSK_USER  where the kiosk is, and who runs the browser (default kiosk)
set -eu
out="${1:-/run/lockerd-kiosk/start.html}"
key_file="${LOCKERD_TERMINAL_KEY:-/var/lib/lockerd/kiosk-terminal.key}"
url="${KIOSK_URL:-http://127.0.0.1:8080/}"
user="${KIOSK_USER:-kiosk}"
key=$(tr -cd 'A-Za-z0-9_-' < "$key_file")
if [ "${#key}" -lt 43 ]; then
  echo "no terminal key in $key_file (lockerd creates it at start)" >&2
  exit 1
fi
umask 077
tmp="$out.tmp"
printf '<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=%s#k=%s"><title>lockerd</title>\n' "$url" "$key" > "$tmp"
chown "$user:" "$tmp"
chmod 0600 "$tmp"
mv "$tmp" "$out"
