// The requests that pull a blob from another laptop, carried by the transport's authenticated
// request frames: "do you have X, and how big is it" and "give me bytes [offset, offset+length)
// of X". Binary, every integer a shortest-form varint, so each message has exactly one encoding;
// decoded with validation, since a peer may be broken or hostile.
//
//   query request   6 · sha256 (32 bytes)
//   read request    7 · sha256 (32 bytes) · offset (varint) · length (varint, 1..MAX_CHUNK_BYTES)
//   reply           0 missing
//                   1 have · size (varint)
//                   2 chunk · the bytes, to the end (at most MAX_CHUNK_BYTES)
//                   3 refused · reason (1 malformed request, 2 offset past the end)
import { ByteReader, ByteWriter } from '../transport/binary';
import { FrameDecodeError } from '../transport/errors';
import { bytesToHash, HASH_BYTES, hashToBytes } from './blob-hash';

/** First byte of a blob query (writes, joins, peer exchange and recovery use 1 to 5). */
export const BLOB_QUERY = 6;
/** First byte of a blob read. */
export const BLOB_READ = 7;
/** The largest chunk asked or answered: a frame stays far below the transport's 4 MiB limit. */
export const MAX_CHUNK_BYTES = 256 * 1024;

export type BlobRequest =
  | { kind: 'query'; sha256: string }
  | { kind: 'read'; sha256: string; offset: number; length: number };

/** Why a well-formed request was refused. */
export type RefusalReason = 'malformed' | 'outOfRange';

export type BlobReply =
  | { kind: 'missing' }
  | { kind: 'have'; size: number }
  | { kind: 'chunk'; bytes: Uint8Array }
  | { kind: 'refused'; reason: RefusalReason };

const MISSING = 0;
const HAVE = 1;
const CHUNK = 2;
const REFUSED = 3;
const REASONS: readonly RefusalReason[] = ['malformed', 'outOfRange']; // on the wire as index + 1

/** True when `payload` is a blob request by its first byte (well-formed or not), for dispatching. */
export function isBlobRequest(payload: Uint8Array): boolean {
  return payload.byteLength > 0 && (payload[0] === BLOB_QUERY || payload[0] === BLOB_READ);
}

/** Throws (InvalidBlobHashError, RangeError) for a request no peer would accept, so we never send one. */
export function encodeBlobRequest(request: BlobRequest): Uint8Array {
  const writer = new ByteWriter(48);
  if (request.kind === 'query') return writer.u8(BLOB_QUERY).fixed(hashToBytes(request.sha256)).finish().slice();
  if (!isChunkLength(request.length)) throw new RangeError(`chunk length ${request.length} is not within 1..${MAX_CHUNK_BYTES}`);
  return writer.u8(BLOB_READ).fixed(hashToBytes(request.sha256)).varint(request.offset).varint(request.length).finish().slice();
}

/** The request in `payload`, or null when it is not a well-formed one. Never throws. */
export function decodeBlobRequest(payload: Uint8Array): BlobRequest | null {
  return decoding(() => {
    const reader = new ByteReader(payload);
    const tag = reader.u8('tag');
    if (tag !== BLOB_QUERY && tag !== BLOB_READ) return null;
    const sha256 = bytesToHash(reader.fixed(HASH_BYTES, 'sha256'));
    if (tag === BLOB_QUERY) {
      reader.expectEnd('blob query');
      return { kind: 'query', sha256 };
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
      default:
        return null;
    }
  });
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
