// A Kerong CU48 board at byte level: answers 0x50 (its own address or the bus-wide 0x0A) with
// the 12-byte 0x65 reply built from the simulated world, and energises latches on 0x51 (one
// lock, or all 48 one after another) without replying, as the document specifies.
import { packBits } from '../../hal/codecs/frameParser.js';
import { Cu48FrameParser, CU48_LOCKS, type Cu48Frame, encodeCu48StatusReply } from '../../hal/codecs/kerongCu48.js';
import { type SimBoard, type SimBoardOptions, applyReplyFault, energiseInTurn, hookBit } from './simBoard.js';

export class KerongCu48Sim implements SimBoard {
  private parser = new Cu48FrameParser();

  constructor(private readonly options: SimBoardOptions) {}

  get address(): number {
    return this.options.board.address;
  }

  reset(): void {
    this.parser = new Cu48FrameParser();
  }

  hear(bytes: Uint8Array): void {
    if (this.options.world.isBoardSilent(this.options.bus, this.address)) {
      this.reset();
      return;
    }
    for (const frame of this.parser.push(bytes).frames) this.handle(frame);
  }

  private handle(frame: Cu48Frame): void {
    const { world, bus, board } = this.options;
    if (frame.type === 'status-reply') return;
    if (frame.board !== 'all' && frame.board !== this.address) return;
    if (frame.type === 'status-query') {
      this.replyStatus();
      return;
    }
    if (frame.lock === 'all') {
      energiseInTurn(this.options, Array.from({ length: board.locks }, (_, i) => i + 1));
      return;
    }
    const position = { bus, board: this.address, lock: frame.lock };
    if (frame.lock <= board.locks && world.hasLock(position)) world.energise(position, board.energiseMs);
  }

  private replyStatus(): void {
    const { world, bus, board } = this.options;
    const bits = Array.from({ length: Math.min(board.locks, CU48_LOCKS) }, (_, i) => hookBit(world, { bus, board: this.address, lock: i + 1 }, board.polarity));
    this.options.transmit(applyReplyFault(world, bus, encodeCu48StatusReply(this.address, packBits(bits, 6))));
  }
}
