// The key a backup is encrypted with, derived from a passphrase the teacher chooses. scrypt makes
// every guess cost memory and time, so a lost USB stick does not give the class away to whoever
// tries common passphrases; the cost parameters travel in the file's header so they can grow.
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { MIN_PASSPHRASE_LENGTH } from '../../../shared/backup-limits';
import { backupError } from './errors';

export { MIN_PASSPHRASE_LENGTH };
export const KEY_BYTES = 32;
const SALT_BYTES = 16;
const CHECK_BYTES = 16;

/** How the key was derived; stored in the header. */
export interface KeyDerivation {
  name: 'scrypt';
  /** base64url */
  salt: string;
  N: number;
  r: number;
  p: number;
  /** base64url of a value only the right key reproduces: a wrong passphrase is told apart from a damaged file. */
  check: string;
}

/** 2^15 × 8 × 128 bytes = 32 MiB and about a tenth of a second per guess on a school laptop. */
const DEFAULT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;
/** What a header may ask for: enough to grow, not enough for a crafted file to exhaust memory. */
const MAX_N = 2 ** 20;

/** Refuses a passphrase too short to protect a class, with a sentence. */
export function checkNewPassphrase(passphrase: string): void {
  if ([...passphrase.normalize('NFC')].length < MIN_PASSPHRASE_LENGTH) {
    throw backupError(
      'PASSPHRASE_TOO_SHORT',
      `The backup passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters long: a backup holds the whole class, so a short passphrase would not protect it. A few words in a row are easy to remember.`,
    );
  }
}

/** A fresh key for a new backup, and how to derive it again. */
export async function newBackupKey(passphrase: string): Promise<{ key: Buffer; derivation: KeyDerivation }> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(passphrase, salt, DEFAULT_COST);
  return { key, derivation: { name: 'scrypt', salt: salt.toString('base64url'), ...DEFAULT_COST, check: keyCheck(key).toString('base64url') } };
}

/** The key of an existing backup; throws WRONG_PASSPHRASE when it is not the one it was made with. */
export async function existingBackupKey(passphrase: string, derivation: KeyDerivation): Promise<Buffer> {
  const key = await deriveKey(passphrase, Buffer.from(derivation.salt, 'base64url'), derivation);
  const expected = Buffer.from(derivation.check, 'base64url');
  const actual = keyCheck(key);
  if (expected.byteLength !== actual.byteLength || !timingSafeEqual(expected, actual)) {
    throw backupError('WRONG_PASSPHRASE', 'This is not the passphrase the backup was made with. Nothing was changed; check it and try again.');
  }
  return key;
}

/** Whether a header's derivation is one this version accepts (bounded cost). */
export function isAcceptableDerivation(value: unknown): value is KeyDerivation {
  const d = value as Partial<KeyDerivation> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.name === 'scrypt' &&
    typeof d.salt === 'string' &&
    typeof d.check === 'string' &&
    Number.isSafeInteger(d.N) &&
    d.N! >= 2 ** 10 &&
    d.N! <= MAX_N &&
    (d.N! & (d.N! - 1)) === 0 &&
    Number.isSafeInteger(d.r) &&
    d.r! >= 1 &&
    d.r! <= 16 &&
    Number.isSafeInteger(d.p) &&
    d.p! >= 1 &&
    d.p! <= 4
  );
}

function deriveKey(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, KEY_BYTES, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

function keyCheck(key: Buffer): Buffer {
  return createHmac('sha256', key).update('quorum backup passphrase check').digest().subarray(0, CHECK_BYTES);
}
