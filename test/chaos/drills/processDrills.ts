// Drills on a running process: the wall clock stepped back under a keypad lockout
// (libfaketime, finding 8), SIGTERM with doors open (finding 9), and expiry racing a pickup
// (finding 3).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type SerialBusConfig } from '../../../src/config/schema.js';
import { sleep } from '../../support/polling.js';
import { checkTransitions, type Snapshot } from '../invariants.js';
import { api, codeOf, courier, positionIn, ptyBoards, readStore, scratch, simLocker, startLockerd, within, type DepositView, type DrillResult } from './support.js';

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p));

/**
 * lockerd under libfaketime (wall clock only; monotonic time untouched). Three wrong codes
 * empty a keypad budget refilling one try a second; then the wall clock steps back an hour.
 * Honest: the lockout still ends after about a second (monotonic), and the step is recorded
 * as clock.jumped.
 */
export async function clockJumps(): Promise<DrillResult> {
  const name = 'clock jumps back 1 h during a keypad lockout (libfaketime)';
  const expected = 'the lockout runs on monotonic time and ends as due; the wall-clock step is recorded as clock.jumped';
  if (!LIBFAKETIME) return { name, expected, finding: '8', passed: false, observed: 'libfaketime is not installed (apt-get install -y faketime)' };
  const s = await scratch('clock');
  try {
    const demo = await simLocker(s.dataDir, { codes: { length: 10, burst: 3, refillPerHour: 3600 } });
    const offsetFile = join(s.dir, 'faketime');
    await writeFile(offsetFile, '+0\n');
    const env = { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_DONT_RESET: '1' };
    const p = await startLockerd(s, demo.config, { env });
    for (let i = 0; i < 3; i++) await api(p.url, 'POST', '/api/pickup', { code: '0000000000' });
    const locked = await api<{ lockedOut: boolean; retryAfterMs: number }>(p.url, 'GET', '/api/lockout');
    await writeFile(offsetFile, '-3600\n');
    const jumped = await within(15_000, () => (readStore(s.dataDir, (_st, outbox) => outbox.rows('op').some((r) => r.type === 'clock.jumped')) ? true : undefined), 250);
    const free = await within(5_000, async () => ((await api<{ lockedOut: boolean }>(p.url, 'GET', '/api/lockout')).body.lockedOut ? undefined : true), 100);
    const passed = locked.body.lockedOut && free === true && jumped === true;
    return { name, expected, finding: '8', passed, observed: `locked out after 3 wrong codes: ${String(locked.body.lockedOut)} (retry after ${locked.body.retryAfterMs} ms); clock.jumped recorded: ${String(jumped === true)}; lockout over after the step: ${String(free === true)}` };
  } finally {
    await s.cleanup();
  }
}

/**
 * Three deposits on a real pty, doors open with the parcels in; SIGTERM; the couriers shut the
 * doors 300 ms later. Honest: the stop refuses new sessions and waits (bounded) for the open
 * sessions, so the three parcels are stored, not left for inspection.
 */
export async function sigtermMidSession(): Promise<DrillResult> {
  const name = 'SIGTERM with three doors open';
  const expected = 'the stop waits (bounded) for door sessions in flight: the three doors shut during the stop come back stored, no inspection';
  const s = await scratch('sigterm');
  try {
    // The shipped drain bound (the test fixtures default to none).
    const demo = await simLocker(s.dataDir, { shutdown: { drainMs: 10_000 } });
    const bus = demo.config.hardware.buses[0] as SerialBusConfig;
    const boards = await ptyBoards(s.dir, bus);
    const { scanner: _scanner, ...hardware } = demo.config.hardware;
    const config = { ...demo.config, hardware: { ...hardware, buses: [boards.busConfig] } };
    const p = await startLockerd(s, config);
    const token = await courier(p.url, demo);
    const opened: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const d = await api<{ deposit: DepositView }>(p.url, 'POST', '/api/courier/deposits', { waybill: `DRILL-TERM-${i}`, size: 'S' }, token);
      if (d.status !== 200) return { name, expected, finding: '9', passed: false, observed: `deposit ${i}: ${d.status} ${codeOf(d) ?? ''}` };
      const c = d.body.deposit.compartment.id;
      opened.push(c);
      await within(3_000, () => (boards.world.lock(positionIn(config, c)).doorOpen ? true : undefined));
      boards.world.putParcel(positionIn(config, c));
    }
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    await sleep(300);
    for (const c of opened) boards.world.closeDoor(positionIn(config, c));
    const during = await api(p.url, 'POST', '/api/courier/deposits', { waybill: 'DRILL-TERM-4', size: 'S' }, token).catch(() => undefined);
    const exit = await Promise.race([p.exit, sleep(60_000).then(() => undefined)]);
    const stopMs = Date.now() - t0;
    if (!exit) await p.kill();
    const stored = readStore(s.dataDir, (st) => st.allParcels().filter((x) => x.waybill.startsWith('DRILL-TERM-') && x.state === 'stored').length);
    await boards.stop();
    const refused = during === undefined || during.status !== 200;
    const passed = stored === 3 && refused && exit !== undefined && stopMs < 90_000;
    return { name, expected, finding: '9', passed, observed: `exited after ${stopMs} ms (${exit ? `code ${String(exit.code)}` : 'not within 60 s'}); new deposit during the stop: ${during ? `${during.status} ${codeOf(during) ?? ''}` : 'no answer'}; parcels stored: ${stored}/3` };
  } finally {
    await s.cleanup();
  }
}

/**
 * Five parcels with a dwell of 7.2 s; each code is typed at a different moment around its
 * expires_at (300 ms before to 100 ms after) while the door takes 150 ms to open. Honest:
 * a code typed at or after expires_at is refused (CODE_EXPIRED); a pickup that loses the race
 * records no picked_up; every parcel's state is the one its last event says, with one audit row
 * per transition.
 */
export async function expiryRacingPickup(): Promise<DrillResult> {
  const name = 'expiry racing a pickup';
  const expected = 'no code opens from expires_at on; a transition that loses the race writes no event; state, events and audit agree';
  const s = await scratch('expiry');
  try {
    const demo = await simLocker(s.dataDir);
    const p = await startLockerd(s, demo.config);
    const token = await courier(p.url, demo);
    const parcels: { waybill: string; code: string; expiresAt: number; compartment: string }[] = [];
    for (let i = 1; i <= 5; i++) {
      const waybill = `DRILL-EXP-${i}`;
      const a = await api(p.url, 'POST', '/sim/carriers/swiftpost/reservations', { waybill, size: 'S', kind: 'parcel', dwellHours: 0.002 });
      if (a.status !== 200) return { name, expected, finding: '3', passed: false, observed: `announce: ${a.status} ${JSON.stringify(a.body)}` };
      const d = await api<{ deposit: DepositView }>(p.url, 'POST', '/api/courier/deposits', { waybill, size: 'S' }, token);
      if (d.status !== 200) return { name, expected, finding: '3', passed: false, observed: `deposit: ${d.status} ${codeOf(d) ?? ''}` };
      const c = d.body.deposit.compartment.id;
      await api(p.url, 'POST', `/sim/compartments/${c}/put`);
      await api(p.url, 'POST', `/sim/compartments/${c}/close`);
      const v = await within(3_000, async () => {
        const r = await api<{ deposit: DepositView & { expiresAt?: number } }>(p.url, 'GET', `/api/courier/deposits/${d.body.deposit.id}`, undefined, token);
        return r.body.deposit.state === 'stored' ? r.body.deposit : undefined;
      });
      if (!v?.pickupCode || !v.expiresAt) return { name, expected, finding: '3', passed: false, observed: `deposit ${waybill} not stored with a code and expiry` };
      parcels.push({ waybill, code: v.pickupCode, expiresAt: v.expiresAt, compartment: c });
    }
    const offsets = [-300, -150, -50, 0, 100];
    const wrong: string[] = [];
    const outcomes: string[] = [];
    await Promise.all(
      parcels.map(async (x, i) => {
        const at = x.expiresAt + (offsets[i] ?? 0);
        await sleep(Math.max(0, at - Date.now()));
        const sent = Date.now();
        const r = await api(p.url, 'POST', '/api/pickup', { code: x.code });
        outcomes.push(`${x.waybill}@${sent - x.expiresAt}ms:${r.status}${codeOf(r) ? ` ${codeOf(r)}` : ''}`);
        if (r.status === 200 && sent >= x.expiresAt) wrong.push(`${x.waybill} opened ${sent - x.expiresAt} ms after expires_at`);
        if (r.status === 200) {
          await within(2_000, async () => ((await api<{ locks: { compartment: string | null; doorOpen: boolean }[] }>(p.url, 'GET', '/sim/state')).body.locks.find((l) => l.compartment === x.compartment)?.doorOpen ? true : undefined));
          await api(p.url, 'POST', `/sim/compartments/${x.compartment}/take`);
          await api(p.url, 'POST', `/sim/compartments/${x.compartment}/close`);
        }
      }),
    );
    // Let the sweep and the door sessions settle, then compare state, events and audit.
    await within(70_000, () => (readStore(s.dataDir, (st) => st.allParcels().filter((x) => x.waybill.startsWith('DRILL-EXP-') && x.state === 'stored').length) === 0 && readStore(s.dataDir, (st) => st.inFlightSessions().length) === 0 ? true : undefined), 250);
    const snap = readStore(s.dataDir, (st, outbox): Snapshot => ({
      integrity: 'ok',
      foreignKeyProblems: 0,
      parcels: st.allParcels().map((x) => ({ id: x.id, carrier: x.carrier, waybill: x.waybill, kind: x.kind, state: x.state, compartmentId: x.compartmentId })),
      compartments: [],
      inFlightSessions: [],
      outbox: outbox.rows().map((r) => ({ stream: r.stream, seq: r.seq, id: r.id, type: r.type, data: JSON.parse(r.data) as Record<string, unknown> })),
      audit: st.auditTrail().map((a) => ({ action: a.action, subject: a.subject })),
      world: [],
    }));
    const problems = [...wrong, ...checkTransitions(snap).map((f) => f.detail)];
    const states = snap.parcels.map((x) => `${x.waybill}:${x.state}`).join(', ');
    return { name, expected, finding: '3', passed: problems.length === 0, observed: `${outcomes.sort().join('; ')} -> ${states}${problems.length ? `; PROBLEMS: ${problems.join('; ')}` : ''}` };
  } finally {
    await s.cleanup();
  }
}
