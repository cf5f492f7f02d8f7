// The operator's local list of enrolled lockers: <home>/lockers/<locker id>.json holds the
// public keys a locker reported at first start. `watch` and `send` verify signatures against
// it; nothing private is kept here.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { LockerError } from '../../../kernel/errors.js';
import { toPublicKey } from '../../sync/detachedSignature.js';
import { PublicKeys } from './keyFiles.js';

const lockerId = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function fileOf(home: string, locker: string): string {
  if (!lockerId.test(locker)) throw new LockerError('INPUT_INVALID', `not a locker id: "${locker}"`);
  return join(home, 'lockers', `${locker}.json`);
}

export async function enrolLocker(home: string, locker: string, keys: PublicKeys): Promise<string> {
  const file = fileOf(home, locker);
  await mkdir(join(home, 'lockers'), { recursive: true });
  await writeFile(file, JSON.stringify({ ...keys, id: locker }, null, 2) + '\n', { mode: 0o644 });
  return file;
}

export async function enrolledLocker(home: string, locker: string): Promise<PublicKeys | undefined> {
  let text: string;
  try {
    text = await readFile(fileOf(home, locker), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = PublicKeys.safeParse(JSON.parse(text));
  if (!parsed.success) throw new LockerError('INPUT_INVALID', `enrolment of ${locker} is damaged`, { locker });
  return parsed.data;
}

/**
 * A key lookup for EventConsumer: reads enrolments on first use and caches the parsed keys,
 * so the per-event cost is a map lookup. `keys` answers from the cache at once and otherwise
 * with a promise of the enrolment file's keys, which the consumer awaits before verifying
 * (a locker enrolled after watch started is found on its next event).
 */
export function enrolledKeyLookup(home: string, preload: Readonly<Record<string, PublicKeys>> = {}): {
  keys: (locker: string) => readonly KeyObject[] | undefined | Promise<readonly KeyObject[] | undefined>;
  load: (locker: string) => Promise<void>;
} {
  const cache = new Map<string, KeyObject[]>();
  for (const [id, k] of Object.entries(preload)) cache.set(id, [toPublicKey(k.signingKey)]);
  const load = async (locker: string): Promise<void> => {
    if (cache.has(locker)) return;
    const k = await enrolledLocker(home, locker);
    if (k) cache.set(locker, [toPublicKey(k.signingKey)]);
  };
  return {
    keys: (locker) => cache.get(locker) ?? load(locker).then(() => cache.get(locker), () => undefined),
    load,
  };
}
