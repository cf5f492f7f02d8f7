// What scanned text is, read on the server for the screen in use (the page never sees it):
// a pickup or drop-off code, a signed badge, or (on a courier's deposit screen) a waybill.

/** A code inside scanned text: bare digits, a code= parameter or a URL ending in digits. */
export function codeFromScan(text: string): string | undefined {
  const s = text.trim();
  const m = /^(\d{4,16})$/.exec(s) ?? /[?&#]code=(\d{4,16})\b/i.exec(s) ?? /[/:=](\d{4,16})$/.exec(s);
  return m?.[1];
}

/** A signed badge (three dot-separated base64url parts) rather than a code or a waybill. */
export function looksLikeBadge(text: string): boolean {
  return /^[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}$/.test(text.trim());
}

/** Screens as the scanner sees them: what a scan on that screen means. */
// collect: the waybill of a collected parcel, checked by lockerd against the parcel of its door.
export const scanScreens = ['home', 'pickup', 'dropoff', 'login', 'waybill', 'collect', 'none'] as const;
export type ScanScreen = (typeof scanScreens)[number];
