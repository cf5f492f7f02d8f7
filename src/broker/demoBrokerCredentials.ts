// Passwords of the embedded demo broker, one per principal (the locker itself, each carrier,
// the operator). Generated at the first start from the injected randomness (144 bits each),
// kept in the data folder (file 0600, folder 0700 whatever the umask) so they survive
// restarts, and printed at start so the demo's tools can log in. A principal added to the
// configuration later gets a password the next start; the others keep theirs.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { RandomSource } from '../../kernel/random.js';

const CredentialFile = z.object({ v: z.literal(1), passwords: z.record(z.string().max(64), z.string().min(16).max(128)) });

export const DEMO_BROKER_CREDENTIALS_FILE = 'demo-broker-credentials.json';

function newPassword(random: RandomSource): string {
  return Buffer.from(random.bytes(18)).toString('base64url');
}

export async function loadOrCreateBrokerCredentials(file: string, principals: readonly string[], random: RandomSource): Promise<Record<string, string>> {
  let passwords: Record<string, string> = {};
  let dirty = true;
  try {
    passwords = CredentialFile.parse(JSON.parse(await readFile(file, 'utf8'))).passwords;
    dirty = false;
  } catch {
    // first start, or a damaged file: new passwords for everyone
  }
  const out: Record<string, string> = {};
  for (const p of principals) {
    const known = Object.hasOwn(passwords, p) ? passwords[p] : undefined;
    if (known !== undefined) out[p] = known;
    else {
      out[p] = newPassword(random);
      dirty = true;
    }
  }
  if (Object.keys(passwords).some((p) => !Object.hasOwn(out, p))) dirty = true;
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (dirty) await writeFile(file, JSON.stringify({ v: 1, passwords: out }, null, 2), { mode: 0o600 });
  // writeFile's mode only applies to a new file, and the umask may strip bits: set both.
  await chmod(file, 0o600);
  return out;
}
