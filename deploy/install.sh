#!/usr/bin/env bash
# Installs lockerd on a Raspberry Pi OS / Debian locker controller from a checkout.
# Usage: sudo deploy/install.sh /path/to/lockerd.json
set -euo pipefail
config=${1:?usage: install.sh /path/to/lockerd.json}
src=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root"; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || { echo "Node.js >= 20.19 is required"; exit 1; }

id lockerd >/dev/null 2>&1 || useradd --system --home /var/lib/lockerd --shell /usr/sbin/nologin lockerd
getent group gpio >/dev/null || groupadd --system gpio
usermod -aG dialout,gpio lockerd

install -d -m 0755 /opt/lockerd
cp -a "$src/package.json" "$src/package-lock.json" "$src/tsconfig.json" "$src/tsconfig.build.json" "$src/src" "$src/hal" "$src/sim" "$src/test" "$src/deploy" /opt/lockerd/
cd /opt/lockerd
npm ci --no-audit --no-fund
npm run build
npm prune --omit=dev

# The data folder: private to lockerd (systemd's StateDirectoryMode says the same; lockerd itself
# also keeps it 0700 and its files 0600 whatever the umask).
install -d -m 0700 -o lockerd -g lockerd /var/lib/lockerd
install -d -m 0750 -o root -g lockerd /etc/lockerd
install -m 0640 -o root -g lockerd "$config" /etc/lockerd/lockerd.json
sudo -u lockerd node dist/src/cli/lockerd.js check-config --config /etc/lockerd/lockerd.json

install -m 0644 deploy/systemd/lockerd.service /etc/systemd/system/lockerd.service
install -m 0644 deploy/udev/99-lockerd.rules /etc/udev/rules.d/99-lockerd.rules
udevadm control --reload-rules && udevadm trigger --subsystem-match=tty || true
systemctl daemon-reload
systemctl enable --now lockerd.service
echo "lockerd installed; 'journalctl -u lockerd -f' shows its log, 'node /opt/lockerd/dist/src/cli/lockerd.js doctor --config /etc/lockerd/lockerd.json' probes the hardware."
