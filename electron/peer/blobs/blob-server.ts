// The serving side of a blob pull: answers another laptop's query, read or request for chunk
// hashes from the local store. Meant to be called from the transport's request handler for
// payloads `isBlobRequest` accepts. A copy is served only once the store has checked it against
// its hash, so a copy damaged on this disk is dropped here instead of sent to the class.
import { BlobNotFoundError } from './errors';
import { decodeBlobRequest, encodeBlobReply, MAX_CHUNK_HASHES, type BlobReply } from './protocol';

/** What serving needs of a store; `BlobStore` is one. */
export interface BlobSource {
  /** The blob's size in bytes once checked against its hash, or null when it is not held here (or was damaged). */
  checkedSize(sha256: string): Promise<number | null>;
  /** Up to `length` bytes from `offset`; throws BlobNotFoundError when the blob is not held here. */
  read(sha256: string, offset: number, length: number): Promise<Uint8Array>;
  /** The SHA-256 of each chunk, checking the whole blob on the way; null when not held here (or damaged). */
  chunkHashes(sha256: string, chunkBytes: number): Promise<string[] | null>;
}

export interface ServeOptions {
  /**
   * Whether this requester may have this blob (for example: the class it asked in refers to
   * it). A refusal is answered as "missing", so a peer cannot probe for what it may not read.
   */
  mayServe?: (sha256: string) => boolean;
}

/**
 * The encoded reply to a blob request. A malformed request or a read past the end is answered
 * "refused"; a blob deleted meanwhile, "missing". Disk errors reject, which the transport
 * answers with HANDLER_FAILED and logs.
 */
export async function answerBlobRequest(store: BlobSource, payload: Uint8Array, options: ServeOptions = {}): Promise<Uint8Array> {
  return encodeBlobReply(await replyTo(store, payload, options));
}

async function replyTo(store: BlobSource, payload: Uint8Array, options: ServeOptions): Promise<BlobReply> {
  const request = decodeBlobRequest(payload);
  if (!request) return { kind: 'refused', reason: 'malformed' };
  if (options.mayServe && !options.mayServe(request.sha256)) return { kind: 'missing' };
  if (request.kind === 'hashes') {
    const hashes = await store.chunkHashes(request.sha256, request.chunkBytes);
    if (!hashes) return { kind: 'missing' };
    return hashes.length <= MAX_CHUNK_HASHES ? { kind: 'hashes', hashes } : { kind: 'refused', reason: 'malformed' };
  }
  const size = await store.checkedSize(request.sha256);
  if (size === null) return { kind: 'missing' };
  if (request.kind === 'query') return { kind: 'have', size };
  if (request.offset >= size) return { kind: 'refused', reason: 'outOfRange' };
  try {
    // The decoder capped `length` at MAX_CHUNK_BYTES, so this allocates at most that much.
    return { kind: 'chunk', bytes: await store.read(request.sha256, request.offset, Math.min(request.length, size - request.offset)) };
  } catch (error) {
    if (error instanceof BlobNotFoundError) return { kind: 'missing' }; // deleted since we looked
    throw error;
  }
}
