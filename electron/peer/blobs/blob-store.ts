// Attachments on this laptop's disk, content-addressed: a file's bytes live under the SHA-256 of
// those bytes, fanned out by its first two hex characters (<dir>/ab/abcdef…) so no folder grows
// huge. A blob is written to <dir>/tmp/, fsynced, then renamed into place, so a visible blob is
// always complete; the temp folder is emptied on open, clearing what a crash left behind.
//
// A copy on disk can still go bad (a failing disk, a file edited by hand), so the store does not
// trust one it has not checked since it opened: `checkedSize` hashes it once before it is read
// or served, and deletes it if it no longer matches its name, so it is fetched again rather than
// spread. A copy written here was checked as it arrived.
//
// One store per directory: opening a second one on the same folder would delete the first's
// downloads in progress.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS } from '../../../shared/classroom/commands';
import { checkBlobHash, isBlobHash, sha256Hex } from './blob-hash';
import { BlobWriter } from './blob-writer';
import { BlobHashMismatchError, BlobNotFoundError, BlobRangeError, BlobTooLargeError } from './errors';
import { diskError, isMissing, syncDirectory, writeAll } from './files';

export interface BlobStoreOptions {
  /** Largest blob accepted, in bytes; default the 50 MiB a file reference may declare (LIMITS.fileBytes). */
  maxBlobBytes?: number;
}

const TEMP_FOLDER = 'tmp';
const SHARD = /^[0-9a-f]{2}$/;
/** Bytes hashed at a time when checking a stored blob. */
const VERIFY_CHUNK_BYTES = 1024 * 1024;

export class BlobStore {
  /** Blobs whose bytes matched their hash since the store opened: written here, or checked. */
  private readonly checked = new Set<string>();
  /** Checks under way, so that many readers of one blob hash it once. */
  private readonly checking = new Map<string, Promise<number | null>>();

  private constructor(
    /** The folder holding the blobs. */
    readonly directory: string,
    /** Largest blob accepted, in bytes. */
    readonly maxBlobBytes: number,
  ) {}

  /** Opens (creating if needed) the store in `directory`, deleting temp files a crash left behind. */
  static async open(directory: string, options: BlobStoreOptions = {}): Promise<BlobStore> {
    const maxBlobBytes = options.maxBlobBytes ?? LIMITS.fileBytes;
    if (!Number.isSafeInteger(maxBlobBytes) || maxBlobBytes < 0) throw new RangeError(`bad maxBlobBytes ${maxBlobBytes}`);
    const temp = join(directory, TEMP_FOLDER);
    await mkdir(temp, { recursive: true });
    for (const leftover of await readdir(temp)) await rm(join(temp, leftover), { recursive: true, force: true });
    return new BlobStore(directory, maxBlobBytes);
  }

  /** True when the blob is stored here. Throws InvalidBlobHashError for a malformed hash. */
  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== null;
  }

  /** The blob's size in bytes, or null when it is not stored here. */
  async size(sha256: string): Promise<number | null> {
    try {
      const stats = await stat(this.pathOf(sha256));
      return stats.isFile() ? stats.size : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /**
   * The blob's size once its bytes are known to match its hash, or null when it is not stored or
   * was damaged (and is now deleted). The first call after the store opened reads and hashes the
   * whole blob; later ones cost a stat.
   */
  async checkedSize(sha256: string): Promise<number | null> {
    checkBlobHash(sha256);
    if (this.checked.has(sha256)) return this.size(sha256);
    let pending = this.checking.get(sha256);
    if (!pending) {
      pending = this.verify(sha256)
        .then((sound) => (sound ? this.size(sha256) : null))
        .finally(() => this.checking.delete(sha256));
      this.checking.set(sha256, pending);
    }
    return pending;
  }

  /**
   * The SHA-256 of each `chunkBytes`-long chunk of the blob, in order, for a laptop repairing a
   * damaged copy. Reads the whole blob and checks it on the way: null when it is not stored or
   * was damaged (and is now deleted), so a damaged copy never vouches for chunks.
   */
  async chunkHashes(sha256: string, chunkBytes: number): Promise<string[] | null> {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`bad chunk size ${chunkBytes}`);
    return this.scan(sha256, chunkBytes, true);
  }

  /**
   * Up to `length` bytes from `offset`: fewer only where the blob ends. Throws BlobNotFoundError
   * when it is not stored, BlobRangeError when `offset` is past the end or the range is not whole numbers.
   */
  async read(sha256: string, offset: number, length: number): Promise<Uint8Array> {
    const path = this.pathOf(sha256);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(sha256);
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (!isWholeNumber(offset) || !isWholeNumber(length) || offset > size) throw new BlobRangeError(sha256, offset, length, size);
      const buffer = Buffer.alloc(Math.min(length, size - offset));
      let filled = 0;
      while (filled < buffer.byteLength) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.byteLength - filled, offset + filled);
        if (bytesRead === 0) break; // shrank under us: only a damaged store does that; the reader's hash check will tell
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  /**
   * Stores `bytes` and returns their hash. Idempotent: a blob already stored is left as it is.
   * With `expectedSha256`, bytes that hash differently are refused with BlobHashMismatchError.
   */
  async put(bytes: Uint8Array, expectedSha256?: string): Promise<string> {
    if (expectedSha256 !== undefined) checkBlobHash(expectedSha256);
    if (bytes.byteLength > this.maxBlobBytes) throw new BlobTooLargeError(bytes.byteLength, this.maxBlobBytes);
    const sha256 = sha256Hex(bytes);
    if (expectedSha256 !== undefined && expectedSha256 !== sha256) throw new BlobHashMismatchError(expectedSha256, sha256);
    // A copy not checked since the store opened may be damaged: these bytes replace it.
    if (this.checked.has(sha256) && (await this.size(sha256)) === bytes.byteLength) return sha256;
    const writer = await this.writer(sha256, bytes.byteLength);
    await writer.append(bytes);
    await writer.finish();
    return sha256;
  }

  /**
   * A writer for a blob arriving in chunks; it publishes the blob only if the bytes hash to
   * `sha256`. Throws BlobTooLargeError when `size` is over the limit, before anything is written.
   */
  async writer(sha256: string, size: number): Promise<BlobWriter> {
    checkBlobHash(sha256);
    if (!isWholeNumber(size)) throw new RangeError(`bad blob size ${size}`);
    if (size > this.maxBlobBytes) throw new BlobTooLargeError(size, this.maxBlobBytes);
    const tempPath = join(this.directory, TEMP_FOLDER, `${randomBytes(12).toString('hex')}.part`);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx+'); // readable too: a repaired copy is hashed again from the file
    } catch (error) {
      throw diskError(error);
    }
    return new BlobWriter(handle, tempPath, sha256, size, (temp, hash, bytes) => this.publish(temp, hash, bytes));
  }

  /** Removes the blob; false when it was not stored. */
  async delete(sha256: string): Promise<boolean> {
    const path = this.pathOf(sha256);
    this.checked.delete(sha256);
    try {
      await rm(path);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** The hashes of every stored blob, sorted. Anything else found in the folders is ignored. */
  async list(): Promise<string[]> {
    const hashes: string[] = [];
    for (const shard of await readdir(this.directory)) {
      if (!SHARD.test(shard)) continue;
      let names: string[];
      try {
        names = await readdir(join(this.directory, shard));
      } catch {
        continue; // a stray file named like a shard
      }
      for (const name of names) if (isBlobHash(name) && name.startsWith(shard)) hashes.push(name);
    }
    return hashes.sort();
  }

  /**
   * Re-reads the blob and checks its hash; a damaged blob (disk error, edited by hand) is
   * deleted so it is fetched again rather than served. False when it is missing or was damaged.
   */
  async verify(sha256: string): Promise<boolean> {
    return (await this.scan(sha256, VERIFY_CHUNK_BYTES, false)) !== null;
  }

  /**
   * Reads the blob in `chunkBytes` pieces and checks it against its hash: the pieces' own hashes
   * when `hashChunks`, else an empty list; null when it is missing or damaged (and then deleted).
   */
  private async scan(sha256: string, chunkBytes: number, hashChunks: boolean): Promise<string[] | null> {
    // Checked again from now: a sound copy published while this one is read marks itself.
    this.checked.delete(sha256);
    const size = await this.size(sha256);
    if (size === null) return null;
    const whole = createHash('sha256');
    const hashes: string[] = [];
    try {
      for (let offset = 0; offset < size; offset += chunkBytes) {
        const chunk = await this.read(sha256, offset, chunkBytes);
        whole.update(chunk);
        if (hashChunks) hashes.push(sha256Hex(chunk));
      }
    } catch (error) {
      if (error instanceof BlobNotFoundError) return null; // deleted meanwhile
      throw error;
    }
    if (whole.digest('hex') === sha256) {
      this.checked.add(sha256);
      return hashes;
    }
    if (!this.checked.has(sha256)) await this.delete(sha256);
    return null;
  }

  /** Where the blob lives; the hash check is what keeps every path inside the store. */
  private pathOf(sha256: string): string {
    checkBlobHash(sha256);
    return join(this.directory, sha256.slice(0, 2), sha256);
  }

  private async publish(tempPath: string, sha256: string, size: number): Promise<void> {
    const shard = join(this.directory, sha256.slice(0, 2));
    const created = await mkdir(shard, { recursive: true });
    if (created !== undefined) await syncDirectory(this.directory);
    try {
      await rename(tempPath, this.pathOf(sha256));
      this.checked.add(sha256); // the writer hashed every byte on the way in
    } catch (error) {
      // Windows refuses to replace a file that is open (being served, say); the copy in place is
      // as good as ours when it is complete, since both have the same hash.
      if ((await this.size(sha256)) !== size) throw error;
      await rm(tempPath, { force: true });
      return;
    }
    await syncDirectory(shard);
  }
}

function isWholeNumber(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
