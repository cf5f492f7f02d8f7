// What each lock-board family can address (/work/shared/protocols/lock-boards.md): the schema
// refuses a board beyond these limits with its path, and the drivers (hal/buses/protocols.ts)
// check the same table, so `check-config` and `start` never disagree.
export interface BoardFamilyLimits {
  minAddress: number;
  maxAddress: number;
  maxLocks: number;
}

export const BOARD_LIMITS = {
  /** CU16: ADDR = board << 4 | lock index; boards 0-9 on most firmware, 0-15 on some. */
  'kerong-cu16': { minAddress: 0, maxAddress: 15, maxLocks: 16 },
  /** CU48: ADDR 0x00-0x09 (0x0A is every board), LOCK 0x00-0x2F. */
  'kerong-cu48': { minAddress: 0, maxAddress: 9, maxLocks: 48 },
  /** Generic 8A boards: address 1-255, up to 32 locks (24 on some). */
  'generic-8a': { minAddress: 1, maxAddress: 255, maxLocks: 32 },
} as const satisfies Record<string, BoardFamilyLimits>;

export type BoardFamily = keyof typeof BOARD_LIMITS;
