// Base32 without padding over a caller's alphabet of 32 characters: laptop and user ids
// (lowercase RFC 4648) and join codes (an alphabet easy to read off a projector).

export function base32(bytes: Uint8Array, alphabet: string): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
