// Provisioned state: the layout and the carriers a locker runs with. The configuration file
// seeds them; the operator changes them remotely with versioned commands. A layout is applied
// only when newer, and never when it would strand a parcel (a live parcel's compartment
// removed or moved to another lock).
import { type LayoutConfig, type LockerConfig } from '../config/schema.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type Logger } from '../logger.js';
import { type LockerStore } from '../store/lockerStore.js';

export function layoutVersion(store: LockerStore): number {
  return store.provisioned('layout')?.version ?? 0;
}

/** Throws VERSION_STALE or LAYOUT_STRANDS_PARCEL when the layout may not replace the current one. */
export function checkLayoutChange(store: LockerStore, layout: LayoutConfig): void {
  const current = layoutVersion(store);
  if (layout.version <= current) throw new LockerError(ErrorCodes.VERSION_STALE, `layout version ${layout.version} is not newer than ${current}`, { current });
  const next = new Map(layout.compartments.map((c) => [c.id, c]));
  const stranded: string[] = [];
  for (const id of store.occupiedCompartments()) {
    const before = store.compartment(id);
    const after = next.get(id);
    if (!before || !after || after.bus !== before.bus || after.board !== before.board || after.lock !== before.lock) stranded.push(id);
  }
  if (stranded.length) throw new LockerError(ErrorCodes.LAYOUT_STRANDS_PARCEL, `the layout would strand parcels in ${stranded.join(', ')}`, { compartments: stranded });
}

export function applyLayout(store: LockerStore, layout: LayoutConfig, now: number): void {
  checkLayoutChange(store, layout);
  store.transaction(() => {
    store.applyLayout(layout.compartments);
    store.putProvisioned('layout', layout.version, layout, now);
  });
}

/** At start: seeds layout and carriers from the configuration file where it is newer. */
export function applyProvisionedState(store: LockerStore, config: LockerConfig, now: number, logger: Logger): void {
  const current = layoutVersion(store);
  if (config.layout.version > current) {
    try {
      applyLayout(store, config.layout, now);
      logger.info({ version: config.layout.version }, 'layout applied from the configuration file');
    } catch (err) {
      logger.error({ err }, 'the layout in the configuration file was refused; keeping the current one');
    }
  } else if (config.layout.version < current) {
    logger.info({ file: config.layout.version, provisioned: current }, 'the provisioned layout is newer than the configuration file; keeping it');
  }
  store.transaction(() => {
    for (const c of config.carriers) store.upsertCarrier(c, now);
  });
}
