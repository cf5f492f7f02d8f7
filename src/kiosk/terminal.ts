// The kiosk terminal: the one browser on the locker's screen. It proves itself with a terminal
// key (a random file in the data folder, 0600, handed to the browser by the kiosk launcher in a
// URL fragment) and pairs once; the pairing is an HttpOnly SameSite=Strict cookie that makes
// its event stream the private one, which alone carries secret-bearing scan results.
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type RandomSource } from '../../kernel/random.js';

export const TERMINAL_KEY_FILE = 'kiosk-terminal.key';
export const TERMINAL_COOKIE = 'lk_terminal';

/** Reads the terminal key, creating it (32 random bytes, base64url, mode 0600) if missing. */
export async function loadOrCreateTerminalKey(dataDir: string, random: RandomSource): Promise<string> {
  const file = join(dataDir, TERMINAL_KEY_FILE);
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (/^[\w-]{43,}$/.test(key)) {
      await chmod(file, 0o600);
      return key;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = Buffer.from(random.bytes(32)).toString('base64url');
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}

const sha = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Live pairings (in memory: a restart pairs again from the key the page keeps). */
export class TerminalPairings {
  private readonly pairings = new Map<string, { at: number }>();
  private readonly keyDigest: Buffer | undefined;

  /** key undefined: demo mode (--sim), pairing needs no key. */
  constructor(
    key: string | undefined,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly max: number,
    /** Called with a pairing that a newer one pushed out (its streams should end). */
    private readonly onEvicted: (token: string) => void = () => undefined,
  ) {
    this.keyDigest = key === undefined ? undefined : sha(key);
  }

  get demo(): boolean {
    return this.keyDigest === undefined;
  }

  pair(key: string | undefined): string {
    if (this.keyDigest && (key === undefined || !timingSafeEqual(sha(key), this.keyDigest))) throw new LockerError(ErrorCodes.TERMINAL_KEY_INVALID, 'this is not the kiosk terminal key');
    while (this.pairings.size >= this.max) {
      const oldest = this.pairings.keys().next().value;
      if (oldest === undefined) break;
      this.pairings.delete(oldest);
      this.onEvicted(oldest);
    }
    const token = Buffer.from(this.random.bytes(32)).toString('base64url');
    this.pairings.set(token, { at: this.clock.now() });
    return token;
  }

  /** The pairing token of a request's cookie header, if it is live. */
  fromCookie(cookieHeader: string | undefined): string | undefined {
    if (!cookieHeader) return undefined;
    for (const part of cookieHeader.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name !== TERMINAL_COOKIE) continue;
      const value = rest.join('=');
      if (this.pairings.has(value)) return value;
    }
    return undefined;
  }

  alive(token: string): boolean {
    return this.pairings.has(token);
  }

  cookie(token: string): string {
    return `${TERMINAL_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`;
  }
}
