// The requests that pull a blob from another laptop, carried by the transport's authenticated
// request frames: "do you have X, and how big is it", "give me bytes [offset, offset+length)
// of X" and "what are the SHA-256s of X's chunks" (asked to find which chunks of a damaged copy
// to fetch again; the file's own hash still decides whether the repaired copy is kept). Binary, every integer a shortest-form varint, so each message has exactly one encoding;
// decoded with validation, since a peer may be broken or hostile.
//
//   query request   6 · sha256 (32 bytes)
//   read request    7 · sha256 (32 bytes) · offset (varint) · length (varint, 1..MAX_CHUNK_BYTES)
//   hashes request 10 · sha256 (32 bytes) · chunk size (varint, MIN_HASHED_CHUNK_BYTES..MAX_CHUNK_BYTES)
//   reply           0 missing
//                   1 have · size (varint)
//                   2 chunk · the bytes, to the end (at most MAX_CHUNK_BYTES)
//                   3 refused · reason (1 malformed request, 2 offset past the end)
//                   4 hashes · the SHA-256 of each chunk in order, 32 bytes each (at most MAX_CHUNK_HASHES)
import { ByteReader, ByteWriter } from '../transport/binary';
import { FrameDecodeError } from '../transport/errors';
import { bytesToHash, HASH_BYTES, hashToBytes } from './blob-hash';

/** First byte of a blob query (writes, joins, peer exchange and recovery use 1 to 5). */
export const BLOB_QUERY = 6;
/** First byte of a blob read. */
export const BLOB_READ = 7;
/** First byte of a request for a blob's chunk hashes (8 is the hold request, 9 the join ticket). */
export const BLOB_HASHES = 10;
/** The largest chunk asked or answered: a frame stays far below the transport's 4 MiB limit. */
export const MAX_CHUNK_BYTES = 256 * 1024;
/** The smallest chunk whose hashes may be asked: hashing a file in tiny pieces would cost its holder too much. */
export const MIN_HASHED_CHUNK_BYTES = 16 * 1024;
/** The most chunk hashes in a reply: a 64 MiB file at the smallest chunk size, 128 KiB of hashes. */
export const MAX_CHUNK_HASHES = 4096;

export type BlobRequest =
  | { kind: 'query'; sha256: string }
  | { kind: 'read'; sha256: string; offset: number; length: number }
  | { kind: 'hashes'; sha256: string; chunkBytes: number };

/** Why a well-formed request was refused. */
export type RefusalReason = 'malformed' | 'outOfRange';

export type BlobReply =
  | { kind: 'missing' }
  | { kind: 'have'; size: number }
  | { kind: 'chunk'; bytes: Uint8Array }
  | { kind: 'refused'; reason: RefusalReason }
  /** The SHA-256 of each chunk of the blob, in order, as hex. */
  | { kind: 'hashes'; hashes: string[] };

const MISSING = 0;
const HAVE = 1;
const CHUNK = 2;
const REFUSED = 3;
const HASHES = 4;
const REASONS: readonly RefusalReason[] = ['malformed', 'outOfRange']; // on the wire as index + 1

/** True when `payload` is a blob request by its first byte (well-formed or not), for dispatching. */
export function isBlobRequest(payload: Uint8Array): boolean {
  return payload.byteLength > 0 && (payload[0] === BLOB_QUERY || payload[0] === BLOB_READ || payload[0] === BLOB_HASHES);
}

/** Throws (InvalidBlobHashError, RangeError) for a request no peer would accept, so we never send one. */
export function encodeBlobRequest(request: BlobRequest): Uint8Array {
  const writer = new ByteWriter(48);
  if (request.kind === 'query') return writer.u8(BLOB_QUERY).fixed(hashToBytes(request.sha256)).finish().slice();
  if (request.kind === 'hashes') {
    if (!isHashedChunkBytes(request.chunkBytes)) throw new RangeError(`chunk size ${request.chunkBytes} is not within ${MIN_HASHED_CHUNK_BYTES}..${MAX_CHUNK_BYTES}`);
    return writer.u8(BLOB_HASHES).fixed(hashToBytes(request.sha256)).varint(request.chunkBytes).finish().slice();
  }
  if (!isChunkLength(request.length)) throw new RangeError(`chunk length ${request.length} is not within 1..${MAX_CHUNK_BYTES}`);
  return writer.u8(BLOB_READ).fixed(hashToBytes(request.sha256)).varint(request.offset).varint(request.length).finish().slice();
}

/** The request in `payload`, or null when it is not a well-formed one. Never throws. */
export function decodeBlobRequest(payload: Uint8Array): BlobRequest | null {
  return decoding(() => {
    const reader = new ByteReader(payload);
    const tag = reader.u8('tag');
    if (tag !== BLOB_QUERY && tag !== BLOB_READ && tag !== BLOB_HASHES) return null;
    const sha256 = bytesToHash(reader.fixed(HASH_BYTES, 'sha256'));
    if (tag === BLOB_QUERY) {
      reader.expectEnd('blob query');
      return { kind: 'query', sha256 };
    }
    if (tag === BLOB_HASHES) {
      const chunkBytes = reader.varint('chunk size');
      reader.expectEnd('blob hashes');
      return isHashedChunkBytes(chunkBytes) ? { kind: 'hashes', sha256, chunkBytes } : null;
    }
    const offset = reader.varint('offset');
    const length = reader.varint('length');
    reader.expectEnd('blob read');
    return isChunkLength(length) ? { kind: 'read', sha256, offset, length } : null;
  });
}

/** Throws RangeError for a reply no peer would accept (a chunk over MAX_CHUNK_BYTES, a bad size). */
export function encodeBlobReply(reply: BlobReply): Uint8Array {
  switch (reply.kind) {
    case 'missing':
      return Uint8Array.of(MISSING);
    case 'have':
      return new ByteWriter(16).u8(HAVE).varint(reply.size).finish().slice();
    case 'chunk': {
      if (reply.bytes.byteLength > MAX_CHUNK_BYTES) throw new RangeError(`chunk of ${reply.bytes.byteLength} bytes exceeds ${MAX_CHUNK_BYTES}`);
      const out = new Uint8Array(1 + reply.bytes.byteLength);
      out[0] = CHUNK;
      out.set(reply.bytes, 1);
      return out;
    }
    case 'refused':
      return Uint8Array.of(REFUSED, REASONS.indexOf(reply.reason) + 1);
    case 'hashes': {
      if (reply.hashes.length > MAX_CHUNK_HASHES) throw new RangeError(`${reply.hashes.length} chunk hashes exceed ${MAX_CHUNK_HASHES}`);
      const out = new Uint8Array(1 + reply.hashes.length * HASH_BYTES);
      out[0] = HASHES;
      reply.hashes.forEach((hash, index) => out.set(hashToBytes(hash), 1 + index * HASH_BYTES));
      return out;
    }
  }
}

/** The reply in `bytes`, or null when it is not a well-formed one. Never throws. */
export function decodeBlobReply(bytes: Uint8Array): BlobReply | null {
  return decoding(() => {
    const reader = new ByteReader(bytes);
    switch (reader.u8('tag')) {
      case MISSING:
        reader.expectEnd('missing');
        return { kind: 'missing' };
      case HAVE: {
        const size = reader.varint('size');
        reader.expectEnd('have');
        return { kind: 'have', size };
      }
      case CHUNK:
        return reader.remaining <= MAX_CHUNK_BYTES ? { kind: 'chunk', bytes: reader.rest() } : null;
      case REFUSED: {
        const reason = REASONS[reader.u8('reason') - 1];
        reader.expectEnd('refused');
        return reason ? { kind: 'refused', reason } : null;
      }
      case HASHES: {
        const count = reader.remaining / HASH_BYTES;
        if (!Number.isInteger(count) || count > MAX_CHUNK_HASHES) return null;
        return { kind: 'hashes', hashes: Array.from({ length: count }, () => bytesToHash(reader.fixed(HASH_BYTES, 'chunk hash'))) };
      }
      default:
        return null;
    }
  });
}

function isHashedChunkBytes(chunkBytes: number): boolean {
  return Number.isSafeInteger(chunkBytes) && chunkBytes >= MIN_HASHED_CHUNK_BYTES && chunkBytes <= MAX_CHUNK_BYTES;
}

function isChunkLength(length: number): boolean {
  return Number.isSafeInteger(length) && length >= 1 && length <= MAX_CHUNK_BYTES;
}

/** Runs a decoder built on ByteReader, turning its FrameDecodeError into null. */
function decoding<T>(decode: () => T | null): T | null {
  try {
    return decode();
  } catch (error) {
    if (error instanceof FrameDecodeError) return null;
    throw error;
  }
}
