// Pulls a blob by hash from the laptops that may have it, chunk by chunk into the store. One
// laptop serves a whole attempt: the hash only checks the file as a whole, so a copy stitched
// from two laptops could not tell which of them lied. An attempt that fails moves on to the next
// laptop: one that lied (a damaged copy, a chunk of the wrong length, a reply that does not
// decode) is not asked again; one that was only unreachable or slow may be, in a later round.
import { RequestFailedError } from '../transport/errors';
import { checkBlobHash } from './blob-hash';
import type { BlobStore } from './blob-store';
import type { BlobWriter } from './blob-writer';
import {
  BlobFetchAbortedError,
  BlobHashMismatchError,
  BlobTooLargeError,
  BlobUnavailableError,
  type SourceAttempt,
  type SourceOutcome,
} from './errors';
import { decodeBlobReply, encodeBlobRequest, MAX_CHUNK_BYTES, type BlobReply, type BlobRequest } from './protocol';

/** Sends a request payload to a laptop and resolves with its answer: `Transport.request` bound to a class. */
export type SendRequest = (laptopId: string, payload: Uint8Array, timeoutMs: number) => Promise<Uint8Array>;

export interface BlobFetcherOptions {
  /** Where fetched blobs are written. */
  store: BlobStore;
  /** How requests reach other laptops. */
  request: SendRequest;
  /** Bytes asked per read; default and maximum MAX_CHUNK_BYTES (256 KiB). */
  chunkBytes?: number;
  /** Reads in flight to the laptop serving an attempt; default 4. */
  maxInFlight?: number;
  /** How long one request may take; default 10 s. */
  timeoutMs?: number;
  /** Times a laptop that was unreachable or slow is tried in one fetch; default 2. */
  attemptsPerLaptop?: number;
  /** Times a failed read is sent again to the same laptop before the attempt is given up; default 2. */
  readRetries?: number;
}

/** The blob wanted, as a file reference in the log describes it. */
export interface WantedBlob {
  sha256: string;
  /** The size the reference declares; a copy of any other size is refused. */
  size: number;
  /** The file's name, for messages only. */
  name?: string;
}

/** How far a download has come; `bytesDone` starts again from 0 when another laptop takes over. */
export interface BlobProgress {
  sha256: string;
  bytesDone: number;
  totalBytes: number;
  /** The laptop serving the current attempt. */
  source: string;
}

export interface FetchOptions {
  /** Called after every chunk written, and when an attempt starts. */
  onProgress?: (progress: BlobProgress) => void;
  /** Cancels the download (noticed before each request is sent); the fetch rejects with BlobFetchAbortedError. */
  signal?: AbortSignal;
}

export interface FetchResult {
  sha256: string;
  size: number;
  /** The laptop that provided the blob, or null when it was already stored here. */
  source: string | null;
}

/** An attempt that failed because of the laptop serving it; any other error ends the fetch. */
class SourceFailure extends Error {
  constructor(
    readonly outcome: SourceOutcome,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Request failures that will not go away by asking the same laptop again at once. */
const GONE = new Set(['NOT_CONNECTED', 'DISCONNECTED', 'CLASS_NOT_SHARED']);
const RETRY_DELAY_MS = 50;

export class BlobFetcher {
  private readonly store: BlobStore;
  private readonly request: SendRequest;
  private readonly chunkBytes: number;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly attemptsPerLaptop: number;
  private readonly readRetries: number;

  constructor(options: BlobFetcherOptions) {
    this.store = options.store;
    this.request = options.request;
    this.chunkBytes = options.chunkBytes ?? MAX_CHUNK_BYTES;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attemptsPerLaptop = options.attemptsPerLaptop ?? 2;
    this.readRetries = options.readRetries ?? 2;
    if (!isCount(this.chunkBytes) || this.chunkBytes > MAX_CHUNK_BYTES) throw new RangeError(`chunkBytes must be within 1..${MAX_CHUNK_BYTES}`);
    if (!isCount(this.maxInFlight)) throw new RangeError('maxInFlight must be at least 1');
    if (!isCount(this.attemptsPerLaptop)) throw new RangeError('attemptsPerLaptop must be at least 1');
    if (!Number.isSafeInteger(this.readRetries) || this.readRetries < 0) throw new RangeError('readRetries must be a whole number');
  }

  /**
   * Makes sure the blob is stored here, pulling it from `candidates` (laptop ids, most likely
   * holders first, not this laptop) if needed. Throws BlobTooLargeError before asking anyone
   * when the size is over the store's limit, BlobUnavailableError when no candidate provided it.
   */
  async fetch(wanted: WantedBlob, candidates: readonly string[], options: FetchOptions = {}): Promise<FetchResult> {
    const sha256 = checkBlobHash(wanted.sha256);
    const { size } = wanted;
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad blob size ${size}`);
    // The writer checks the limit too, but a file too large must fail before anyone is asked.
    if (size > this.store.maxBlobBytes) throw new BlobTooLargeError(size, this.store.maxBlobBytes, wanted.name);
    const stored = await this.store.size(sha256);
    if (stored !== null) return { sha256, size: stored, source: null };
    if (size === 0) {
      await this.store.put(new Uint8Array(0), sha256); // nothing to pull; put refuses a hash that is not the empty file's
      return { sha256, size, source: null };
    }
    const attempts: SourceAttempt[] = [];
    const dropped = new Set<string>();
    const laptops = [...new Set(candidates)];
    for (let round = 0; round < this.attemptsPerLaptop; round++) {
      for (const laptopId of laptops) {
        if (dropped.has(laptopId)) continue;
        this.checkAborted(wanted, options.signal);
        try {
          await this.pullFrom(laptopId, wanted, options);
          return { sha256, size, source: laptopId };
        } catch (error) {
          if (!(error instanceof SourceFailure)) throw error;
          attempts.push({ laptopId, outcome: error.outcome, detail: error.detail });
          if (error.outcome !== 'unreachable') dropped.add(laptopId);
        }
      }
    }
    throw new BlobUnavailableError(sha256, attempts, wanted.name);
  }

  /** One attempt: the whole blob from one laptop, or a SourceFailure saying what it did wrong. */
  private async pullFrom(laptopId: string, wanted: WantedBlob, options: FetchOptions): Promise<void> {
    const { sha256, size } = wanted;
    const answer = await this.ask(laptopId, { kind: 'query', sha256 }, options.signal, wanted);
    if (answer.kind === 'missing') throw new SourceFailure('missing', 'does not have it');
    if (answer.kind !== 'have') throw new SourceFailure('misbehaved', `answered a query with ${answer.kind}`);
    if (answer.size !== size) throw new SourceFailure('misbehaved', `claims ${answer.size} bytes, the reference says ${size}`);
    const writer = await this.store.writer(sha256, size);
    try {
      options.onProgress?.({ sha256, bytesDone: 0, totalBytes: size, source: laptopId });
      await this.pullChunks(laptopId, wanted, writer, options);
      await writer.finish();
    } catch (error) {
      await writer.abort();
      if (error instanceof BlobHashMismatchError) throw new SourceFailure('damaged', 'sent bytes that do not match the hash');
      throw error;
    }
  }

  /**
   * Reads every chunk in order into `writer`, keeping up to `maxInFlight` reads ahead of the
   * one to write next; so at most that many chunks wait in memory. Invariant: `inFlight` holds
   * exactly the reads of chunks `written` up to `next` − 1.
   */
  private async pullChunks(laptopId: string, wanted: WantedBlob, writer: BlobWriter, options: FetchOptions): Promise<void> {
    const chunkCount = Math.ceil(wanted.size / this.chunkBytes);
    const inFlight = new Map<number, Promise<Uint8Array>>();
    let next = 0;
    for (let written = 0; written < chunkCount; written++) {
      while (next < chunkCount && next < written + this.maxInFlight) {
        const read = this.readChunk(laptopId, wanted, next, options.signal);
        read.catch(() => {}); // read ahead: if the attempt ends first, its failure is nobody's business
        inFlight.set(next++, read);
      }
      const bytes = await inFlight.get(written)!;
      inFlight.delete(written);
      await writer.append(bytes);
      options.onProgress?.({ sha256: wanted.sha256, bytesDone: writer.written, totalBytes: wanted.size, source: laptopId });
    }
  }

  /** Chunk `index`, exactly as long as asked, or a SourceFailure. */
  private async readChunk(laptopId: string, wanted: WantedBlob, index: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const offset = index * this.chunkBytes;
    const length = Math.min(this.chunkBytes, wanted.size - offset);
    const answer = await this.ask(laptopId, { kind: 'read', sha256: wanted.sha256, offset, length }, signal, wanted);
    if (answer.kind === 'missing') throw new SourceFailure('missing', 'no longer has it');
    if (answer.kind !== 'chunk') throw new SourceFailure('misbehaved', `answered a read with ${answer.kind}`);
    if (answer.bytes.byteLength !== length) {
      throw new SourceFailure('misbehaved', `sent ${answer.bytes.byteLength} bytes at offset ${offset}, asked for ${length}`);
    }
    return answer.bytes;
  }

  /** Sends `request`, retrying failures worth retrying; the decoded reply, or a SourceFailure. */
  private async ask(laptopId: string, request: BlobRequest, signal: AbortSignal | undefined, wanted: WantedBlob): Promise<BlobReply> {
    const payload = encodeBlobRequest(request);
    for (let attempt = 0; ; attempt++) {
      this.checkAborted(wanted, signal);
      let bytes: Uint8Array;
      try {
        bytes = await this.request(laptopId, payload, this.timeoutMs);
      } catch (error) {
        const gone = error instanceof RequestFailedError && GONE.has(error.code);
        if (gone || attempt >= this.readRetries) throw new SourceFailure('unreachable', describe(error));
        await delay(RETRY_DELAY_MS * (attempt + 1));
        continue;
      }
      const reply = decodeBlobReply(bytes);
      if (!reply) throw new SourceFailure('misbehaved', `sent a reply that does not decode (${bytes.byteLength} bytes)`);
      return reply;
    }
  }

  private checkAborted(wanted: WantedBlob, signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new BlobFetchAbortedError(wanted.sha256, wanted.name);
  }
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
