// Pulls a blob by hash from the laptops that may have it, chunk by chunk into the store. One
// laptop serves a whole attempt: the hash only checks the file as a whole, so a copy stitched
// from two laptops could not tell which of them lied. An attempt that fails moves on to the next
// laptop: one that lied (a damaged copy, a chunk of the wrong length, a reply that does not
// decode) is not asked again; one that was only unreachable or slow may be, in a later round.
//
// A copy that arrived whole but does not match the hash is kept aside and repaired rather than
// fetched again: the next laptop is asked for the hashes of its chunks (it checks its own copy
// first), the chunks whose hashes differ are fetched again from it, and the file's hash decides
// as before. A laptop whose chunk hashes do not lead to the right file is dropped like any liar,
// and the damaged copy with it; the file is then pulled whole from the laptops left.
import { RequestFailedError } from '../transport/errors';
import { checkBlobHash, sha256Hex } from './blob-hash';
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
import {
  decodeBlobReply,
  encodeBlobRequest,
  MAX_CHUNK_BYTES,
  MAX_CHUNK_HASHES,
  MIN_HASHED_CHUNK_BYTES,
  type BlobReply,
  type BlobRequest,
} from './protocol';

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

/**
 * How far a download has come; `bytesDone` starts again from 0 when another laptop takes over a
 * download, and from the bytes already sound when another laptop repairs a damaged copy.
 */
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
  /** The laptop that provided the blob, or repaired it; null when it was already stored here. */
  source: string | null;
  /** Laptops that sent a damaged copy during this fetch (none asked again). */
  damagedBy: string[];
  /** Chunks `source` sent to repair a damaged copy; 0 when it sent the whole blob. */
  repairedChunks: number;
}

/** A copy that arrived whole but does not match its hash, kept so that only its damaged chunks are fetched again. */
interface DamagedCopy {
  writer: BlobWriter;
  /** The SHA-256 of each chunk as it arrived. */
  chunkHashes: string[];
}

/** An attempt that failed because of the laptop serving it; any other error ends the fetch. */
class SourceFailure extends Error {
  constructor(
    readonly outcome: SourceOutcome,
    readonly detail: string,
    /** The damaged copy it sent, whole, to repair with another laptop's help. */
    readonly damagedCopy: DamagedCopy | null = null,
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
    const stored = await this.store.checkedSize(sha256); // a damaged copy here is dropped and pulled again
    if (stored !== null) return { sha256, size: stored, source: null, damagedBy: [], repairedChunks: 0 };
    if (size === 0) {
      await this.store.put(new Uint8Array(0), sha256); // nothing to pull; put refuses a hash that is not the empty file's
      return { sha256, size, source: null, damagedBy: [], repairedChunks: 0 };
    }
    const attempts: SourceAttempt[] = [];
    const dropped = new Set<string>();
    const damagedBy = () => attempts.filter((attempt) => attempt.outcome === 'damaged').map((attempt) => attempt.laptopId);
    const laptops = [...new Set(candidates)];
    let damaged: DamagedCopy | null = null;
    try {
      for (let round = 0; round < this.attemptsPerLaptop; round++) {
        for (const laptopId of laptops) {
          if (dropped.has(laptopId)) continue;
          this.checkAborted(wanted, options.signal);
          try {
            const repairedChunks = damaged ? await this.repairWith(laptopId, wanted, damaged, options) : 0;
            if (!damaged) await this.pullFrom(laptopId, wanted, options);
            return { sha256, size, source: laptopId, damagedBy: damagedBy(), repairedChunks };
          } catch (error) {
            if (!(error instanceof SourceFailure)) throw error;
            attempts.push({ laptopId, outcome: error.outcome, detail: error.detail });
            if (error.outcome !== 'unreachable') dropped.add(laptopId);
            if (damaged && !damaged.writer.isOpen) damaged = null; // a repair that went wrong threw it away
            if (error.damagedCopy) damaged = error.damagedCopy;
          }
        }
      }
    } finally {
      await damaged?.writer.abort(); // nothing once it was published
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
    // A damaged copy is kept only when another laptop could give chunk hashes to compare it with.
    const repairable = this.chunkBytes >= MIN_HASHED_CHUNK_BYTES && Math.ceil(size / this.chunkBytes) <= MAX_CHUNK_HASHES;
    try {
      options.onProgress?.({ sha256, bytesDone: 0, totalBytes: size, source: laptopId });
      await this.pullChunks(laptopId, wanted, writer, options);
      if (repairable && !(await writer.isIntact())) {
        // Hashed again only now: a sound copy, the usual case, costs no second hash.
        const chunkHashes = await writer.chunkHashes(this.chunkBytes);
        throw new SourceFailure('damaged', 'sent bytes that do not match the hash', { writer, chunkHashes });
      }
      await writer.finish();
    } catch (error) {
      if (error instanceof SourceFailure && error.damagedCopy) throw error;
      await writer.abort();
      if (error instanceof BlobHashMismatchError) throw new SourceFailure('damaged', 'sent bytes that do not match the hash');
      throw error;
    }
  }

  /**
   * Repairs `copy` with `laptopId`'s help: the chunks whose hashes differ from its own, fetched
   * again from it, each checked against the hash it gave. Resolves with the number of chunks
   * fetched once the repaired copy matches the file's hash and is stored; a SourceFailure
   * otherwise (the copy stays for the next laptop, unless the repair has already overwritten it
   * and it had to be thrown away).
   */
  private async repairWith(laptopId: string, wanted: WantedBlob, copy: DamagedCopy, options: FetchOptions): Promise<number> {
    const { sha256, size } = wanted;
    const answer = await this.ask(laptopId, { kind: 'hashes', sha256, chunkBytes: this.chunkBytes }, options.signal, wanted);
    if (answer.kind === 'missing') throw new SourceFailure('missing', 'does not have a sound copy to compare with');
    if (answer.kind !== 'hashes') throw new SourceFailure('misbehaved', `answered a request for chunk hashes with ${answer.kind}`);
    if (answer.hashes.length !== copy.chunkHashes.length) {
      throw new SourceFailure('misbehaved', `gave ${answer.hashes.length} chunk hashes for a file of ${copy.chunkHashes.length} chunks`);
    }
    const damaged = answer.hashes.flatMap((hash, index) => (hash === copy.chunkHashes[index] ? [] : [index]));
    // Equal chunks make an equal file: a laptop vouching for every chunk of a damaged copy lied.
    if (damaged.length === 0) throw new SourceFailure('misbehaved', 'vouched for every chunk of a damaged copy');
    const chunkSize = (index: number) => Math.min(this.chunkBytes, size - index * this.chunkBytes);
    let bytesDone = size - damaged.reduce((sum, index) => sum + chunkSize(index), 0);
    options.onProgress?.({ sha256, bytesDone, totalBytes: size, source: laptopId });
    for (const index of damaged) {
      const bytes = await this.readChunk(laptopId, wanted, index, options.signal);
      if (sha256Hex(bytes) !== answer.hashes[index]) throw new SourceFailure('damaged', `sent chunk ${index} not matching its own hash`);
      await copy.writer.rewrite(index * this.chunkBytes, bytes);
      copy.chunkHashes[index] = answer.hashes[index]!;
      bytesDone += bytes.byteLength;
      options.onProgress?.({ sha256, bytesDone, totalBytes: size, source: laptopId });
    }
    try {
      await copy.writer.finish();
    } catch (error) {
      if (error instanceof BlobHashMismatchError) throw new SourceFailure('misbehaved', 'gave chunk hashes that do not make up the file');
      throw error;
    }
    return damaged.length;
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
