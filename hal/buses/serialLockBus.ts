// A LockBus over one half-duplex RS-485 line (serial port or KR-BU bridge) with boards of one
// family. It owns the line: every frame goes through one queue, exactly one frame is in flight,
// and a question waits for its answer or its timeout before the next frame goes out. User
// commands go ahead of background polls, so an unlock never waits behind a round of polling.
//
// It also owns the line's failure policy: status polling of every board, a fast poll after an
// unlock (a door can open and re-latch between two normal polls), board-silent/board-back after
// consecutive misses, and reopening a lost transport with backoff. Every async path ends in a
// LockerError or an event; nothing here can take the process down.
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { Backoff } from '../../kernel/backoff.js';
import { type BoardOptions as BoardConfig, type SerialBusOptions as SerialBusConfig } from '../options.js';
import { ErrorCodes, LockerError, toLockerError } from '../../kernel/errors.js';
import { type Logger, hex } from '../../kernel/log.js';
import { type FrameReject } from '../codecs/frameParser.js';
import { type ByteTransport } from '../transport/byteTransport.js';
import { type BoardStatus, type LockBus, type LockBusEvent, type LockBusListener, type LockReading } from '../types.js';
import { type BusReply, type BusRequest, type LockBoardProtocol, type ReplyDecoder, type ReplyWait, createLockBoardProtocol } from './protocols.js';
import { ReplyWaiter } from './replyWaiter.js';

export interface SerialLockBusOptions {
  config: SerialBusConfig;
  transport: ByteTransport;
  clock: Clock;
  logger: Logger;
  /** First wait before reopening a lost transport; doubles per failed attempt up to reopenMaxMs. */
  reopenMinMs?: number;
  reopenMaxMs?: number;
  /** Uniform [0, 1) jitter for the reopen backoff (a fleet must not reconnect in lockstep). */
  jitter: () => number;
  /**
   * Watches for the device to (re)appear while the line is down (watchDevicePath on a real
   * serial path): a change cuts the backoff short and reopens at once. Returns the unwatch.
   */
  watchDevice?: (onChange: () => void) => () => void;
}

type BusState = 'closed' | 'opening' | 'open' | 'down';
type Lane = 'command' | 'fast-poll' | 'poll';

interface Job {
  request: BusRequest;
  resolve: (reply: BusReply | undefined) => void;
  reject: (error: LockerError) => void;
}

function sameReading(a: LockReading, b: LockReading): boolean {
  return a.latched === b.latched && a.doorOpen === b.doorOpen && a.itemPresent === b.itemPresent;
}

export class SerialLockBus implements LockBus {
  readonly id: string;
  private readonly config: SerialBusConfig;
  private readonly transport: ByteTransport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly protocol: LockBoardProtocol;
  private readonly decoder: ReplyDecoder;
  private readonly boards: Map<number, BoardConfig>;
  private readonly waiter: ReplyWaiter<BusReply>;
  private readonly listeners = new Set<LockBusListener>();
  private readonly reopenMinMs: number;
  private readonly reopenMaxMs: number;
  private readonly reopenBackoff: Backoff;

  private readonly commands: Job[] = [];
  private readonly polls: Job[] = [];
  private readonly pollQueued = new Set<number>();
  private readonly statuses = new Map<number, BoardStatus>();
  private readonly misses = new Map<number, number>();
  private readonly silent = new Set<number>();
  private readonly lastPolledAt = new Map<number, number>();
  private readonly fastUntil = new Map<number, number>();

  private state: BusState = 'closed';
  private opening: Promise<void> | undefined;
  private pumping = false;
  /** Frames dropped since the current question went out: they turn a timeout into FRAME_INVALID. */
  private rejectsInWait: FrameReject[] = [];
  private pollTimer: TimerHandle | undefined;
  private fastTimer: TimerHandle | undefined;
  private reopenTimer: TimerHandle | undefined;
  private reopening = false;
  private unwatchDevice: (() => void) | undefined;
  private readonly watchDevice: SerialLockBusOptions['watchDevice'];
  private baudSettled = false;

  constructor(options: SerialLockBusOptions) {
    this.config = options.config;
    this.id = options.config.id;
    this.transport = options.transport;
    this.clock = options.clock;
    // The caller names the channel (the composition root passes a child with channel and bus).
    this.log = options.logger;
    this.protocol = createLockBoardProtocol(options.config);
    this.decoder = this.protocol.createDecoder();
    this.boards = new Map(options.config.boards.map((b) => [b.address, b]));
    this.waiter = new ReplyWaiter<BusReply>(options.clock);
    this.reopenMinMs = options.reopenMinMs ?? 250;
    this.reopenMaxMs = options.reopenMaxMs ?? 10_000;
    this.reopenBackoff = new Backoff({ baseMs: this.reopenMinMs, maxMs: this.reopenMaxMs, fraction: options.jitter });
    this.watchDevice = options.watchDevice;
    this.transport.on('data', (bytes) => this.onData(bytes));
    this.transport.on('close', (error) => this.onTransportClosed(error));
    this.transport.on('error', (error) => this.log.warn({ code: error.code }, error.message));
  }

  on(listener: LockBusListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Opens the transport and starts polling. If the first open fails it rejects with
   * TRANSPORT_ERROR but keeps retrying in the background (a `transport` event tells when the
   * line comes up) until close(). Calling it again while open or reconnecting does nothing.
   */
  open(): Promise<void> {
    if (this.state === 'opening' && this.opening) return this.opening;
    if (this.state !== 'closed') return Promise.resolve();
    this.state = 'opening';
    this.opening = this.openFirst().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async openFirst(): Promise<void> {
    try {
      await this.transport.open();
    } catch (e) {
      const error = toLockerError(e, ErrorCodes.TRANSPORT_ERROR);
      if (this.state === 'opening') this.goDown(error);
      throw error;
    }
    if (this.state === 'closed') {
      await this.transport.close();
      throw new LockerError(ErrorCodes.BUS_CLOSED, `bus ${this.id} was closed while opening`, { bus: this.id });
    }
    // Lost again before we got here: the reopen loop already owns it.
    if (this.state === 'down') throw new LockerError(ErrorCodes.TRANSPORT_ERROR, `${this.transport.description} was lost right after opening`, { bus: this.id });
    await this.connected();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimers();
    this.reopenTimer?.cancel();
    this.reopenTimer = undefined;
    this.stopWatchingDevice();
    this.failPending(new LockerError(ErrorCodes.BUS_CLOSED, `bus ${this.id} is closed`, { bus: this.id }));
    await this.transport.close().catch((e: unknown) => this.log.warn({ err: e }, 'closing the transport failed'));
  }

  async unlock(board: number, lock: number): Promise<void> {
    const cfg = this.boardConfig(board);
    if (!Number.isInteger(lock) || lock < 1 || lock > cfg.locks)
      throw new LockerError(ErrorCodes.INPUT_INVALID, `board ${board} on bus ${this.id} has no lock ${lock}`, { bus: this.id, board, lock });
    // A Kerong board never answers an unlock, so a dead board would look like a jammed latch:
    // make a silent board prove it is back before energising anything on it.
    if (this.silent.has(board)) await this.status(board);
    const reply = await this.enqueue('command', this.protocol.unlockRequest(cfg, lock));
    this.startFastPoll(board);
    if (reply?.kind === 'unlock-ack' && !reply.opened) this.log.warn({ board, lock }, `board ${board} reports lock ${lock} did not open`);
  }

  /** Opens every lock of a board one after another, never two at once (each draws up to 3 A). */
  async unlockAll(board: number): Promise<void> {
    const cfg = this.boardConfig(board);
    for (let lock = 1; lock <= cfg.locks; lock++) {
      await this.unlock(board, lock);
      // 8A boards answer only after the lock moved; Kerong boards are still energising.
      if (!this.protocol.unlockAwaitsReply) await this.clock.sleep(cfg.energiseMs);
    }
  }

  async status(board: number): Promise<BoardStatus> {
    const cfg = this.boardConfig(board);
    let reply: BusReply | undefined;
    try {
      reply = await this.enqueue('command', this.protocol.statusRequest(cfg));
    } catch (e) {
      const error = toLockerError(e);
      this.recordFailure(board, error);
      throw error;
    }
    return this.recordStatus(cfg, reply);
  }

  lastStatus(board: number): BoardStatus | undefined {
    return this.statuses.get(board);
  }

  silentBoards(): number[] {
    return [...this.silent].sort((a, b) => a - b);
  }

  // ---- connection lifecycle ----

  private async connected(): Promise<void> {
    this.state = 'open';
    this.stopWatchingDevice();
    this.reopenBackoff.reset();
    this.log.info(`opened ${this.transport.description}`);
    this.emit({ type: 'transport', bus: this.id, connected: true });
    if (!this.baudSettled) {
      this.baudSettled = true;
      await this.probeBaudRate();
    }
    if (this.state === 'open') this.startPolling();
  }

  private onTransportClosed(error: LockerError | undefined): void {
    if (this.state === 'closed' || this.state === 'down') return;
    this.goDown(error ?? new LockerError(ErrorCodes.TRANSPORT_ERROR, `${this.transport.description} closed`, { bus: this.id }));
  }

  private goDown(error: LockerError): void {
    this.state = 'down';
    this.stopTimers();
    this.log.warn({ code: error.code }, `transport lost: ${error.message}`);
    this.emit({ type: 'transport', bus: this.id, connected: false, message: error.detail });
    this.failPending(error);
    this.startWatchingDevice();
    this.scheduleReopen();
  }

  private startWatchingDevice(): void {
    if (this.unwatchDevice || !this.watchDevice) return;
    try {
      this.unwatchDevice = this.watchDevice(() => this.deviceChanged());
    } catch (e) {
      this.log.warn({ err: e }, 'cannot watch the device path; reopening on the backoff only');
    }
  }

  private stopWatchingDevice(): void {
    const unwatch = this.unwatchDevice;
    this.unwatchDevice = undefined;
    unwatch?.();
  }

  /** The device path changed while down: try now instead of waiting out the backoff. */
  private deviceChanged(): void {
    if (this.state !== 'down' || this.reopening) return;
    this.reopenTimer?.cancel();
    this.reopenTimer = undefined;
    void this.reopen();
  }

  private scheduleReopen(): void {
    if (this.reopenTimer || this.state !== 'down') return;
    const delay = this.reopenBackoff.next();
    this.reopenTimer = this.clock.setTimeout(() => {
      this.reopenTimer = undefined;
      void this.reopen();
    }, delay);
  }

  private async reopen(): Promise<void> {
    if (this.state !== 'down' || this.reopening) return;
    this.reopening = true;
    try {
      await this.transport.open();
    } catch (e) {
      this.log.debug(`reopen failed: ${toLockerError(e).message}`);
      this.scheduleReopen();
      return;
    } finally {
      this.reopening = false;
    }
    if (this.state !== 'down') {
      await this.transport.close();
      return;
    }
    await this.connected();
  }

  /** With no configured rate, find the one the boards answer at (CU16: 19200, then 9600). */
  private async probeBaudRate(): Promise<void> {
    const rates = this.protocol.baudRates;
    const t = this.config.transport;
    if (t.kind !== 'serial' || t.baudRate !== undefined || rates.length < 2 || !this.transport.setBaudRate) return;
    const first = this.config.boards[0] as BoardConfig;
    for (const rate of rates) {
      try {
        await this.transport.setBaudRate(rate);
        for (let attempt = 0; attempt < 2; attempt++) {
          const reply = await this.enqueue('command', this.protocol.statusRequest(first)).catch((e: unknown) => toLockerError(e));
          if (reply instanceof LockerError) {
            if (reply.code === ErrorCodes.TRANSPORT_ERROR || reply.code === ErrorCodes.BUS_CLOSED) return;
            continue;
          }
          this.log.info(`boards answer at ${rate} baud`);
          this.recordStatus(first, reply);
          return;
        }
      } catch (e) {
        this.log.warn(`cannot probe ${rate} baud: ${toLockerError(e).message}`);
      }
    }
    this.log.warn(`no board answered at ${rates.join(' or ')} baud; staying at ${rates[0]}`);
    await this.transport.setBaudRate(rates[0] as number).catch(() => undefined);
  }

  // ---- the queue ----

  private enqueue(lane: Lane, request: BusRequest): Promise<BusReply | undefined> {
    if (this.state !== 'open') return Promise.reject(this.unavailable());
    return new Promise((resolve, reject) => {
      const job: Job = { request, resolve, reject };
      if (lane === 'command') this.commands.push(job);
      else if (lane === 'fast-poll') this.polls.unshift(job);
      else this.polls.push(job);
      this.pump();
    });
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void (async () => {
      try {
        for (let job = this.nextJob(); job; job = this.nextJob()) await this.execute(job);
      } catch (e) {
        this.log.error({ err: e }, 'lock bus queue failed');
      } finally {
        this.pumping = false;
      }
    })();
  }

  private nextJob(): Job | undefined {
    return this.commands.shift() ?? this.polls.shift();
  }

  /** Sends one frame and, if it expects one, waits for its reply. Settles the job; never throws. */
  private async execute(job: Job): Promise<void> {
    const { request } = job;
    if (this.state !== 'open') {
      job.reject(this.unavailable());
      return;
    }
    const stale = this.decoder.flush();
    if (stale) this.logReject(stale);
    this.rejectsInWait = [];
    const wait = request.reply;
    this.decoder.expect(wait?.length);
    // Registered before the write, so an answer faster than the write callback is not lost.
    const replied = wait ? this.waiter.wait(wait.match, wait.timeoutMs, () => this.noReplyError(request, wait)) : undefined;
    replied?.catch(() => undefined);
    this.log.debug(`-> ${hex(request.frame)} (${request.what})`);
    try {
      await this.transport.write(request.frame);
    } catch (e) {
      const error = toLockerError(e, ErrorCodes.TRANSPORT_ERROR);
      if (replied) this.waiter.cancelAll(error);
      job.reject(error);
      return;
    }
    if (!replied) {
      job.resolve(undefined);
      return;
    }
    try {
      job.resolve(await replied);
    } catch (e) {
      job.reject(toLockerError(e));
    } finally {
      this.decoder.expect(undefined);
    }
  }

  private noReplyError(request: BusRequest, wait: ReplyWait): LockerError {
    const tail = this.decoder.flush();
    if (tail) {
      this.logReject(tail);
      this.rejectsInWait.push(tail);
    }
    const context = { bus: this.id, board: request.board, request: hex(request.frame) };
    const rejects = this.rejectsInWait;
    if (rejects.length > 0) {
      const seen = rejects.map((r) => `${r.reason}: ${hex(r.bytes)}`).join('; ');
      return new LockerError(ErrorCodes.FRAME_INVALID, `${request.what}: no valid reply within ${wait.timeoutMs} ms (${seen})`, {
        ...context,
        rejects: rejects.map((r) => ({ reason: r.reason, bytes: hex(r.bytes), length: r.length })),
      });
    }
    return new LockerError(wait.timeoutCode, `${request.what}: no reply within ${wait.timeoutMs} ms`, context);
  }

  private onData(bytes: Uint8Array): void {
    this.log.debug(`<- ${hex(bytes)}`);
    const { replies, rejects } = this.decoder.push(bytes);
    for (const r of rejects) {
      this.logReject(r);
      this.rejectsInWait.push(r);
    }
    for (const reply of replies) {
      if (!this.waiter.offer(reply)) this.log.debug(`unexpected reply ignored: ${reply.kind === 'other' ? reply.description : `${reply.kind} board ${reply.board}`}`);
    }
  }

  private logReject(r: FrameReject): void {
    this.log.debug({ code: r.code, reason: r.reason }, `dropped ${r.length} byte(s), ${r.reason}: ${hex(r.bytes)}`);
  }

  private failPending(error: LockerError): void {
    this.waiter.cancelAll(error);
    for (const job of this.commands.splice(0)) job.reject(error);
    for (const job of this.polls.splice(0)) job.reject(error);
  }

  private unavailable(): LockerError {
    if (this.state === 'closed') return new LockerError(ErrorCodes.BUS_CLOSED, `bus ${this.id} is closed`, { bus: this.id });
    return new LockerError(ErrorCodes.TRANSPORT_ERROR, `bus ${this.id} is not connected (${this.transport.description})`, { bus: this.id });
  }

  // ---- polling and readings ----

  private startPolling(): void {
    this.stopTimers();
    this.pollTimer = this.clock.setInterval(() => this.pollTick(), this.config.pollIntervalMs);
    if (this.fastUntil.size > 0) this.fastTimer = this.clock.setInterval(() => this.fastTick(), this.config.fastPollIntervalMs);
    this.pollTick();
  }

  private stopTimers(): void {
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
    this.fastTimer?.cancel();
    this.fastTimer = undefined;
  }

  private pollTick(): void {
    const now = this.clock.monotonic();
    // A silent board costs a whole reply timeout per poll: ask it less often.
    const silentEvery = this.config.pollIntervalMs * 4;
    for (const board of this.boards.keys()) {
      if (this.silent.has(board) && now - (this.lastPolledAt.get(board) ?? -Infinity) < silentEvery) continue;
      this.schedulePoll(board, 'poll');
    }
  }

  private startFastPoll(board: number): void {
    if (this.config.fastPollForMs <= 0) return;
    this.fastUntil.set(board, this.clock.monotonic() + this.config.fastPollForMs);
    if (!this.fastTimer && this.state === 'open') this.fastTimer = this.clock.setInterval(() => this.fastTick(), this.config.fastPollIntervalMs);
  }

  private fastTick(): void {
    const now = this.clock.monotonic();
    for (const [board, until] of this.fastUntil) {
      if (until <= now) this.fastUntil.delete(board);
      else this.schedulePoll(board, 'fast-poll');
    }
    if (this.fastUntil.size === 0) {
      this.fastTimer?.cancel();
      this.fastTimer = undefined;
    }
  }

  private schedulePoll(board: number, lane: 'poll' | 'fast-poll'): void {
    const cfg = this.boards.get(board);
    if (!cfg || this.state !== 'open' || this.pollQueued.has(board)) return;
    this.pollQueued.add(board);
    this.lastPolledAt.set(board, this.clock.monotonic());
    this.enqueue(lane, this.protocol.statusRequest(cfg))
      .then(
        (reply) => {
          this.recordStatus(cfg, reply);
        },
        (e: unknown) => this.recordFailure(board, toLockerError(e)),
      )
      .catch((e: unknown) => this.log.error({ err: e }, 'handling a poll result failed'))
      .finally(() => this.pollQueued.delete(board));
  }

  private recordStatus(cfg: BoardConfig, reply: BusReply | undefined): BoardStatus {
    if (reply?.kind !== 'status') throw new LockerError(ErrorCodes.INTERNAL, `status of board ${cfg.address} got no status reply`, { bus: this.id });
    const board = cfg.address;
    const previous = this.statuses.get(board);
    const status: BoardStatus = { board, locks: reply.locks, at: this.clock.now() };
    this.statuses.set(board, status);
    this.misses.set(board, 0);
    if (this.silent.delete(board)) {
      this.log.info(`board ${board} answers again`);
      this.emit({ type: 'board-back', bus: this.id, board });
    }
    if (!previous && reply.locks.length > 1 && reply.locks.every((l) => l.doorOpen ?? !l.latched)) {
      this.log.warn(
        { board, polarity: cfg.polarity },
        `every door of board ${board} reads open at start: check the board's polarity (configured ${cfg.polarity}) before trusting these readings`,
      );
      this.emit({ type: 'all-doors-open', bus: this.id, board, locks: reply.locks.length });
    }
    for (const reading of reply.locks) {
      const before = previous?.locks.find((l) => l.lock === reading.lock);
      if (before && sameReading(before, reading)) continue;
      this.emit({ type: 'reading', bus: this.id, board, reading, previous: before });
    }
    return status;
  }

  /** Counts a miss; only a board that did not answer (or answered garbage) counts, not a dead line. */
  private recordFailure(board: number, error: LockerError): void {
    if (error.code !== ErrorCodes.BOARD_SILENT && error.code !== ErrorCodes.FRAME_INVALID) return;
    const misses = (this.misses.get(board) ?? 0) + 1;
    this.misses.set(board, misses);
    this.emit({ type: 'bus-error', bus: this.id, board, code: error.code });
    this.log.debug(`board ${board} miss ${misses}: ${error.message}`);
    if (misses < this.config.silentAfterMisses || this.silent.has(board)) return;
    this.silent.add(board);
    this.log.warn({ code: error.code }, `board ${board} is silent after ${misses} misses`);
    this.emit({ type: 'board-silent', bus: this.id, board, code: error.code, message: error.detail });
  }

  private boardConfig(board: number): BoardConfig {
    const cfg = this.boards.get(board);
    if (!cfg) throw new LockerError(ErrorCodes.INPUT_INVALID, `bus ${this.id} has no board ${board}`, { bus: this.id, board });
    return cfg;
  }

  private emit(event: LockBusEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (e) {
        this.log.error({ err: e }, 'a lock bus listener threw');
      }
    }
  }
}
