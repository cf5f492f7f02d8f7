// A Kerong CU16 board at byte level: answers status (0x30 and the bus-wide 0x32) with the
// 9-byte reply built from the simulated world, energises latches on 0x31/0x33 and, like the
// real board, sends nothing back for an unlock. Item (infrared) bits are reported only on
// boards configured with item sensors.
import { Cu16FrameParser, CU16_LOCKS, type Cu16Frame, encodeCu16StatusReply } from '../../hal/codecs/kerongCu16.js';
import { type SimBoard, type SimBoardOptions, applyReplyFault, energiseInTurn, hookBit, itemBit } from './simBoard.js';

export class KerongCu16Sim implements SimBoard {
  private parser = new Cu16FrameParser();

  constructor(private readonly options: SimBoardOptions) {}

  get address(): number {
    return this.options.board.address;
  }

  reset(): void {
    this.parser = new Cu16FrameParser();
  }

  hear(bytes: Uint8Array): void {
    if (this.options.world.isBoardSilent(this.options.bus, this.address)) {
      this.reset();
      return;
    }
    for (const frame of this.parser.push(bytes).frames) this.handle(frame);
  }

  private handle(frame: Cu16Frame): void {
    const { world, bus, board } = this.options;
    switch (frame.type) {
      case 'status-query':
        if (frame.board === this.address) this.replyStatus();
        return;
      case 'status-all':
        this.replyStatus();
        return;
      case 'unlock': {
        const position = { bus, board: this.address, lock: frame.lock };
        if (frame.board === this.address && frame.lock <= board.locks && world.hasLock(position)) world.energise(position, board.energiseMs);
        return;
      }
      case 'unlock-all':
        if (frame.board === this.address) energiseInTurn(this.options, Array.from({ length: board.locks }, (_, i) => i + 1));
        return;
      default:
        // Energise-time queries and other boards' replies: this model stays quiet.
        return;
    }
  }

  private replyStatus(): void {
    const { world, bus, board } = this.options;
    let hooks = 0;
    let items = 0;
    for (let lock = 1; lock <= Math.min(board.locks, CU16_LOCKS); lock++) {
      const position = { bus, board: this.address, lock };
      if (hookBit(world, position, board.polarity)) hooks |= 1 << (lock - 1);
      if (board.itemSensors && itemBit(world, position)) items |= 1 << (lock - 1);
    }
    this.options.transmit(applyReplyFault(world, bus, encodeCu16StatusReply(this.address, hooks, items)));
  }
}
