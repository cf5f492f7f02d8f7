// Drills on a real pseudo-terminal (socat) with the board simulator behind it: the cable
// pulled while a latch is energised (finding 1), and the adapter absent at boot (finding 2).
import { type SerialBusConfig } from '../../../src/config/schema.js';
import { type SimPosition } from '../../../sim/world.js';
import { sleep } from '../../support/polling.js';
import { api, codeOf, courier, ptyBoards, readStore, scratch, simLocker, startLockerd, within, type DepositView, type DrillResult } from './support.js';

const DISHONEST = ['LATCH_JAMMED', 'NO_COMPARTMENT_FREE', 'BOARD_SILENT'];

/**
 * A deposit's unlock frame reaches the board; 5 ms later the cable is pulled (the latch was
 * energised and releases). The courier puts the parcel in and shuts the door; the cable comes
 * back after a second. Honest: the compartment holding the parcel is never offered to the next
 * courier (it is stored, or sent to inspection), and an error names BUS_DISCONNECTED.
 */
export async function cablePulledMidUnlock(): Promise<DrillResult> {
  const s = await scratch('cable');
  const name = 'cable pulled mid-unlock (real pty)';
  const expected = 'once the unlock frame is written, a lost transport makes the session uncertain: the compartment holding the parcel is stored or inspected, never offered free; errors say BUS_DISCONNECTED';
  try {
    const demo = await simLocker(s.dataDir, { doors: { openTimeoutMs: 1500, leftOpenAlarmMs: 60_000, jamRetries: 1 } });
    const bus = demo.config.hardware.buses[0] as SerialBusConfig;
    const boards = await ptyBoards(s.dir, { ...bus, boards: bus.boards.map((b) => ({ ...b, energiseMs: 200 })), reconnectMinMs: 50, reconnectMaxMs: 300 });
    const { scanner: _scanner, ...hardware } = demo.config.hardware;
    const config = { ...demo.config, hardware: { ...hardware, buses: [boards.busConfig] } };
    const p = await startLockerd(s, config);
    await within(10_000, async () => ((await api<{ buses: { connected: boolean }[] }>(p.url, 'GET', '/api/health')).body.buses[0]?.connected ? true : undefined));

    // The unlock frame reached the board: pull the cable 5 ms later.
    let unlocked: SimPosition | undefined;
    const energise = boards.world.energise.bind(boards.world);
    boards.world.energise = (pos: SimPosition, ms: number) => {
      energise(pos, ms);
      if (!unlocked) {
        unlocked = pos;
        setTimeout(() => void boards.pull(), 5);
      }
    };
    const token = await courier(p.url, demo);
    // The reply may wait for the line (bounded): the cable goes back in while it is pending.
    const pending = api<{ deposit: DepositView }>(p.url, 'POST', '/api/courier/deposits', { waybill: 'DRILL-CABLE-1', size: 'S' }, token);
    await within(5_000, () => (unlocked ? true : undefined));
    const opened = unlocked;
    if (!opened) {
      const reply = await pending;
      return { name, expected, finding: '1', passed: false, observed: `no unlock reached the board (reply ${reply.status} ${codeOf(reply) ?? ''})` };
    }
    // The latch released (the world is ours): the courier puts the parcel in and shuts the door.
    await within(2_000, () => (boards.world.lock(opened).doorOpen ? true : undefined));
    if (boards.world.lock(opened).doorOpen) {
      boards.world.putParcel(opened);
      boards.world.closeDoor(opened);
    }
    await sleep(1_000);
    await boards.plug();
    const reply = await pending;
    const compartment = config.layout.compartments.find((c) => c.bus === opened.bus && c.board === opened.board && c.lock === opened.lock)?.id ?? '?';
    // Bounded: the bus is back and any uncertain session resolved.
    await within(10_000, () => (readStore(s.dataDir, (st) => st.inFlightSessions().length) === 0 ? true : undefined), 100);
    const record = readStore(s.dataDir, (st) => ({
      parcel: st.allParcels().find((x) => x.compartmentId === compartment && x.state === 'stored'),
      c: st.compartment(compartment),
    }));
    const honestRecord = record.parcel !== undefined || record.c?.inService === false || (record.c?.fault ?? null) !== null;
    const code = reply.status === 200 ? undefined : codeOf(reply);
    const honestError = code === undefined || !DISHONEST.includes(code);
    // The next courier of that size must not be sent to the full compartment.
    const next = await api<{ deposit: DepositView }>(p.url, 'POST', '/api/courier/deposits', { waybill: 'DRILL-CABLE-2', size: 'S' }, await courier(p.url, demo));
    const offeredAgain = next.status === 200 && next.body.deposit.compartment.id === compartment;
    await boards.stop();
    const passed = honestRecord && honestError && !offeredAgain;
    return {
      name,
      expected,
      finding: '1',
      passed,
      observed: `first reply ${reply.status}${code ? ` ${code}` : ''}; ${compartment} holds the parcel: record ${record.parcel ? 'stored' : 'no parcel'}, in service ${String(record.c?.inService)}, fault ${record.c?.fault ?? 'none'}; next courier ${offeredAgain ? 'offered the same compartment' : `got ${next.status === 200 ? next.body.deposit.compartment.id : `${next.status} ${codeOf(next) ?? ''}`}`}`,
    };
  } finally {
    await s.cleanup();
  }
}

/**
 * lockerd starts with the serial adapter absent, is stopped and started again still without
 * it, then the device appears. Honest: it stays up both times, health names BUS_DISCONNECTED,
 * one alarm.bus_disconnected for the whole outage, and the bus connects when the path appears.
 */
export async function adapterAbsentAtBoot(): Promise<DrillResult> {
  const s = await scratch('adapter');
  const name = 'adapter absent at boot';
  const expected = 'starts degraded (health 503 naming BUS_DISCONNECTED), one alarm per outage across restarts, connects when the device path appears';
  try {
    const demo = await simLocker(s.dataDir);
    const bus = demo.config.hardware.buses[0] as SerialBusConfig;
    const boards = await ptyBoards(s.dir, { ...bus, reconnectMinMs: 60_000, reconnectMaxMs: 60_000 }, false);
    const { scanner: _scanner, ...hardware } = demo.config.hardware;
    const config = { ...demo.config, hardware: { ...hardware, buses: [boards.busConfig] } };
    const health = async (url: string): Promise<{ status: number; faults: string[]; connected: boolean }> => {
      const h = await api<{ faults: { code: string }[]; buses: { connected: boolean }[] }>(url, 'GET', '/api/health');
      return { status: h.status, faults: (h.body.faults ?? []).map((f) => f.code), connected: h.body.buses?.[0]?.connected === true };
    };
    let first;
    try {
      first = await startLockerd(s, config, {}, 20_000);
    } catch (e) {
      return { name, expected, finding: '2', passed: false, observed: `did not start: ${String(e).slice(0, 300)}` };
    }
    const h1 = await health(first.url);
    await first.stop();
    const second = await startLockerd(s, config, {}, 20_000);
    const h2 = await health(second.url);
    await boards.plug();
    const back = await within(10_000, async () => ((await health(second.url)).connected ? true : undefined), 100);
    const alarms = readStore(s.dataDir, (_st, outbox) => outbox.rows('op').filter((r) => r.type === 'alarm.bus_disconnected').length);
    await second.stop();
    await boards.stop();
    const degraded = (h: { status: number; faults: string[] }): boolean => h.status === 503 && h.faults.includes('BUS_DISCONNECTED');
    const passed = degraded(h1) && degraded(h2) && back === true && alarms === 1;
    return { name, expected, finding: '2', passed, observed: `boot 1 health ${h1.status} [${h1.faults.join(',')}], boot 2 ${h2.status} [${h2.faults.join(',')}]; connected after the device appeared: ${String(back === true)}; alarm.bus_disconnected rows: ${alarms}` };
  } finally {
    await s.cleanup();
  }
}
