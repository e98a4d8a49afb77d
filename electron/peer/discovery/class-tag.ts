// Class tags: what a laptop says on the LAN about the classes it serves. A tag names a class
// without revealing it: it is a truncated HMAC under the class secret, so only laptops that know
// the secret can tell which class it is. It is public and stable, so the secret must be
// high-entropy: a guessable secret could be found offline from one overheard tag.
import { createHmac } from 'node:crypto';

/** Bytes of HMAC-SHA256 kept: 64 bits make an accidental collision between classes negligible. */
export const CLASS_TAG_BYTES = 8;
/** Same floor as the transport's class proofs (MIN_CLASS_SECRET_BYTES): 128 bits resist offline guessing. */
export const MIN_CLASS_SECRET_BYTES = 16;
const CLASS_TAG_LABEL = 'quorum-class-tag';
const CLASS_TAG_PATTERN = new RegExp(`^[0-9a-f]{${CLASS_TAG_BYTES * 2}}$`);

/** The class tag of `secret`: the first 8 bytes of HMAC-SHA256(secret, "quorum-class-tag"), lowercase hex. */
export function classTag(secret: Uint8Array): string {
  if (secret.byteLength < MIN_CLASS_SECRET_BYTES) {
    throw new RangeError(`class secret must be at least ${MIN_CLASS_SECRET_BYTES} bytes, not ${secret.byteLength}`);
  }
  return createHmac('sha256', secret).update(CLASS_TAG_LABEL).digest().subarray(0, CLASS_TAG_BYTES).toString('hex');
}

/** Whether `value` is a well-formed class tag: exactly 16 lowercase hex digits. */
export function isClassTag(value: unknown): value is string {
  return typeof value === 'string' && CLASS_TAG_PATTERN.test(value);
}
