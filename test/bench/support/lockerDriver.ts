// Drives a running lockerd in-process the way the kiosk and the person at the locker do:
// a courier deposits (door opens, parcel in, door shut), a consumer picks up (door opens,
// parcel out, door shut). Every step waits for what the runtime reports, never for a fixed time.
import { type RunningLockerd } from '../../../src/composition/startLockerd.js';
import { type SizeClass } from '../../../src/config/schema.js';
import { type LockerEvent } from '../../../src/domain/locker.js';
import { type CourierIdentity, type DoorOpened } from '../../../src/domain/views.js';
import { type SimPosition, type SimWorld } from '../../../sim/world.js';

export const benchCourier: CourierIdentity = { carrier: 'swiftpost', courierId: 'bench-courier', permissions: ['deposit', 'collect'] };

export class LockerDriver {
  readonly world: SimWorld;

  constructor(readonly running: RunningLockerd) {
    if (!running.world) throw new Error('lockerd is not running on the simulator');
    this.world = running.world;
  }

  position(compartmentId: string): SimPosition {
    const c = this.running.store.compartment(compartmentId);
    if (!c) throw new Error(`no compartment ${compartmentId}`);
    return { bus: c.bus, board: c.board, lock: c.lock };
  }

  /** Resolves with the first locker event that `match` accepts. */
  nextEvent<T>(what: string, match: (e: LockerEvent) => T | undefined, timeoutMs = 15_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const off = this.running.locker.on((e) => {
        const v = match(e);
        if (v === undefined) return;
        clearTimeout(timer);
        off();
        resolve(v);
      });
    });
  }

  /** Waits until every compartment's door has been read from its board at least once. */
  async doorsKnown(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.running.locker.compartments().some((c) => c.door === 'unknown')) {
      if (Date.now() > until) throw new Error('the boards did not report every door');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A courier deposit: returns the compartment and the pickup code issued for it. */
  async deposit(waybill: string, size: SizeClass, courier: CourierIdentity = benchCourier): Promise<{ compartment: string; code: string }> {
    const view = await this.running.locker.startDeposit(courier, { waybill, size });
    const compartment = view.compartment.id;
    const done = this.nextEvent(`deposit ${view.id} stored`, (e) => (e.type === 'deposit' && e.deposit.id === view.id && (e.deposit.state === 'stored' || e.deposit.state === 'failed') ? e.deposit.state : undefined));
    const pos = this.position(compartment);
    this.world.putParcel(pos);
    this.world.closeDoor(pos);
    const state = await done;
    if (state !== 'stored') throw new Error(`deposit into ${compartment} failed`);
    const code = this.running.locker.depositView(courier, view.id).pickupCode;
    if (!code) throw new Error('no pickup code revealed (demo.revealCodes must be on)');
    return { compartment, code };
  }

  /** A consumer pickup, through to the door being seen shut again. */
  async pickup(code: string): Promise<DoorOpened> {
    const opened = await this.running.locker.pickup(code);
    await this.takeAndClose(opened);
    return opened;
  }

  async takeAndClose(opened: DoorOpened): Promise<void> {
    const closed = this.nextEvent(`session ${opened.sessionId} closed`, (e) => (e.type === 'session' && e.sessionId === opened.sessionId && e.state === 'closed' ? true : undefined));
    const pos = this.position(opened.compartment.id);
    this.world.takeParcel(pos);
    this.world.closeDoor(pos);
    await closed;
  }
}
