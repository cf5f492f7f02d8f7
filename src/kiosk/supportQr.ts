// The QR code of a support contact's link (`support.qrUrl`, `carriers[].support.qrUrl`), drawn
// on the server as a small SVG for the help and "door did not open" screens (docs/kiosk.md).
// Only links from the configuration are drawn (https: or tel:, at most 256 characters, checked
// by the config schema), never text from a request, so nothing a stranger sends is encoded.
// The encoder (qrcode-generator, MIT) is loaded at the first drawing: an idle lockerd never
// holds it. Drawings are kept per link, a few at most.
import { LockerError, ErrorCodes } from '../../kernel/errors.js';

/** The modules of a QR code: dark[row][column]. */
export type QrModules = readonly (readonly boolean[])[];

/** The quiet zone around the code, in modules (the standard asks for 4). */
export const QR_MARGIN = 4;

/**
 * One SVG: a white square and one path with a 1×1 square per dark module at (column + margin,
 * row + margin). `data-modules` is the module count (a test decodes the path back to modules).
 */
export function qrSvg(dark: QrModules): string {
  const n = dark.length;
  const size = n + QR_MARGIN * 2;
  let d = '';
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (dark[r]?.[c]) d += `M${c + QR_MARGIN} ${r + QR_MARGIN}h1v1h-1z`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" width="${size * 4}" height="${size * 4}" shape-rendering="crispEdges" data-modules="${n}">` +
    `<rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${d}"/></svg>`
  );
}

export class SupportQrCodes {
  private readonly drawn = new Map<string, string>();

  constructor(private readonly maxCached = 16) {}

  /** The SVG of a configured link (error correction M; the smallest version that holds it). */
  async svg(url: string): Promise<string> {
    const hit = this.drawn.get(url);
    if (hit !== undefined) return hit;
    if (url.length > 256) throw new LockerError(ErrorCodes.INPUT_INVALID, 'a support link is at most 256 characters');
    const { default: qrcode } = await import('qrcode-generator');
    const qr = qrcode(0, 'M');
    qr.addData(url, 'Byte');
    qr.make();
    const n = qr.getModuleCount();
    const dark = Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => qr.isDark(r, c)));
    const svg = qrSvg(dark);
    if (this.drawn.size >= this.maxCached) this.drawn.clear();
    this.drawn.set(url, svg);
    return svg;
  }
}
