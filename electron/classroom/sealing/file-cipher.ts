// The cipher of a file attached to a student's work. The file is cut into chunks of 64 KiB of
// plaintext, each sealed on its own with AES-256-GCM under the file's random key, so a reader can
// open any range by reading only the chunks that cover it, and a damaged chunk is caught by its
// own tag. Each chunk's nonce is the file's random nonce and the chunk's index; its associated
// data binds the file's nonce (which names the file), the index and whether it is the last chunk,
// so chunks moved within the file, taken from another file, or a file cut short at a chunk edge
// do not open. The sealed file is just the chunks one after another: what the blob store, the
// laptops that keep copies and the backups handle, hashed as it is. No I/O: reads are handed in.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Plaintext bytes per chunk. */
export const FILE_CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** The file's own part of every chunk's nonce; the chunk's index (4 bytes) completes it to 12. */
export const FILE_NONCE_BYTES = 8;
const BINDING = Buffer.from('quorum-file-v1\0', 'utf8');

/** What opens one sealed file: kept inside the sealed item of the work it is attached to. */
export interface FileSecret {
  key: Uint8Array;
  nonce: Uint8Array;
}

/** A file that does not open: `message` is a sentence for the person reading it. */
export class FileCipherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileCipherError';
  }
}

export function newFileSecret(): FileSecret {
  return { key: randomBytes(KEY_BYTES), nonce: randomBytes(FILE_NONCE_BYTES) };
}

/** Chunks a file of `plainSize` bytes is cut into: an empty file still has one (its tag says it is empty). */
export function chunkCount(plainSize: number): number {
  return Math.max(1, Math.ceil(plainSize / FILE_CHUNK_BYTES));
}

/** The size of the sealed file. */
export function sealedFileSize(plainSize: number): number {
  return plainSize + chunkCount(plainSize) * TAG_BYTES;
}

/** The largest file whose sealed copy is at most `maxSealedBytes`. */
export function largestPlainSize(maxSealedBytes: number): number {
  const chunks = Math.ceil(maxSealedBytes / (FILE_CHUNK_BYTES + TAG_BYTES));
  let plain = maxSealedBytes - chunks * TAG_BYTES;
  while (plain > 0 && sealedFileSize(plain) > maxSealedBytes) plain--;
  return Math.max(0, plain);
}

/** `plaintext` sealed under `secret`, chunk after chunk. */
export function sealFile(plaintext: Uint8Array, secret: FileSecret): Buffer {
  checkSecret(secret);
  const count = chunkCount(plaintext.byteLength);
  const parts: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    const chunk = plaintext.subarray(index * FILE_CHUNK_BYTES, (index + 1) * FILE_CHUNK_BYTES);
    const cipher = createCipheriv('aes-256-gcm', secret.key, nonceOf(secret, index));
    cipher.setAAD(bindingOf(secret, index, index === count - 1));
    parts.push(cipher.update(chunk), cipher.final(), cipher.getAuthTag());
  }
  return Buffer.concat(parts);
}

/** Reads `length` bytes of the sealed file from `offset` (fewer only where it ends). */
export type SealedReader = (offset: number, length: number) => Promise<Uint8Array>;

/**
 * Up to `length` bytes of the plaintext from `offset`, opening only the chunks that cover them.
 * `plainSize` is the size sealed with the key, so a sealed file of any other size is refused
 * before anything is opened. Throws FileCipherError when the file does not open.
 */
export async function openFileRange(
  secret: FileSecret,
  plainSize: number,
  sealedSize: number,
  read: SealedReader,
  offset: number,
  length: number,
): Promise<Buffer> {
  checkSecret(secret);
  if (sealedSize !== sealedFileSize(plainSize)) {
    throw new FileCipherError('This file’s stored copy is not the size it was sealed at: it was cut short or damaged, so it cannot be opened.');
  }
  if (offset >= plainSize || length <= 0) {
    // An empty range still proves the key: an empty file's single chunk is opened.
    if (plainSize === 0) await openChunk(secret, 0, 1, read);
    return Buffer.alloc(0);
  }
  const end = Math.min(plainSize, offset + length);
  const count = chunkCount(plainSize);
  const parts: Buffer[] = [];
  for (let index = Math.floor(offset / FILE_CHUNK_BYTES); index * FILE_CHUNK_BYTES < end; index++) {
    const chunk = await openChunk(secret, index, count, read);
    const chunkStart = index * FILE_CHUNK_BYTES;
    parts.push(chunk.subarray(Math.max(0, offset - chunkStart), Math.min(chunk.byteLength, end - chunkStart)));
  }
  return Buffer.concat(parts);
}

/** The whole plaintext of a sealed file held in memory. */
export async function openFile(secret: FileSecret, plainSize: number, sealed: Uint8Array): Promise<Buffer> {
  return openFileRange(secret, plainSize, sealed.byteLength, async (offset, length) => sealed.subarray(offset, offset + length), 0, plainSize);
}

async function openChunk(secret: FileSecret, index: number, count: number, read: SealedReader): Promise<Buffer> {
  const stride = FILE_CHUNK_BYTES + TAG_BYTES;
  const last = index === count - 1;
  const sealed = await read(index * stride, stride);
  if (sealed.byteLength < TAG_BYTES || (!last && sealed.byteLength !== stride)) throw damaged(index, count);
  try {
    const decipher = createDecipheriv('aes-256-gcm', secret.key, nonceOf(secret, index));
    decipher.setAAD(bindingOf(secret, index, last));
    decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.byteLength - TAG_BYTES)), decipher.final()]);
  } catch {
    throw damaged(index, count);
  }
}

function damaged(index: number, count: number): FileCipherError {
  return new FileCipherError(
    `Part ${index + 1} of ${count} of this file does not open with its key: the file was damaged or altered, so it is not shown. Ask for it to be attached again.`,
  );
}

function nonceOf(secret: FileSecret, index: number): Buffer {
  const nonce = Buffer.alloc(FILE_NONCE_BYTES + 4);
  Buffer.from(secret.nonce).copy(nonce, 0);
  nonce.writeUInt32BE(index, FILE_NONCE_BYTES);
  return nonce;
}

function bindingOf(secret: FileSecret, index: number, last: boolean): Buffer {
  const position = Buffer.alloc(5);
  position.writeUInt32BE(index, 0);
  position.writeUInt8(last ? 1 : 0, 4);
  return Buffer.concat([BINDING, secret.nonce, position]);
}

function checkSecret(secret: FileSecret): void {
  if (secret.key.byteLength !== KEY_BYTES || secret.nonce.byteLength !== FILE_NONCE_BYTES) {
    throw new FileCipherError('This file’s key is not a key this app made, so the file cannot be opened.');
  }
}
