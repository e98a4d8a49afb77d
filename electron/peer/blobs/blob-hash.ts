// A blob's name is the SHA-256 of its bytes, written as 64 lowercase hex characters. Names come
// from the replicated log and from peers, so every one is checked against that exact form before
// it becomes part of a path: no separator, dot, drive letter or uppercase twin can get through.
import { createHash } from 'node:crypto';
import { InvalidBlobHashError } from './errors';

const BLOB_HASH = /^[0-9a-f]{64}$/;

/** Bytes in a SHA-256. */
export const HASH_BYTES = 32;

/** True for exactly 64 lowercase hex characters. */
export function isBlobHash(value: unknown): value is string {
  return typeof value === 'string' && BLOB_HASH.test(value);
}

/** `value` itself when it is a blob hash; throws InvalidBlobHashError otherwise. */
export function checkBlobHash(value: unknown): string {
  if (!isBlobHash(value)) throw new InvalidBlobHashError(value);
  return value;
}

/** The SHA-256 of `bytes` in hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The 32 raw bytes of a hash, for the wire. */
export function hashToBytes(sha256: string): Uint8Array {
  return Uint8Array.from(Buffer.from(checkBlobHash(sha256), 'hex'));
}

/** The hash written by `bytes` (any 32 bytes name some hash; the result is always valid). */
export function bytesToHash(bytes: Uint8Array): string {
  if (bytes.byteLength !== HASH_BYTES) throw new RangeError(`a SHA-256 has ${HASH_BYTES} bytes, not ${bytes.byteLength}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
