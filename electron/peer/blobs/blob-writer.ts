// Receives a blob chunk by chunk into a temporary file and publishes it under its hash only once
// every byte has arrived and the SHA-256 of what arrived is the one expected. Until then the
// bytes live in the store's temp folder, which no reader looks in and which the store empties
// when it opens, so a crash halfway through never leaves a partial file that looks like a blob.
//
// A copy that arrived whole but hashes wrong can be repaired in place: the damaged chunks are
// written again over the old ones, and the hash is then worked out again from the file.
import { createHash, type Hash } from 'node:crypto';
import { rm, type FileHandle } from 'node:fs/promises';
import { BlobHashMismatchError, BlobSizeMismatchError } from './errors';
import { diskError, writeAll } from './files';

/** Bytes read at a time when hashing a repaired copy again. */
const READ_BACK_BYTES = 1024 * 1024;

/** Moves a complete, verified, fsynced temp file to its place under `sha256`. */
export type PublishBlob = (tempPath: string, sha256: string, size: number) => Promise<void>;

export class BlobWriter {
  private readonly hash: Hash = createHash('sha256');
  /** Invariant: written <= expectedSize, and equals the bytes in the temp file and in `hash`. */
  private writtenBytes = 0;
  private state: 'open' | 'busy' | 'finished' | 'aborted' = 'open';
  /** The hash of the bytes in the temp file, once worked out; null again after a rewrite. */
  private digestHex: string | null = null;
  /** Whether `hash` still describes the file: false after a rewrite, so the file is hashed again. */
  private streamed = true;

  /** Made by `BlobStore.writer`, which has checked the hash and the size limit. */
  constructor(
    private readonly handle: FileHandle,
    private readonly tempPath: string,
    /** The hash the bytes must have. */
    readonly sha256: string,
    /** The number of bytes the blob must have. */
    readonly expectedSize: number,
    private readonly publish: PublishBlob,
  ) {}

  /** Bytes appended so far. */
  get written(): number {
    return this.writtenBytes;
  }

  /** True until the writer is finished or aborted. */
  get isOpen(): boolean {
    return this.state === 'open' || this.state === 'busy';
  }

  /**
   * Appends the next chunk (one call at a time: await each). More bytes than expected abort the
   * writer and throw BlobSizeMismatchError; so does any write failure, with its own error.
   */
  async append(chunk: Uint8Array): Promise<void> {
    this.enter('append');
    if (this.writtenBytes + chunk.byteLength > this.expectedSize) {
      await this.abort();
      throw new BlobSizeMismatchError(this.sha256, this.expectedSize, this.writtenBytes + chunk.byteLength);
    }
    try {
      await writeAll(this.handle, chunk);
    } catch (error) {
      await this.abort();
      throw diskError(error);
    }
    this.hash.update(chunk);
    this.writtenBytes += chunk.byteLength;
    this.digestHex = null;
    this.state = 'open';
  }

  /**
   * Writes `bytes` over bytes already appended, from `offset`: a chunk fetched again because the
   * first copy of it was damaged. A range past what was appended throws RangeError; a write
   * failure aborts the writer and throws.
   */
  async rewrite(offset: number, bytes: Uint8Array): Promise<void> {
    this.enter('rewrite');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + bytes.byteLength > this.writtenBytes) {
      this.state = 'open';
      throw new RangeError(`cannot rewrite ${bytes.byteLength} bytes at ${offset} of ${this.writtenBytes} written`);
    }
    try {
      await writeAll(this.handle, bytes, offset);
    } catch (error) {
      await this.abort();
      throw diskError(error);
    }
    this.streamed = false;
    this.digestHex = null;
    this.state = 'open';
  }

  /** The SHA-256 of each `chunkBytes`-long chunk written, in order: to compare a damaged copy with a sound one's. */
  async chunkHashes(chunkBytes: number): Promise<string[]> {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`bad chunk size ${chunkBytes}`);
    this.enter('chunkHashes');
    const hashes: string[] = [];
    try {
      await this.readBack(chunkBytes, (chunk) => hashes.push(createHash('sha256').update(chunk).digest('hex')));
      return hashes;
    } catch (error) {
      await this.abort();
      throw error;
    } finally {
      if (this.state === 'busy') this.state = 'open';
    }
  }

  /** True when every expected byte is in and they hash to `sha256`; publishes and deletes nothing. */
  async isIntact(): Promise<boolean> {
    this.enter('isIntact');
    try {
      return this.writtenBytes === this.expectedSize && (await this.digest()) === this.sha256;
    } catch (error) {
      await this.abort();
      throw error;
    } finally {
      if (this.state === 'busy') this.state = 'open';
    }
  }

  /**
   * Checks the size and the hash, makes the file durable and publishes it. On a mismatch the
   * temp file is deleted and BlobSizeMismatchError or BlobHashMismatchError is thrown.
   */
  async finish(): Promise<void> {
    this.enter('finish');
    if (this.writtenBytes !== this.expectedSize) {
      await this.abort();
      throw new BlobSizeMismatchError(this.sha256, this.expectedSize, this.writtenBytes);
    }
    let actual: string;
    try {
      actual = await this.digest();
    } catch (error) {
      await this.abort();
      throw error;
    }
    if (actual !== this.sha256) {
      await this.abort();
      throw new BlobHashMismatchError(this.sha256, actual);
    }
    try {
      // The data must be on disk before the rename makes it visible, or a power cut could leave
      // a blob under the right name with the wrong (empty) content.
      await this.handle.sync();
      await this.handle.close();
      await this.publish(this.tempPath, this.sha256, this.expectedSize);
    } catch (error) {
      await this.abort();
      throw diskError(error);
    }
    this.state = 'finished';
  }

  /** Gives up: closes and deletes the temp file. Safe to call at any time, more than once. */
  async abort(): Promise<void> {
    if (this.state === 'finished' || this.state === 'aborted') return;
    this.state = 'aborted';
    await this.handle.close().catch(() => {}); // already closed after a failed publish
    await rm(this.tempPath, { force: true });
  }

  /** The SHA-256 of the temp file's bytes: from the running hash, or read back after a rewrite. */
  private async digest(): Promise<string> {
    if (this.digestHex !== null) return this.digestHex;
    if (this.streamed) {
      this.digestHex = this.hash.copy().digest('hex'); // a copy: more may still be appended
      return this.digestHex;
    }
    const hash = createHash('sha256');
    await this.readBack(READ_BACK_BYTES, (piece) => hash.update(piece));
    this.digestHex = hash.digest('hex');
    return this.digestHex;
  }

  /** Calls `take` with each `pieceBytes`-long piece of what was written, in order (the last may be shorter). */
  private async readBack(pieceBytes: number, take: (piece: Uint8Array) => void): Promise<void> {
    const buffer = Buffer.alloc(Math.min(pieceBytes, Math.max(1, this.writtenBytes)));
    for (let position = 0; position < this.writtenBytes; ) {
      const want = Math.min(buffer.byteLength, this.writtenBytes - position);
      let filled = 0;
      while (filled < want) {
        const { bytesRead } = await this.handle.read(buffer, filled, want - filled, position + filled);
        if (bytesRead === 0) throw new Error(`the download's temporary file ended at ${position + filled} of ${this.writtenBytes} bytes`);
        filled += bytesRead;
      }
      take(buffer.subarray(0, want));
      position += want;
    }
  }

  private enter(what: string): void {
    if (this.state === 'busy') throw new Error(`BlobWriter.${what} called while another call is in progress`);
    if (this.state !== 'open') throw new Error(`BlobWriter.${what} called on a writer that is ${this.state}`);
    this.state = 'busy';
  }
}
