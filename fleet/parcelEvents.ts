// The carrier events of a simulated locker, built with the locker core's own event catalogue
// (src/domain/events.ts), so they cannot drift from what a real locker writes: each parcel is announced, stored (its pickup code
// encrypted to the carrier's X25519 key, as a real parcel.stored carries it) and then picked
// up, or expired and retrieved. One source per (locker, carrier) stream, so a stream reads as
// a plausible history. Nothing personal: waybills and ids only.
import { type SizeClass, type X25519PublicJwk } from '../src/config/schema.js';
import { type CarrierEvent, Events } from '../src/domain/events.js';
import { generateCode } from '../src/codes/pickupCode.js';
import { encryptCodeForCarrier } from '../src/crypto/codeJwe.js';
import { type IdFactory } from '../src/ids.js';
import { type RandomSource, randomInt } from '../kernel/random.js';

export type { CarrierEvent };

export interface ParcelEventSourceOptions {
  carrier: string;
  /** The carrier's encryption key; without it parcel.stored carries no codeJwe. */
  carrierKey?: X25519PublicJwk;
  random: RandomSource;
  newId: IdFactory;
  now: () => number;
  /** Prefix of the waybills, so streams of different lockers never share one. */
  waybillPrefix: string;
}

const HOUR = 3_600_000;
const sizes = ['XS', 'S', 'S', 'M', 'M', 'M', 'L', 'XL'] as const;

interface Parcel {
  id: string;
  waybill: string;
  size: SizeClass;
  compartment: string;
  /** What happens next to this parcel. */
  step: 'store' | 'pickUp' | 'expire' | 'retrieve';
}

export class ParcelEventSource {
  private readonly open: Parcel[] = [];
  private counter = 0;

  constructor(private readonly o: ParcelEventSourceOptions) {}

  /** The next event of this stream; a few parcels are in progress at any time. */
  async next(): Promise<CarrierEvent> {
    const r = randomInt(this.o.random, 100);
    // Keep a handful of parcels in the locker; announce a new one when few are open.
    if (this.open.length < 3 || (this.open.length < 12 && r < 30)) return this.announce();
    const parcel = this.open[randomInt(this.o.random, this.open.length)];
    if (!parcel) return this.announce();
    return this.advance(parcel);
  }

  private announce(): CarrierEvent {
    this.counter += 1;
    const parcel: Parcel = {
      id: this.o.newId(),
      waybill: `${this.o.waybillPrefix}${String(this.counter).padStart(8, '0')}`,
      size: sizes[randomInt(this.o.random, sizes.length)] ?? 'M',
      compartment: `B${randomInt(this.o.random, 4)}-${String(1 + randomInt(this.o.random, 48)).padStart(2, '0')}`,
      step: 'store',
    };
    this.open.push(parcel);
    return Events.parcelAnnounced(this.o.carrier, { parcelId: parcel.id, waybill: parcel.waybill, size: parcel.size, codeChosenByCarrier: false });
  }

  private async advance(p: Parcel): Promise<CarrierEvent> {
    const now = this.o.now();
    const base = { parcelId: p.id, waybill: p.waybill, compartment: p.compartment };
    switch (p.step) {
      case 'store': {
        p.step = randomInt(this.o.random, 20) === 0 ? 'expire' : 'pickUp';
        const code = generateCode(8, this.o.random);
        const codeJwe = this.o.carrierKey ? await encryptCodeForCarrier(this.o.carrierKey, { code, parcelId: p.id, waybill: p.waybill }) : undefined;
        return Events.parcelStored(this.o.carrier, { ...base, size: p.size, storedAt: now, expiresAt: now + 72 * HOUR, courier: 'courier-17', ...(codeJwe ? { codeJwe } : {}), codeChosenByCarrier: false });
      }
      case 'pickUp':
        this.close(p);
        return Events.parcelPickedUp(this.o.carrier, { ...base, pickedUpAt: now });
      case 'expire':
        p.step = 'retrieve';
        return Events.parcelExpired(this.o.carrier, base);
      case 'retrieve':
        this.close(p);
        return Events.parcelRetrieved(this.o.carrier, { ...base, courier: 'courier-17', retrievedAt: now });
    }
  }

  private close(p: Parcel): void {
    const i = this.open.indexOf(p);
    if (i >= 0) this.open.splice(i, 1);
  }
}
