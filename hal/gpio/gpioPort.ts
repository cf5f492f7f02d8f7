// The GPIO lines the GPIO lock bus and indicator need, as a small interface so the real sysfs
// driver (onoffGpio.ts) and the simulator (sim/gpio/simGpio.ts) plug in the same way.
// Pins are BCM numbers as printed on pinout diagrams; mapping them to the kernel's numbering
// is the implementation's business.
//
// Every method rejects with a LockerError (GPIO_ERROR) on a fault and never throws
// synchronously.

export type GpioValue = 0 | 1;
export type GpioEdge = 'none' | 'rising' | 'falling' | 'both';

export interface GpioOutput {
  readonly pin: number;
  /** Logical value: 1 = active (relay energised, LED lit), already corrected for active-low wiring. */
  read(): Promise<GpioValue>;
  write(value: GpioValue): Promise<void>;
  /** Drives the line inactive and releases it. */
  close(): Promise<void>;
}

export interface GpioInput {
  readonly pin: number;
  /** Physical level of the pin. */
  read(): Promise<GpioValue>;
  /** Calls back with the new level on each configured edge; returns an unsubscribe function. */
  watch(callback: (value: GpioValue) => void): () => void;
  close(): Promise<void>;
}

export interface GpioPort {
  /** Claims a pin as an output, starting inactive (glitch-free where the platform allows). */
  openOutput(pin: number, activeLow: boolean): Promise<GpioOutput>;
  /** Claims a pin as an input with edge notifications. */
  openInput(pin: number, edge: GpioEdge): Promise<GpioInput>;
}
