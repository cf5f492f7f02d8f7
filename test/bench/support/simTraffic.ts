// The bytes on a simulated bus as the host writes them. The running lockerd keeps its
// simulated buses inside the simulator's serial registry; this finds the one for a bus id so a
// benchmark can listen to the line exactly where the boards hear it.
import { Cu48Cmd, encodeCu48Unlock } from '../../../hal/codecs/kerongCu48.js';
import { SimBus, type SimBusTraffic, simBusPath } from '../../../sim/boards/simBus.js';
import { type RunningLockerd } from '../../../src/composition/startLockerd.js';

export function simBusOf(running: RunningLockerd, busId: string): SimBus {
  const registry = running.hardware.sim?.registry;
  if (!registry) throw new Error('lockerd is not running on the simulator');
  // The registry offers no lookup by path; its device map is read here and checked at run time.
  const devices: unknown = Reflect.get(registry, 'devices');
  if (!(devices instanceof Map)) throw new Error('the simulator registry no longer keeps a device map: update simBusOf');
  const device: unknown = devices.get(simBusPath(busId));
  if (!(device instanceof SimBus)) throw new Error(`no simulated bus ${busId}`);
  return device;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Watches a CU48 line: whether a status question is still waiting for its reply (the line is
 * busy) and when a given unlock frame is written.
 */
export class Cu48LineWatch {
  private awaitingReply = false;
  private hostFrames = 0;
  private readonly replyWaiters = new Set<() => void>();
  private unlockWatch: { frame: Uint8Array | undefined; resolve: (at: number) => void; hostFramesBefore: number } | undefined;
  private readonly off: () => void;
  /** Host frames other than the watched unlock written between arming and the unlock. */
  otherFramesBeforeUnlock = 0;

  constructor(simBus: SimBus) {
    this.off = simBus.onTraffic((t) => this.onTraffic(t));
  }

  private onTraffic(t: SimBusTraffic): void {
    if (t.direction === 'host') {
      const at = performance.now();
      this.hostFrames += 1;
      const w = this.unlockWatch;
      if (w && (w.frame ? sameBytes(t.bytes, w.frame) : t.bytes[3] === Cu48Cmd.unlock)) {
        this.unlockWatch = undefined;
        this.otherFramesBeforeUnlock = this.hostFrames - 1 - w.hostFramesBefore;
        w.resolve(at);
      }
      if (t.bytes[3] === Cu48Cmd.status) this.awaitingReply = true;
      return;
    }
    this.awaitingReply = false;
    for (const w of [...this.replyWaiters]) w();
  }

  /**
   * Resolves at a moment when no frame is on the line or awaiting a reply: just after a board
   * reply has been handled and before the next poll timer fires. Starting a measurement here
   * keeps the time a half-duplex line spends on a poll out of the software figure.
   */
  async idle(): Promise<void> {
    for (;;) {
      await new Promise<void>((resolve) => {
        const w = (): void => {
          this.replyWaiters.delete(w);
          resolve();
        };
        this.replyWaiters.add(w);
      });
      const framesAtReply = this.hostFrames;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.awaitingReply && this.hostFrames === framesAtReply) return;
    }
  }

  /** Arms a watch for the unlock frame of (board, lock); resolves with performance.now() when written. */
  expectUnlock(board: number, lock: number): Promise<number> {
    return new Promise<number>((resolve) => {
      this.unlockWatch = { frame: encodeCu48Unlock(board, lock), resolve, hostFramesBefore: this.hostFrames };
    });
  }

  /** Like expectUnlock, for whichever lock is unlocked next (a deposit chooses its compartment itself). */
  expectAnyUnlock(): Promise<number> {
    return new Promise<number>((resolve) => {
      this.unlockWatch = { frame: undefined, resolve, hostFramesBefore: this.hostFrames };
    });
  }

  get lineBusy(): boolean {
    return this.awaitingReply;
  }

  close(): void {
    this.off();
  }
}
