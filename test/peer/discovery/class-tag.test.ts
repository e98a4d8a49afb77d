// Class tags: an opaque, stable name for a class, derived from its secret and nothing else.
import { describe, expect, it } from 'vitest';
import { classTag, CLASS_TAG_BYTES, isClassTag } from '../../../electron/peer/discovery';

const sequentialSecret = Uint8Array.from({ length: 32 }, (_, i) => i);

describe('classTag', () => {
  it('is the first 8 bytes of HMAC-SHA256(secret, "quorum-class-tag") in hex (vectors from openssl)', () => {
    // printf 'quorum-class-tag' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f
    expect(classTag(sequentialSecret)).toBe('d28b334191c8835f');
    expect(classTag(new Uint8Array(16).fill(0xab))).toBe('c8a992eb2d3bff90');
    expect(CLASS_TAG_BYTES).toBe(8);
  });

  it('is stable, differs between secrets, and never contains the secret', () => {
    const other = Uint8Array.from(sequentialSecret, (byte) => byte ^ 1);
    expect(classTag(sequentialSecret)).toBe(classTag(Uint8Array.from(sequentialSecret)));
    expect(classTag(other)).not.toBe(classTag(sequentialSecret));
    expect(Buffer.from(sequentialSecret).toString('hex')).not.toContain(classTag(sequentialSecret));
    expect(isClassTag(classTag(other))).toBe(true);
  });

  it('refuses secrets shorter than 16 bytes: a public tag of a weak secret can be brute-forced offline', () => {
    expect(() => classTag(new Uint8Array(15))).toThrow(RangeError);
    expect(() => classTag(new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('isClassTag', () => {
  it.each([
    ['d28b334191c8835f', true],
    ['0000000000000000', true],
    ['D28B334191C8835F', false], // uppercase is not what we announce
    ['d28b334191c8835', false],
    ['d28b334191c8835f0', false],
    ['d28b334191c8835g', false],
    [' d28b334191c8835', false],
    ['', false],
    [12345678, false],
    [null, false],
  ])('%j → %s', (value, expected) => {
    expect(isClassTag(value)).toBe(expected);
  });
});
