// The serving side of a blob pull: answers another laptop's query or read from the local store.
// Meant to be called from the transport's request handler for payloads `isBlobRequest` accepts.
import { BlobNotFoundError } from './errors';
import { decodeBlobRequest, encodeBlobReply, type BlobReply } from './protocol';

/** What serving needs of a store; `BlobStore` is one. */
export interface BlobSource {
  /** The blob's size in bytes, or null when it is not held here. */
  size(sha256: string): Promise<number | null>;
  /** Up to `length` bytes from `offset`; throws BlobNotFoundError when the blob is not held here. */
  read(sha256: string, offset: number, length: number): Promise<Uint8Array>;
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
  const size = await store.size(request.sha256);
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
