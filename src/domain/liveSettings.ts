// The settings an operator may change while the locker runs (remote setConfig): keypad codes,
// door timings and the sync window. One LiveSettings object holds the value in force; readers
// call get() when they need it, or subscribe with onChange. A change is a new value published
// with set(), never a mutation of an object someone else holds: every value handed out is
// frozen, so code that tries to change settings in place fails loudly instead of silently
// working because two services happen to share an object.
import { type LockerConfig } from '../config/schema.js';

/** A value that may change while the locker runs. */
export interface Live<T> {
  get(): T;
  /** Called after every change with the new and the previous value; returns an unsubscribe. */
  onChange(listener: (next: T, previous: T) => void): () => void;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function deepCopy<T>(value: T): T {
  return structuredClone(value);
}

export class LiveSettings<T extends object> implements Live<T> {
  private value: T;
  private readonly listeners = new Set<(next: T, previous: T) => void>();

  /** Takes a copy of `initial`: the caller's object stays its own. */
  constructor(initial: T) {
    this.value = deepFreeze(deepCopy(initial));
  }

  get(): T {
    return this.value;
  }

  /** Publishes a new value (copied and frozen) and tells every listener. */
  set(next: T): void {
    const previous = this.value;
    this.value = deepFreeze(deepCopy(next));
    for (const l of [...this.listeners]) l(this.value, previous);
  }

  /** A new value built from the one in force. */
  update(change: (current: T) => T): void {
    this.set(change(this.value));
  }

  onChange(listener: (next: T, previous: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One part of the settings as a Live of its own (a service sees only what it reads). */
  view<K extends keyof T>(key: K): Live<T[K]> {
    return {
      get: () => this.value[key],
      onChange: (listener) =>
        this.onChange((next, previous) => {
          // Settings are small plain data: compared by value, so an untouched part stays quiet.
          if (JSON.stringify(next[key]) !== JSON.stringify(previous[key])) listener(next[key], previous[key]);
        }),
    };
  }
}

/** The outbox publisher's tunables (mqtt.inflightWindow and mqtt.retainAcked). */
export interface SyncTunables {
  inflightWindow: number;
  retainAcked: number;
}

/** What remote setConfig may change, as the running services read it. */
export interface RuntimeSettings {
  codes: LockerConfig['codes'];
  doors: LockerConfig['doors'];
  /** null when the locker has no broker configured. */
  sync: SyncTunables | null;
}

/** A fixed value in the shape of a Live (for tests and callers that never change it). */
export function fixed<T>(value: T): Live<T> {
  const frozen = deepFreeze(deepCopy(value));
  return { get: () => frozen, onChange: () => () => {} };
}
