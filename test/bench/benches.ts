// The benchmarks the runner knows, in the order they run and appear in BENCHMARKS.md.
import { type BenchOptions, type BenchResult } from './support/result.js';

export const benchNames = ['codeToUnlock', 'diskPerTransaction', 'memoryAndColdStart', 'mqttBacklogDrain', 'peakRss', 'fleet', 'growth'] as const;
export type BenchName = (typeof benchNames)[number];

export function isBenchName(name: string): name is BenchName {
  return (benchNames as readonly string[]).includes(name);
}

export async function runBench(name: BenchName, o: BenchOptions): Promise<BenchResult> {
  switch (name) {
    case 'codeToUnlock':
      return (await import('./codeToUnlock.js')).runCodeToUnlock(o);
    case 'diskPerTransaction':
      return (await import('./diskPerTransaction.js')).runDiskPerTransaction(o);
    case 'memoryAndColdStart':
      return (await import('./memoryAndColdStart.js')).runMemoryAndColdStart(o);
    case 'mqttBacklogDrain':
      return (await import('./mqttBacklogDrain.js')).runMqttBacklogDrain(o);
    case 'peakRss':
      return (await import('./peakRss.js')).runPeakRss(o);
    case 'fleet':
      return (await import('./fleet.js')).runFleet(o);
    case 'growth':
      return (await import('./growth.js')).runGrowth(o);
  }
}
