#!/bin/sh
# X11 alternative to cage: run as the kiosk user's whole X session, for example
#   xinit /opt/lockerd/deploy/kiosk/kiosk-x11-session.sh -- :0 vt1 -nocursor -s 0 -dpms
# from the ExecStart= of lockerd-kiosk.service. The screen never blanks and never powers down.
set -eu
# The start page written by kiosk-start-page.sh (ExecStartPre=+ of the unit) carries the
# terminal key the page pairs with; without it the screen works but scans do nothing.
url="file:///run/lockerd-kiosk/start.html"
[ -r /run/lockerd-kiosk/start.html ] || url="${KIOSK_URL:-http://127.0.0.1:8080/}"

xset s off
xset s noblank
xset -dpms

# Nothing but the browser in the session: when it exits, the session ends and systemd
# (Restart=always) starts a fresh one.
exec /usr/bin/chromium \
  --kiosk --app="$url" \
  --noerrdialogs --disable-session-crashed-bubble --incognito \
  --disable-background-networking --disable-component-update --no-first-run \
  --disable-translate --disable-features=Translate,TouchpadOverscrollHistoryNavigation \
  --overscroll-history-navigation=0 --disable-pinch \
  --check-for-update-interval=31536000
