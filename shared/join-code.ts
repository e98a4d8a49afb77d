// Join codes: what a teacher shows on the projector and a student types to join. A code is 20
// random bytes written in 32 characters of an alphabet without look-alikes (no I, O, 0 or 1),
// shown in groups of four. Kept in canonical form (upper case, no dashes) in the class's log.
// Runs anywhere: the renderer makes new codes with the browser's crypto, the peer with Node's.
import { base32 } from './base32';

export const JOIN_CODE_BYTES = 20;
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** How many characters a code has (without dashes). */
export const JOIN_CODE_LENGTH = Math.ceil((JOIN_CODE_BYTES * 8) / 5);
/** A join code in canonical form. */
export const JOIN_CODE_PATTERN = new RegExp(`^[${ALPHABET}]{${JOIN_CODE_LENGTH}}$`);

/** A new join code from `random` bytes (at least JOIN_CODE_BYTES of them, from a CSPRNG). */
export function newJoinCode(random: Uint8Array): string {
  if (random.byteLength < JOIN_CODE_BYTES) throw new RangeError(`a join code needs ${JOIN_CODE_BYTES} random bytes`);
  return base32(random.subarray(0, JOIN_CODE_BYTES), ALPHABET);
}

/** The canonical form of a code as typed (any case, dashes and spaces), or null when it can't be one. */
export function canonicalJoinCode(typed: string): string | null {
  const clean = typed.toUpperCase().replace(/[\s-]/g, '');
  return JOIN_CODE_PATTERN.test(clean) ? clean : null;
}

/** A code as shown to people: groups of four, joined by dashes. */
export function displayJoinCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}
