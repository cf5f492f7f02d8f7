// A socat pty pair on fresh temporary paths, for interop tests: builds on startSocatPtyPair
// and owns the temporary directory, so teardown kills socat and leaves nothing behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SocatPtyPair, socatAvailable, startSocatPtyPair } from './socatPtyPair.js';

export { socatAvailable };

export interface SocatPty extends SocatPtyPair {
  readonly dir: string;
}

/** Starts socat on two links in a new temp directory and waits until both exist. */
export async function startSocatPty(prefix = 'lockerd-pty-'): Promise<SocatPty> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    const pair = await startSocatPtyPair({ dir });
    return {
      a: pair.a,
      b: pair.b,
      pid: pair.pid,
      dir,
      stop: async () => {
        await pair.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
