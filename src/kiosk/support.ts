// Help lines on the kiosk (docs/kiosk.md, "Help and support"): the operator configures a
// support contact per carrier (`carriers[].support`) and a locker default (`support`). Both are
// public: the help screen and "door did not open" show them to whoever stands at the kiosk.
import { type CarrierConfig, type SupportContact } from '../config/schema.js';

export interface SupportDirectory {
  /** The locker's own line (the operator's), for anything not tied to one carrier. */
  default?: SupportContact;
  /** The locker's carriers in configuration order, each with its own line where it has one. */
  carriers: { id: string; name: string; support?: SupportContact }[];
}

export function supportDirectory(lockerDefault: SupportContact | undefined, carriers: readonly Pick<CarrierConfig, 'id' | 'name' | 'support'>[]): SupportDirectory {
  return {
    ...(lockerDefault ? { default: lockerDefault } : {}),
    carriers: carriers.map((c) => ({ id: c.id, name: c.name, ...(c.support ? { support: c.support } : {}) })),
  };
}

/** The line for a carrier's parcel: the carrier's own, else the locker's default. */
export function supportFor(dir: SupportDirectory, carrierId: string | undefined): SupportContact | undefined {
  const own = carrierId === undefined ? undefined : dir.carriers.find((c) => c.id === carrierId)?.support;
  return own ?? dir.default;
}
