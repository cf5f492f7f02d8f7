#!/usr/bin/env bash
# Installs lockerd on a Raspberry Pi OS / Debian locker controller from a checkout.
# Usage: sudo deploy/install.sh [--dry-run] /path/to/lockerd.json
#
# What it does (deploy/README.md has the reasons):
#   1. checks the configuration before touching the machine: its dataDir must be the folder the
#      unit lets lockerd write (StateDirectory= of deploy/systemd/lockerd.service, i.e.
#      /var/lib/lockerd), and it must not use simulated hardware (the installed package has no
#      simulator);
#   2. builds in a staging folder as the unprivileged user lockerd-build, so no dependency's
#      install script runs as root or as lockerd (which can read the locker's keys);
#   3. installs only what runs (dist/kernel, dist/src, dist/hal, the kiosk pages, production node_modules)
#      as the release /opt/lockerd/releases/<version>, owned by root (no test/, no sim/, no
#      TypeScript sources), and points /opt/lockerd/current at it: the layout signed updates use;
#   4. installs the configuration, the unit with its updates drop-in, the rollback and health-gate
#      units and the udev rules, and starts the service.
# --dry-run checks step 1 (no root needed) and prints the commands of steps 2-4 instead of
# running them.
set -euo pipefail

dry_run=0
if [ "${1:-}" = "--dry-run" ]; then
  dry_run=1
  shift
fi
config=${1:?usage: install.sh [--dry-run] /path/to/lockerd.json}
src=$(cd "$(dirname "$0")/.." && pwd)
unit="$src/deploy/systemd/lockerd.service"
prefix=/opt/lockerd
build_user=lockerd-build

die() {
  echo "install.sh: $*" >&2
  exit 1
}

run() {
  if [ "$dry_run" = 1 ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Runs a command as the build user, with its home and npm cache inside the staging folder.
as_builder() {
  run runuser -u "$build_user" -- env HOME="$stage" npm_config_cache="$stage/.npm-cache" npm_config_update_notifier=false "$@"
}

[ -f "$config" ] || die "no configuration file $config"
[ "$dry_run" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (or with --dry-run to check the configuration)"
command -v node >/dev/null || die "Node.js >= 20.19 is required (apt-get install nodejs)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || die "Node.js >= 20.19 is required"

# ---- 1. the configuration fits the unit ----
state_dir=$(sed -n 's/^StateDirectory=\([^ ]*\).*/\1/p' "$unit" | head -n 1)
[ -n "$state_dir" ] || die "$unit has no StateDirectory="
allowed="/var/lib/$state_dir"
grep -q "^ReadWritePaths=.*$allowed" "$unit" || die "$unit does not let lockerd write $allowed (ReadWritePaths=)"
# node reads the JSON (no jq on a stock image); it prints one line per problem.
problems=$(node - "$config" "$allowed" <<'EOF'
const [file, allowed] = process.argv.slice(2);
const { readFileSync } = require('node:fs');
const { resolve, dirname } = require('node:path');
let c;
try {
  c = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.log(`${file} is not valid JSON`);
  process.exit(0);
}
if (typeof c !== 'object' || c === null || typeof c.dataDir !== 'string') {
  console.log('the configuration has no dataDir');
  process.exit(0);
}
// As lockerd resolves it: relative to the configuration's folder, here /etc/lockerd.
const dataDir = resolve('/etc/lockerd', c.dataDir).replace(/\/+$/, '');
if (dataDir !== allowed)
  console.log(`dataDir is ${c.dataDir}: the unit lets lockerd write only ${allowed} (StateDirectory=, ReadWritePaths=); set "dataDir": "${allowed}"`);
const sim = [];
const walk = (v, path) => {
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}.${i}`));
  else if (v && typeof v === 'object') {
    if (v.kind === 'sim') sim.push(path.slice(1));
    for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  }
};
walk(c.hardware, '.hardware');
for (const p of sim) console.log(`${p} is simulated hardware (kind "sim"): the installed package has no simulator; use a serial, tcp or gpio transport`);
EOF
)
if [ -n "$problems" ]; then
  printf 'install.sh: %s cannot be installed:\n' "$config" >&2
  printf '%s\n' "$problems" | sed 's/^/  /' >&2
  exit 1
fi
echo "configuration: dataDir $allowed, real hardware: ok"

# ---- 2. build as an unprivileged user ----
if [ "$dry_run" = 1 ]; then stage=/var/tmp/lockerd-build.DRYRUN; else stage=$(mktemp -d /var/tmp/lockerd-build.XXXXXX); fi
if [ "$dry_run" = 0 ]; then trap 'rm -rf "$stage"' EXIT; fi
id "$build_user" >/dev/null 2>&1 || run useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$build_user"
run cp -a "$src/package.json" "$src/package-lock.json" "$src/tsconfig.json" "$src/tsconfig.build.json" "$src/scripts" "$src/kernel" "$src/src" "$src/hal" "$src/sim" "$src/fleet" "$src/test" "$stage/"
run chown -R "$build_user:$build_user" "$stage"
# The build compiles sim/ and the test helpers (tsconfig.build.json); neither is installed.
as_builder bash -c "cd '$stage' && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund"

# ---- 3. install what runs, owned by root, as a release beside any earlier ones ----
# The layout signed updates use (docs/operations.md, "Updates"): /opt/lockerd/releases/<version>
# and /opt/lockerd/current -> releases/<version>. /opt/lockerd and releases/ belong to lockerd
# (it unpacks verified releases there and switches `current`); the release installed here stays
# root's and read-only to lockerd.
version=$(node -p 'require(process.argv[1]).version' "$src/package.json")
case "$version" in ''|*/*|.*) die "package.json has no usable version ($version)" ;; esac
release="$prefix/releases/$version"
id lockerd >/dev/null 2>&1 || run useradd --system --home-dir /var/lib/lockerd --no-create-home --shell /usr/sbin/nologin lockerd
getent group gpio >/dev/null || run groupadd --system gpio
run usermod -aG dialout,gpio lockerd
# An install from before the release layout (dist/ directly under /opt/lockerd) is kept aside.
if [ -d "$prefix/dist" ] && [ ! -d "$prefix/releases" ]; then
  run rm -rf "$prefix.flat-old"
  run mv "$prefix" "$prefix.flat-old"
fi
run install -d -m 0755 -o lockerd -g lockerd "$prefix" "$prefix/releases"
run rm -rf "$release.new"
run install -d -m 0755 "$release.new" "$release.new/dist" "$release.new/src/kiosk" "$release.new/deploy"
run cp -a "$stage/dist/kernel" "$stage/dist/src" "$stage/dist/hal" "$release.new/dist/"
run cp -a "$stage/node_modules" "$stage/package.json" "$stage/package-lock.json" "$release.new/"
run cp -a "$src/src/kiosk/public" "$release.new/src/kiosk/"
run cp -a "$src/deploy/systemd" "$src/deploy/udev" "$release.new/deploy/"
run cp -a "$src/README.md" "$release.new/"
run chown -R root:root "$release.new"
run chmod -R go-w "$release.new"
if [ -e "$release" ]; then run rm -rf "$release.old" && run mv "$release" "$release.old"; fi
run mv "$release.new" "$release"
run rm -rf "$release.old"
# Switch `current` atomically (a rename over the old link).
run ln -sfn "releases/$version" "$prefix/current.new"
run chown -h lockerd:lockerd "$prefix/current.new"
run mv -T "$prefix/current.new" "$prefix/current"
# The boot guard systemd runs before each start (every committed update replaces it).
run install -d -m 0755 -o lockerd -g lockerd "$prefix/bin"
run install -m 0644 -o lockerd -g lockerd "$release/dist/src/update/bootGuard.js" "$prefix/bin/lockerd-update-guard.js"

# ---- 4. configuration, unit, udev, start ----
# The data folder: private to lockerd (systemd's StateDirectoryMode says the same; lockerd itself
# also keeps it 0700 and its files 0600 whatever the umask).
run install -d -m 0700 -o lockerd -g lockerd "$allowed"
run install -d -m 0750 -o root -g lockerd /etc/lockerd
run install -m 0640 -o root -g lockerd "$config" /etc/lockerd/lockerd.json
run runuser -u lockerd -- node "$prefix/current/dist/src/cli/lockerd.js" check-config --config /etc/lockerd/lockerd.json
# The explicit first boot: creates the database and the locker identity in a fresh data folder
# (says "initialised already" and changes nothing on a reinstall). The service itself never
# initialises a folder, so a lost database stops it instead of being silently recreated.
run runuser -u lockerd -- node "$prefix/current/dist/src/cli/lockerd.js" init --config /etc/lockerd/lockerd.json

run install -m 0644 "$src/deploy/systemd/lockerd.service" /etc/systemd/system/lockerd.service
run install -D -m 0644 "$src/deploy/systemd/lockerd.service.d/updates.conf" /etc/systemd/system/lockerd.service.d/updates.conf
run install -m 0644 "$src/deploy/systemd/lockerd-rollback.service" "$src/deploy/systemd/lockerd-update-gate.service" "$src/deploy/systemd/lockerd-update-gate.timer" /etc/systemd/system/
run install -m 0644 "$src/deploy/udev/99-lockerd.rules" /etc/udev/rules.d/99-lockerd.rules
if grep -q 'ATTRS{serial}=="REPLACE-' "$src/deploy/udev/99-lockerd.rules"; then
  echo "note: deploy/udev/99-lockerd.rules still holds REPLACE-... serial numbers; see deploy/udev/README.md" >&2
fi
run udevadm control --reload-rules
run udevadm trigger --subsystem-match=tty
run systemctl daemon-reload
run systemctl enable --now lockerd-update-gate.timer
run systemctl enable lockerd.service
run systemctl restart lockerd.service
echo "lockerd installed; 'journalctl -u lockerd -f' shows its log; 'sudo systemctl stop lockerd' then 'sudo -u lockerd node $prefix/current/dist/src/cli/lockerd.js doctor --config /etc/lockerd/lockerd.json' probes the hardware."
