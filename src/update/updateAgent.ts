// lockerd's side of signed updates (docs/operations.md, "Updates"). The running release:
//   - on the operator's `update` command: fetches the manifest, checks it is the one the command
//     names, verifies it against the release keys, checks arch, ABI, version and schema range,
//     downloads the bundle (resumable), checks its SHA-256, unpacks it beside the running one and
//     reports update.downloaded; the command's reply carries any refusal with its code;
//   - then, in the background: waits for the window and until no door session is in flight,
//     snapshots the database (SQLite backup API), writes the trial, switches `current` and asks
//     for a restart (exit code 75: the supervisor starts the new release).
// A release started on trial reports update.applied, and commits once it has been ready, with
// its buses and its broker reached, for the whole stable window; it then reports
// update.committed. Rollbacks are made outside lockerd (bootGuard.ts); the release that runs
// after one reports update.rolled_back with the reason. Every outcome is reported exactly once:
// the event and the "reported" marker are written in one transaction.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import type { Ed25519PublicJwk } from '../config/schema.js';
import type { EventRecorder } from '../domain/eventRecorder.js';
import { LockerError } from '../../kernel/errors.js';
import type { Logger } from '../logger.js';
import type { RandomSource } from '../../kernel/random.js';
import type { Db } from '../store/database.js';
import type { LockerStore } from '../store/lockerStore.js';
import type { CommandActor, UpdateArgs, UpdateResult } from '../domain/lockerOperations.js';
import { beginTrial, commit, currentVersion, pruneReleases, readState, recordFailure, releaseComplete, releaseDir, RELEASE_ENTRY, RELEASES_DIR, type Failpoint, type Outcome } from './bootGuard.js';
import { checkReleaseUrl, downloadBundle, fetchSmall, type FetchOptions } from './download.js';
import { checkManifestFits, MAX_MANIFEST_BYTES, normaliseDigest, sha256Hex, verifyManifest, type ReleaseManifest } from './manifest.js';
import { Events, type OperatorEvent } from '../domain/events.js';

const run = promisify(execFile);

export interface UpdateSettings {
  /** The release root: releases/, current, update-state.json (e.g. /opt/lockerd). */
  root: string;
  releaseKeys: readonly Ed25519PublicJwk[];
  /** PEM file of the CA that signs the release server's certificate. */
  ca?: string | undefined;
  allowHttpLoopback: boolean;
  maxBundleBytes: number;
  /** A new release must be ready within this... */
  readyTimeoutMs: number;
  /** ...and then stay healthy this long without a restart before it commits. */
  stableMs: number;
  /** Starts of a new release before it is given up (the boot counter's limit). */
  maxBoots: number;
  /** Snapshots of the database kept (one per update). */
  keepSnapshots: number;
}

export interface UpdateHealth {
  /** Every lock bus connected. */
  buses: boolean;
  /** The broker reached (true when no broker is configured). */
  broker: boolean;
}

export interface UpdateAgentDeps {
  settings: UpdateSettings;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  db: Db;
  store: LockerStore;
  recorder: EventRecorder;
  /** The running release's version and package folder. */
  version: string;
  packageRoot: string;
  health: () => UpdateHealth;
  /** Stop and exit with RESTART_EXIT_CODE, so the supervisor starts what `current` points at. */
  requestRestart: () => void;
  /** Test hook for power cuts inside the switch. */
  failpoint?: Failpoint;
}

export const GUARD_FILE = join('bin', 'lockerd-update-guard.js');
const POLL_MS = 1_000;
const DOWNLOAD_TIMEOUT_MS = 30 * 60_000;

export class UpdateAgent {
  private busy = false;
  private gate: TimerHandle | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly d: UpdateAgentDeps) {
    this.log = d.logger.child({ channel: 'update' });
  }

  /** Called once lockerd is ready: reports outcomes, and on trial starts the health gate. */
  async start(): Promise<void> {
    await this.installGuard(false);
    this.reportOutcomes();
    const trial = readState(this.d.settings.root).trial;
    if (!trial || trial.version !== this.d.version || currentVersion(this.d.settings.root) !== this.d.version) return;
    this.reportOnce(`applied.${trial.id}`, Events.updateApplied({ id: trial.id, version: trial.version, from: trial.previous, boot: trial.boots }));
    let healthySince: number | undefined;
    this.gate = this.d.clock.setInterval(() => {
      const h = this.d.health();
      const now = this.d.clock.monotonic();
      if (!h.buses || !h.broker) {
        healthySince = undefined;
        return;
      }
      healthySince ??= now;
      if (now - healthySince < this.d.settings.stableMs) return;
      this.gate?.cancel();
      this.gate = undefined;
      if (commit(this.d.settings.root, this.d.version, this.d.clock.now())) {
        // The committed release and the one before it stay: a later update may need the fallback.
        const removed = pruneReleases(this.d.settings.root, [this.d.version, trial.previous]);
        this.log.info({ version: this.d.version, removed }, 'update committed');
        void this.installGuard(true).catch((err: unknown) => this.log.warn({ err }, 'could not install the update guard'));
      }
      this.reportOutcomes();
    }, POLL_MS);
  }

  stop(): void {
    this.stopped = true;
    this.gate?.cancel();
  }

  /** The `update` command: everything that can refuse runs before the reply. */
  async update(args: UpdateArgs, by: CommandActor): Promise<UpdateResult> {
    if (this.busy) throw new LockerError('UPDATE_BUSY', 'another update is in progress');
    this.busy = true;
    let scheduled = false;
    try {
      const s = this.d.settings;
      // Updating needs the release layout: this very release must be what `current` points at.
      const running = currentVersion(s.root);
      if (running !== this.d.version)
        throw new LockerError('UPDATE_NOT_CONFIGURED', `lockerd ${this.d.version} does not run from ${s.root}/current (${running === undefined ? 'no such link' : `it points at ${running}`})`);
      // The whole download is bounded too (a server that trickles bytes would hold the slot forever).
      const fetchOptions = { allowHttpLoopback: s.allowHttpLoopback, signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), ...(s.ca ? { ca: await readFile(s.ca, 'utf8') } : {}) };
      const manifestUrl = checkReleaseUrl(args.url, fetchOptions);
      const raw = await fetchSmall(manifestUrl, MAX_MANIFEST_BYTES, fetchOptions);
      if (sha256Hex(raw) !== normaliseDigest(args.manifestDigest)) throw new LockerError('UPDATE_TAMPERED', 'the manifest is not the one the command names (digest differs)', { what: 'manifest' });
      const manifest = await verifyManifest(raw.toString('utf8').trim(), s.releaseKeys);
      checkManifestFits(manifest, { arch: process.arch, nodeAbi: process.versions.modules, version: this.d.version, schemaVersion: this.schemaVersion() });
      // A release unpacked before (an update sent again) is reused only if it is the same bundle.
      if (!releaseComplete(s.root, manifest.version) || (await unpackedDigest(s.root, manifest.version)) !== manifest.sha256) {
        await rm(releaseDir(s.root, manifest.version), { recursive: true, force: true });
        await this.fetchAndUnpack(manifest, new URL(manifest.bundle, manifestUrl), fetchOptions);
      }
      this.report(`downloaded.${by.commandId}`, Events.updateDownloaded({ id: by.commandId, version: manifest.version, from: this.d.version, size: manifest.size }));
      scheduled = true;
      void this.applyWhenIdle(by.commandId, manifest.version, args.window).finally(() => {
        this.busy = false;
      });
      return { id: by.commandId, version: manifest.version, from: this.d.version, state: 'downloaded' };
    } finally {
      if (!scheduled) this.busy = false;
    }
  }

  private schemaVersion(): number {
    return this.d.db.pragma('user_version', { simple: true }) as number;
  }

  private async fetchAndUnpack(m: ReleaseManifest, bundleUrl: URL, o: FetchOptions): Promise<void> {
    const s = this.d.settings;
    checkReleaseUrl(bundleUrl.href, o);
    const downloads = join(s.root, 'downloads');
    await mkdir(downloads, { recursive: true, mode: 0o700 });
    const part = join(downloads, `${m.version}-${m.sha256.slice(0, 16)}.tar.gz.part`);
    await downloadBundle(
      {
        url: bundleUrl,
        file: part,
        expectedSize: m.size,
        maxBytes: s.maxBundleBytes,
        clock: this.d.clock,
        progress: (p) => this.log.info({ version: m.version, ...p }, 'bundle download'),
      },
      o,
    );
    if ((await fileSha256(part)) !== m.sha256) {
      await rm(part, { force: true });
      throw new LockerError('UPDATE_TAMPERED', 'the bundle does not match its signed manifest (SHA-256 differs)', { what: 'bundle' });
    }
    const tmp = join(s.root, RELEASES_DIR, `.unpack-${m.version}-${Buffer.from(this.d.random.bytes(4)).toString('hex')}`);
    await mkdir(tmp, { recursive: true, mode: 0o755 });
    try {
      // GNU tar refuses absolute names and "..": a bundle cannot write outside its folder.
      await run('tar', ['-xzf', part, '-C', tmp, '--no-same-owner', '--no-overwrite-dir'], { timeout: 10 * 60_000 });
      const pkg = JSON.parse(await readFile(join(tmp, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name !== 'lockerd' || pkg.version !== m.version) throw new LockerError('UPDATE_MANIFEST_INVALID', `the bundle holds ${String(pkg.name)} ${String(pkg.version)}, the manifest says lockerd ${m.version}`);
      if (!existsSync(join(tmp, RELEASE_ENTRY))) throw new LockerError('UPDATE_MANIFEST_INVALID', `the bundle has no ${RELEASE_ENTRY}`);
      await writeFile(join(tmp, BUNDLE_DIGEST_FILE), `${m.sha256}\n`);
      await run('sync', ['-f', tmp]);
      await rename(tmp, releaseDir(s.root, m.version));
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      if (e instanceof LockerError) throw e;
      throw new LockerError('UPDATE_MANIFEST_INVALID', `the bundle cannot be unpacked: ${(e as Error).message}`);
    }
    await rm(part, { force: true });
  }

  private async applyWhenIdle(id: string, version: string, window: UpdateArgs['window']): Promise<void> {
    const s = this.d.settings;
    try {
      for (;;) {
        if (this.stopped) return;
        const now = this.d.clock.now();
        if (window?.end !== undefined && now > window.end * 1000) {
          recordFailure(s.root, { id, version, from: this.d.version, reason: 'window_passed', at: now });
          this.reportOutcomes();
          return;
        }
        const inWindow = window?.start === undefined || now >= window.start * 1000;
        if (inWindow && this.d.store.inFlightSessions().length === 0) break;
        await this.d.clock.sleep(POLL_MS);
      }
      await this.snapshot(version);
      // The backup yields to the event loop: look again before the switch.
      while (this.d.store.inFlightSessions().length > 0) await this.d.clock.sleep(POLL_MS);
      beginTrial(s.root, { id, version, now: this.d.clock.now(), windowMs: s.readyTimeoutMs + s.stableMs, maxBoots: s.maxBoots }, this.d.failpoint);
      this.log.info({ version, from: this.d.version }, 'switched to the new release; restarting');
      this.d.requestRestart();
    } catch (err) {
      this.log.error({ err, version }, 'the update could not be applied');
      recordFailure(s.root, { id, version, from: this.d.version, reason: 'apply_failed', at: this.d.clock.now() });
      this.reportOutcomes();
    }
  }

  /** A copy of the database before the new release may migrate it (kept: the newest keepSnapshots). */
  private async snapshot(version: string): Promise<void> {
    const dir = join(this.d.settings.root, 'snapshots');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `lockerd-${this.d.version}-before-${version}-${this.d.clock.now()}.db`);
    await this.d.db.backup(file);
    await chmod(file, 0o600);
    const all = (await readdir(dir)).filter((f) => f.endsWith('.db')).sort((a, b) => stampOf(a) - stampOf(b));
    for (const old of all.slice(0, Math.max(0, all.length - this.d.settings.keepSnapshots))) await rm(join(dir, old), { force: true });
    this.log.info({ file }, 'database snapshot taken before the switch');
  }

  /** Puts this release's boot guard at <root>/bin/ (always after a commit; otherwise only when missing). */
  private async installGuard(overwrite: boolean): Promise<void> {
    const compiled = join(this.d.packageRoot, 'dist', 'src', 'update', 'bootGuard.js');
    const target = join(this.d.settings.root, GUARD_FILE);
    if (!existsSync(compiled) || (!overwrite && existsSync(target))) return;
    await mkdir(join(this.d.settings.root, 'bin'), { recursive: true });
    const tmp = `${target}.tmp`;
    await copyFile(compiled, tmp);
    await rename(tmp, target);
  }

  private reportOutcomes(): void {
    for (const o of readState(this.d.settings.root).outcomes) this.reportOnce(`${o.kind}.${o.id}`, outcomeEvent(o));
  }

  private reportOnce(marker: string, event: OperatorEvent): void {
    if (this.d.store.setting(`update.reported.${marker}`) !== undefined) return;
    this.report(marker, event);
  }

  private report(marker: string, event: OperatorEvent): void {
    this.d.recorder.commit({ actor: 'system', action: event.type, data: event.data, events: [event] }, () => this.d.store.putSetting(`update.reported.${marker}`, String(this.d.clock.now())));
    this.log.info({ type: event.type, ...event.data }, 'update event');
  }
}

/** The operator event of an update outcome (no event type is built from a template). */
function outcomeEvent(o: Outcome): OperatorEvent {
  const data = { id: o.id, version: o.version, from: o.from, ...(o.reason ? { reason: o.reason } : {}), at: o.at };
  return o.kind === 'committed' ? Events.updateCommitted(data) : o.kind === 'rolled_back' ? Events.updateRolledBack(data) : Events.updateFailed(data);
}

/** Written into each unpacked release: the SHA-256 of the bundle it came from. */
const BUNDLE_DIGEST_FILE = '.bundle-sha256';

async function unpackedDigest(root: string, version: string): Promise<string | undefined> {
  try {
    return (await readFile(join(releaseDir(root, version), BUNDLE_DIGEST_FILE), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

function stampOf(file: string): number {
  return Number(/-(\d+)\.db$/.exec(file)?.[1] ?? 0);
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
