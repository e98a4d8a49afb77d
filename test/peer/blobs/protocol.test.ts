// The blob pull codec: every request and reply an honest laptop sends decodes to what it meant,
// and whatever bytes a hostile laptop sends decode to null or to a value that encodes back to
// exactly those bytes; the decoders never throw.
//
// fast-check generates the inputs from one seed per run, printed first; replay a failure with
//   QUORUM_FUZZ_SEED=<seed> npx vitest run test/peer/blobs/protocol.test.ts
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLOB_HASHES,
  BLOB_QUERY,
  BLOB_READ,
  decodeBlobReply,
  decodeBlobRequest,
  encodeBlobReply,
  encodeBlobRequest,
  isBlobRequest,
  MAX_CHUNK_BYTES,
  MAX_CHUNK_HASHES,
  MIN_HASHED_CHUNK_BYTES,
  type BlobReply,
  type BlobRequest,
} from '../../../electron/peer/blobs/protocol';
import { propertySeed } from '../../property-seed';

const seed = propertySeed('test/peer/blobs/protocol.test.ts');
const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns });

const HASH = 'ab'.repeat(32);
const sha256 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'));
/** Mostly small, often where a varint grows a byte, sometimes up to 2^53 − 1. */
const wholeNumber = fc.oneof(fc.nat(300), fc.constantFrom(127, 128, 16_383, 16_384, 2 ** 32, 2 ** 53 - 1), fc.maxSafeNat());
const chunkLength = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(MAX_CHUNK_BYTES - 1, MAX_CHUNK_BYTES));

const request: fc.Arbitrary<BlobRequest> = fc.oneof(
  sha256.map((hash) => ({ kind: 'query' as const, sha256: hash })),
  fc.record({ kind: fc.constant('read' as const), sha256, offset: wholeNumber, length: chunkLength }),
  fc.record({ kind: fc.constant('hashes' as const), sha256, chunkBytes: fc.integer({ min: MIN_HASHED_CHUNK_BYTES, max: MAX_CHUNK_BYTES }) }),
);
const reply: fc.Arbitrary<BlobReply> = fc.oneof(
  fc.constant({ kind: 'missing' as const }),
  wholeNumber.map((size) => ({ kind: 'have' as const, size })),
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ kind: 'chunk' as const, bytes })),
  fc.constantFrom('malformed' as const, 'outOfRange' as const).map((reason) => ({ kind: 'refused' as const, reason })),
  fc.array(sha256, { maxLength: 40 }).map((hashes) => ({ kind: 'hashes' as const, hashes })),
);

/** Bytes a hostile peer might send: anything, often starting with a tag we use. */
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc.tuple(fc.constantFrom(0, 1, 2, 3, 4, BLOB_QUERY, BLOB_READ, BLOB_HASHES), fc.uint8Array({ maxLength: 80 })).map(([tag, rest]) => Uint8Array.of(tag, ...rest)),
);

describe('blob requests', () => {
  it('uses first bytes 6 and 7, after the 1 to 5 of writes, joins, peer exchange and recovery', () => {
    const query = encodeBlobRequest({ kind: 'query', sha256: HASH });
    const read = encodeBlobRequest({ kind: 'read', sha256: HASH, offset: 0, length: 1 });
    expect([query[0], read[0]]).toEqual([6, 7]);
    expect(query).toHaveLength(33);
    expect([isBlobRequest(query), isBlobRequest(read)]).toEqual([true, true]);
    // 8 and 9 are the hold request and the join ticket.
    const hashes = encodeBlobRequest({ kind: 'hashes', sha256: HASH, chunkBytes: MAX_CHUNK_BYTES });
    expect(hashes[0]).toBe(10);
    expect(isBlobRequest(hashes)).toBe(true);
    for (const other of [8, 9]) expect(isBlobRequest(Uint8Array.of(other, 1, 2))).toBe(false);
    for (const other of [1, 2, 3, 4, 5]) expect(isBlobRequest(Uint8Array.of(other, 1, 2))).toBe(false);
    expect(isBlobRequest(new Uint8Array(0))).toBe(false);
  });

  it('round-trips every request', () => {
    fc.assert(
      fc.property(request, (sent) => {
        expect(decodeBlobRequest(encodeBlobRequest(sent))).toEqual(sent);
      }),
      runs(500),
    );
  });

  it.each([
    ['a query with a short hash', Uint8Array.of(BLOB_QUERY, ...new Uint8Array(31))],
    ['a query with a byte too many', Uint8Array.of(BLOB_QUERY, ...new Uint8Array(33))],
    ['a read of zero bytes', Uint8Array.of(BLOB_READ, ...new Uint8Array(32), 0, 0)],
    ['a read of more than 256 KiB', Uint8Array.of(BLOB_READ, ...new Uint8Array(32), 0, 0x81, 0x80, 0x10)],
    ['a read with no length', Uint8Array.of(BLOB_READ, ...new Uint8Array(32), 5)],
    ['a read with an overlong varint', Uint8Array.of(BLOB_READ, ...new Uint8Array(32), 0x80, 0x00, 1)],
    ['a read with trailing bytes', Uint8Array.of(BLOB_READ, ...new Uint8Array(32), 0, 1, 9)],
    ['hashes of chunks smaller than 16 KiB', Uint8Array.of(BLOB_HASHES, ...new Uint8Array(32), 0x80, 0x7f)],
    ['hashes with no chunk size', Uint8Array.of(BLOB_HASHES, ...new Uint8Array(32))],
    ['another tag', Uint8Array.of(4)],
    ['nothing', new Uint8Array(0)],
  ])('refuses %s', (_what, bytes) => {
    expect(decodeBlobRequest(bytes)).toBeNull();
  });

  it('refuses to encode a request no laptop would accept', () => {
    expect(() => encodeBlobRequest({ kind: 'query', sha256: '../etc/passwd' })).toThrow();
    expect(() => encodeBlobRequest({ kind: 'read', sha256: HASH, offset: 0, length: 0 })).toThrow(RangeError);
    expect(() => encodeBlobRequest({ kind: 'read', sha256: HASH, offset: 0, length: MAX_CHUNK_BYTES + 1 })).toThrow(RangeError);
    expect(() => encodeBlobRequest({ kind: 'read', sha256: HASH, offset: -1, length: 1 })).toThrow(RangeError);
    expect(() => encodeBlobRequest({ kind: 'hashes', sha256: HASH, chunkBytes: MIN_HASHED_CHUNK_BYTES - 1 })).toThrow(RangeError);
  });

  it('decodes any bytes to null or to a request that encodes back to exactly those bytes', () => {
    fc.assert(
      fc.property(hostile, (bytes) => {
        const decoded = decodeBlobRequest(bytes);
        if (decoded) expect(Buffer.from(encodeBlobRequest(decoded)).equals(bytes)).toBe(true);
      }),
      runs(2000),
    );
  });
});

describe('blob replies', () => {
  it('round-trips every reply', () => {
    fc.assert(
      fc.property(reply, (sent) => {
        expect(decodeBlobReply(encodeBlobReply(sent))).toEqual(sent);
      }),
      runs(500),
    );
  });

  it('carries a chunk of the largest size, and refuses anything longer', () => {
    const largest = new Uint8Array(MAX_CHUNK_BYTES).fill(7);
    const decoded = decodeBlobReply(encodeBlobReply({ kind: 'chunk', bytes: largest }));
    expect(decoded?.kind === 'chunk' && decoded.bytes.byteLength).toBe(MAX_CHUNK_BYTES);
    const overlong = new Uint8Array(1 + MAX_CHUNK_BYTES + 1);
    overlong[0] = 2;
    expect(decodeBlobReply(overlong)).toBeNull();
    expect(() => encodeBlobReply({ kind: 'chunk', bytes: new Uint8Array(MAX_CHUNK_BYTES + 1) })).toThrow(RangeError);
  });

  it.each([
    ['missing with trailing bytes', Uint8Array.of(0, 0)],
    ['have with no size', Uint8Array.of(1)],
    ['have with a size past 2^53', Uint8Array.of(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)],
    ['refused for no known reason', Uint8Array.of(3, 0)],
    ['refused for reason 3', Uint8Array.of(3, 3)],
    ['hashes of 31 bytes', Uint8Array.of(4, ...new Uint8Array(31))],
    ['more hashes than a file may have', new Uint8Array(1 + 32 * (MAX_CHUNK_HASHES + 1)).fill(4, 0, 1)],
    ['an unknown tag', Uint8Array.of(9)],
    ['nothing', new Uint8Array(0)],
  ])('refuses %s', (_what, bytes) => {
    expect(decodeBlobReply(bytes)).toBeNull();
  });

  it('decodes any bytes to null or to a reply that encodes back to exactly those bytes', () => {
    fc.assert(
      fc.property(hostile, (bytes) => {
        const decoded = decodeBlobReply(bytes);
        if (decoded) expect(Buffer.from(encodeBlobReply(decoded)).equals(bytes)).toBe(true);
      }),
      runs(2000),
    );
  });
});
