// Fuzzes the kiosk HTTP API of a real lockerd on the simulator (test/fuzz/support/kioskTarget.ts):
// no 5xx, no stack trace, every error a JSON body with a known code, the server keeps serving,
// and no door opens for anyone but the fuzzer's own courier and operator sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeViolations, runFuzz, timeoutOf } from './support/fuzzRun.js';
import { kioskRequest, type FuzzRequest } from './support/httpArbitraries.js';
import { KioskFuzzTarget } from './support/kioskTarget.js';

describe('fuzzing the kiosk HTTP API', () => {
  let target: KioskFuzzTarget;

  beforeAll(async () => {
    target = await KioskFuzzTarget.start();
  }, 60_000);

  afterAll(async () => {
    await target?.stop();
  }, 60_000);

  it('the door check sees a door opened by a real code (the oracle can fail), before any fuzzing', async () => {
    const code = target.codes.shift() ?? '';
    const pickup: FuzzRequest = { method: 'POST', target: '/api/pickup', routeMethod: 'POST', host: 'good', origin: 'good', contentType: 'application/json', length: 'right', auth: 'none', garbageAuth: '', extraHeaders: [], body: Buffer.from(JSON.stringify({ code })), nearMiss: undefined };
    const found = await target.check(pickup);
    expect(found.map((v) => v.kind)).toContain('door-opened');
    expect(target.answersByStatus['200']).toBe(1);
    target.forgetAnswers();
  });

  it(
    'answers every request with a coded JSON answer below 500, keeps serving, opens no door for a stranger',
    async () => {
      const figures = await runFuzz({
        target: 'kiosk HTTP API',
        arbitrary: kioskRequest,
        check: (r) => target.check(r),
        budget: { ci: 600, long: 200_000 },
        extra: async () => ({ ...target.figures(), finalHealth: await target.stillServing() }),
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(60_000),
  );
});
