// Test helpers for wire bytes: golden frames are written out as hex text in the tests and
// turned into bytes here, so no expectation is ever produced by the encoder under test.
export function hexBytes(text: string): Uint8Array {
  const parts = text.trim().split(/\s+/).filter((p) => p.length > 0);
  return Uint8Array.from(parts, (p) => {
    if (!/^[0-9a-fA-F]{2}$/.test(p)) throw new Error(`not a hex byte: "${p}"`);
    return parseInt(p, 16);
  });
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
