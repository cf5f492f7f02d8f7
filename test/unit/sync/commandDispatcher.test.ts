import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { LockerError } from '../../../kernel/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { CommandDispatcher, type CommandLimits } from '../../../src/sync/commandDispatcher.js';
import type { CommandReply } from '../../../src/sync/commandReply.js';

const acme = 'lk/v1/c/acme/l/L1/cmd';
const bolt = 'lk/v1/c/bolt/l/L1/cmd';
const op = 'lk/v1/op/l/L1/cmd';

/** A handler whose runs finish only when the test says so. */
function gatedHandler() {
  const running: { topic: string; text: string; finish(reply?: CommandReply | null): void; fail(e: unknown): void }[] = [];
  const started: string[] = [];
  const handle = (topic: string, payload: Uint8Array): Promise<CommandReply | null> =>
    new Promise((resolve, reject) => {
      const text = Buffer.from(payload).toString();
      started.push(text);
      running.push({ topic, text, finish: (r) => resolve(r === undefined ? ({ v: 1, id: text, ref: 'r', locker: 'L1', cmd: 'x', ok: true, ts: 0 } as CommandReply) : r), fail: reject });
    });
  return { handle, running, started };
}

function make(limits: Partial<CommandLimits>, clock = new ManualClock()) {
  const h = gatedHandler();
  const d = new CommandDispatcher({ lockerId: 'L1', handle: h.handle, clock, logger: silentLogger(), limits });
  const send = (topic: string, text: string) => d.dispatch(topic, Buffer.from(text));
  return { d, h, clock, send };
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('CommandDispatcher', () => {
  it('refuses past the burst with CMD_RATE_LIMITED and admits again as the bucket refills', async () => {
    const { send, clock, h } = make({ burst: 2, perSecond: 1, maxRunningPerTenant: 10, maxRunning: 10 });
    void send(acme, 'a1');
    void send(acme, 'a2');
    const third = await send(acme, 'a3');
    expect(third).toMatchObject({ ok: false, id: null, error: { code: 'CMD_RATE_LIMITED', context: { reason: 'rate', retryAfterMs: 1000 } } });
    await clock.advance(1_000);
    void send(acme, 'a4');
    await flush();
    expect(h.started).toEqual(['a1', 'a2', 'a4']);
  });

  it('runs at most maxRunningPerTenant per tenant and maxRunning in all, round-robin over tenants', async () => {
    const { send, h } = make({ burst: 100, maxRunningPerTenant: 2, maxRunning: 3, maxQueuedPerTenant: 100 });
    for (let i = 0; i < 10; i++) void send(acme, `a${i}`);
    void send(bolt, 'b0');
    void send(op, 'o0');
    await flush();
    // acme got its two slots; bolt the third; the operator waits for the next free slot.
    expect(h.started).toEqual(['a0', 'a1', 'b0']);
    h.running.find((r) => r.text === 'a0')?.finish();
    await flush();
    // The freed slot goes to the next tenant in turn, not to acme's backlog.
    expect(h.started.at(-1)).toBe('o0');
    h.running.find((r) => r.text === 'b0')?.finish();
    await flush();
    expect(h.started.at(-1)).toBe('a2');
  });

  it('refuses with reason queue once a tenant has maxQueuedPerTenant waiting; other tenants are unaffected', async () => {
    const { send, h } = make({ burst: 100, maxRunningPerTenant: 1, maxRunning: 4, maxQueuedPerTenant: 3 });
    for (let i = 0; i < 4; i++) void send(acme, `a${i}`);
    const over = await send(acme, 'a4');
    expect(over).toMatchObject({ ok: false, error: { code: 'CMD_RATE_LIMITED', context: { reason: 'queue' } } });
    void send(bolt, 'b0');
    await flush();
    expect(h.started).toEqual(['a0', 'b0']);
  });

  it('a copy of a queued or running command costs nothing and gets no second run', async () => {
    const { d, send, h } = make({ burst: 1 });
    const first = send(acme, 'same');
    expect(await send(acme, 'same')).toBeNull();
    expect(await send(acme, 'same')).toBeNull();
    h.running[0]?.finish();
    expect(await first).toMatchObject({ ok: true });
    expect(h.started).toEqual(['same']);
    expect(d.stats().coalesced).toBe(2);
  });

  it('answers a full replay quota as a refusal with reason quota', async () => {
    const { send, h } = make({});
    const p = send(op, 'o1');
    await flush();
    h.running[0]?.fail(new LockerError('CMD_RATE_LIMITED', 'quota', { reason: 'quota' }));
    expect(await p).toMatchObject({ ok: false, error: { code: 'CMD_RATE_LIMITED', context: { reason: 'quota' } } });
  });

  it('past the refusal budget drops unanswered and logs once a minute', async () => {
    const lines: unknown[] = [];
    const logger = { ...silentLogger(), child: () => logger, warn: (o: unknown) => lines.push(o) } as unknown as ReturnType<typeof silentLogger>;
    const clock = new ManualClock();
    const d = new CommandDispatcher({ lockerId: 'L1', handle: () => new Promise(() => undefined), clock, logger, limits: { burst: 1, perSecond: 0, refusalBurst: 2, refusalsPerS: 0 } });
    void d.dispatch(acme, Buffer.from('admitted'));
    const replies = [];
    for (let i = 0; i < 49; i++) replies.push(await d.dispatch(acme, Buffer.from(`x${i}`)));
    expect(replies.filter((r) => r !== null && !r.ok)).toHaveLength(2);
    expect(d.stats()).toMatchObject({ admitted: 1, refused: 2, dropped: 47 });
    expect(lines).toHaveLength(1);
  });

  it('passes oversized payloads (within the refusal budget) and foreign topics straight to the processor', async () => {
    const { send, h } = make({ maxPayloadBytes: 10, burst: 1 });
    void send(acme, 'a');
    void send(acme, 'x'.repeat(11));
    void send('lk/v1/op/l/L1/evt', 'e');
    await flush();
    expect(h.started).toEqual(['a', 'x'.repeat(11), 'e']);
  });
});

describe('CommandDispatcher oversized commands (issue 10: 1,000 of them got 1,000 signed replies)', () => {
  it('answers oversized payloads from the refusal budget: past refusalBurst they are dropped unread, and counted', async () => {
    const { d, send, h, clock } = make({ maxPayloadBytes: 10, refusalBurst: 3, refusalsPerS: 0.5 });
    const big = 'x'.repeat(11);
    const replies = Array.from({ length: 50 }, (_, i) => send(acme, `${big}${i}`));
    await flush();
    // The processor (which answers PAYLOAD_TOO_LARGE unread) saw only the budgeted ones.
    expect(h.started).toHaveLength(3);
    expect(await Promise.all(replies.slice(3))).toEqual(Array.from({ length: 47 }, () => null));
    expect(d.stats()).toMatchObject({ dropped: 47 });
    // Another tenant's budget is its own; and time refills it.
    void send(bolt, big);
    await clock.advance(2_000);
    void send(acme, `${big}-later`);
    await flush();
    expect(h.started).toHaveLength(5);
    // Nothing oversized ever waits in a queue or takes a running slot.
    expect(d.stats()).toMatchObject({ queued: 0, queuedBytes: 0 });
  });
});

describe('CommandDispatcher queue bound over all tenants (issue 10)', () => {
  it('at most maxQueued commands wait in all, however many tenants send; a freed place admits again', async () => {
    const { d, send, h } = make({ burst: 100, maxRunningPerTenant: 1, maxRunning: 2, maxQueuedPerTenant: 16 });
    // 100 tenants x 16 commands each: without a global bound, 1,600 payloads would wait.
    const refusals: Promise<CommandReply | null>[] = [];
    for (let t = 0; t < 100; t++) for (let i = 0; i < 16; i++) refusals.push(send(`lk/v1/c/t${t}/l/L1/cmd`, `t${t}-${i}`));
    await flush();
    expect(h.started.length).toBe(2);
    expect(d.stats()).toMatchObject({ queued: 64 });
    const over = await refusals[16 * 99];
    expect(over).toMatchObject({ ok: false, error: { code: 'CMD_RATE_LIMITED', context: { reason: 'queue' } } });
    h.running[0]?.finish();
    await flush();
    // One ran, one of the waiting started: one place is free again.
    expect(d.stats().queued).toBe(63);
    void send('lk/v1/c/late/l/L1/cmd', 'late');
    expect(d.stats().queued).toBe(64);
  });

  it('at most maxQueuedBytes of payloads wait in all', async () => {
    const { d, send } = make({ burst: 100, maxRunningPerTenant: 1, maxRunning: 1, maxQueuedBytes: 1_000, maxPayloadBytes: 64 * 1024 });
    void send(acme, 'running');
    for (let i = 0; i < 5; i++) void send(bolt, `${i}`.padEnd(300, 'x'));
    await flush();
    // Three 300-byte payloads fit in 1,000 bytes; the fourth and fifth are refused.
    expect(d.stats()).toMatchObject({ queued: 3, queuedBytes: 900, refused: 2 });
  });
});

describe('CommandDispatcher tenant bound', () => {
  it('tracks at most 256 active tenants; idle ones are forgotten, so new ones are served again later', async () => {
    const clock = new ManualClock();
    const d = new CommandDispatcher({ lockerId: 'L1', handle: () => Promise.resolve(null), clock, logger: silentLogger(), limits: { perSecond: 1 } });
    for (let i = 0; i < 256; i++) await d.dispatch(`lk/v1/c/c${i}/l/L1/cmd`, Buffer.from('x'));
    await d.dispatch('lk/v1/c/late/l/L1/cmd', Buffer.from('x'));
    expect(d.stats()).toMatchObject({ admitted: 256, dropped: 1 });
    await clock.advance(2_000);
    await d.dispatch('lk/v1/c/late/l/L1/cmd', Buffer.from('x'));
    expect(d.stats().admitted).toBe(257);
  });
});
