// Receives a blob chunk by chunk into a temporary file and publishes it under its hash only once
// every byte has arrived and the SHA-256 of what arrived is the one expected. Until then the
// bytes live in the store's temp folder, which no reader looks in and which the store empties
// when it opens, so a crash halfway through never leaves a partial file that looks like a blob.
import { createHash, type Hash } from 'node:crypto';
import { rm, type FileHandle } from 'node:fs/promises';
import { BlobHashMismatchError, BlobSizeMismatchError } from './errors';
import { diskError, writeAll } from './files';

/** Moves a complete, verified, fsynced temp file to its place under `sha256`. */
export type PublishBlob = (tempPath: string, sha256: string, size: number) => Promise<void>;

export class BlobWriter {
  private readonly hash: Hash = createHash('sha256');
  /** Invariant: written <= expectedSize, and equals the bytes in the temp file and in `hash`. */
  private writtenBytes = 0;
  private state: 'open' | 'busy' | 'finished' | 'aborted' = 'open';

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
    this.state = 'open';
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
    const actual = this.hash.digest('hex');
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

  private enter(what: string): void {
    if (this.state === 'busy') throw new Error(`BlobWriter.${what} called while another call is in progress`);
    if (this.state !== 'open') throw new Error(`BlobWriter.${what} called on a writer that is ${this.state}`);
    this.state = 'busy';
  }
}
