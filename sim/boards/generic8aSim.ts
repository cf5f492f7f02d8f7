// A generic "8A" board at byte level. Unlike the Kerong boards it answers an unlock, and only
// after the lock has moved: `80 BOARD LOCK 11` when the hook released, `... 00` when it did not
// (a jammed latch). Query-all answers with 3 data bytes on boards of up to 24 locks, else 4.
// Some firmware puts header 0x8A on replies; `replyHeader` picks which one this board uses.
import { packBits } from '../../hal/codecs/frameParser.js';
import {
  G8A_QUERY_HEADER,
  G8A_STATE_OPEN,
  G8A_STATE_SHUT,
  G8aCmd,
  type G8aFrame,
  G8aHostParser,
  encode8aShortReply,
  encode8aStatusReply,
  g8aStatusDataBytes,
} from '../../hal/codecs/generic8a.js';
import { type TimerHandle } from '../../kernel/clock.js';
import { type SimBoard, type SimBoardOptions, applyReplyFault, energiseInTurn, hookBit } from './simBoard.js';

/** How long after the latch moved the board reports it. */
const ackAfterMoveMs = 10;

export interface Generic8aSimOptions extends SimBoardOptions {
  replyHeader?: number;
}

export class Generic8aSim implements SimBoard {
  private parser = new G8aHostParser();
  private readonly pending = new Set<TimerHandle>();
  private readonly header: number;

  constructor(private readonly options: Generic8aSimOptions) {
    this.header = options.replyHeader ?? G8A_QUERY_HEADER;
  }

  get address(): number {
    return this.options.board.address;
  }

  reset(): void {
    this.parser = new G8aHostParser();
    for (const t of this.pending) t.cancel();
    this.pending.clear();
  }

  hear(bytes: Uint8Array): void {
    if (this.options.world.isBoardSilent(this.options.bus, this.address)) {
      this.reset();
      return;
    }
    for (const frame of this.parser.push(bytes).frames) this.handle(frame);
  }

  private handle(frame: G8aFrame): void {
    const { world, bus, board } = this.options;
    switch (frame.type) {
      case 'read-address':
        this.send(encode8aShortReply(this.address, 0x00, G8aCmd.readAddress, this.header));
        return;
      case 'query':
        if (frame.board !== this.address) return;
        if (frame.lock === 'all') {
          const bits = Array.from({ length: board.locks }, (_, i) => hookBit(world, { bus, board: this.address, lock: i + 1 }, board.polarity));
          this.send(encode8aStatusReply(this.address, packBits(bits, g8aStatusDataBytes(board.locks)), this.header));
        } else {
          const bit = hookBit(world, { bus, board: this.address, lock: frame.lock }, board.polarity);
          this.send(encode8aShortReply(this.address, frame.lock, bit ? G8A_STATE_OPEN : G8A_STATE_SHUT, this.header));
        }
        return;
      case 'unlock':
        if (frame.board !== this.address) return;
        if (frame.lock === 'all') {
          const locks = Array.from({ length: board.locks }, (_, i) => i + 1);
          energiseInTurn(this.options, locks);
          this.later(locks.length * board.energiseMs + ackAfterMoveMs, () => this.send(encode8aShortReply(this.address, 0x00, G8A_STATE_OPEN, this.header)));
        } else if (frame.lock <= board.locks) {
          this.unlockOne(frame.lock);
        }
        return;
      default:
        return;
    }
  }

  private unlockOne(lock: number): void {
    const { world, bus, board } = this.options;
    const position = { bus, board: this.address, lock };
    if (!world.hasLock(position)) return;
    world.energise(position, board.energiseMs);
    this.later(board.energiseMs + ackAfterMoveMs, () => {
      const released = !world.lock(position).latched;
      this.send(encode8aShortReply(this.address, lock, released ? G8A_STATE_OPEN : G8A_STATE_SHUT, this.header));
    });
  }

  private later(ms: number, fn: () => void): void {
    const handle = this.options.clock.setTimeout(() => {
      this.pending.delete(handle);
      if (!this.options.world.isBoardSilent(this.options.bus, this.address)) fn();
    }, ms);
    this.pending.add(handle);
  }

  private send(reply: Uint8Array): void {
    this.options.transmit(applyReplyFault(this.options.world, this.options.bus, reply));
  }
}
