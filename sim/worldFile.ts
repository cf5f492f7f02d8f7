// Keeps the simulated world in a file: restored at start, written after every change. A
// lockerd killed mid transaction then finds the doors and parcels as the "person" left them,
// which is what a real controller finds after a power cut.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { type SimWorld } from './world.js';

const Snapshot = z.object({
  locks: z.array(
    z.object({
      position: z.object({ bus: z.string(), board: z.number(), lock: z.number() }),
      latched: z.boolean(),
      doorOpen: z.boolean(),
      itemPresent: z.boolean(),
      jammed: z.boolean(),
    }),
  ),
  silentBoards: z.array(z.string()),
  scannerPlugged: z.boolean(),
});

export function persistWorld(world: SimWorld, file: string): () => void {
  if (existsSync(file)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      raw = undefined; // a torn file: start from a closed, empty locker
    }
    const parsed = Snapshot.safeParse(raw);
    if (parsed.success) world.restore(parsed.data);
  }
  const write = (): void => {
    writeFileSync(`${file}.tmp`, JSON.stringify(world.snapshot()));
    renameSync(`${file}.tmp`, file);
  };
  write();
  return world.on((e) => {
    if (e.type === 'lock' || e.type === 'board' || e.type === 'scanner') write();
  });
}
