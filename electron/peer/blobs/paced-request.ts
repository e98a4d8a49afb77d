// Background pulls share the laptop's link with the class's Raft traffic: a heartbeat queued
// behind megabytes of chunks is a missed heartbeat, and an election nobody wanted. So copies
// made in the background ask for bytes no faster than an allowance refills; what a person is
// waiting for (a file they opened, the leader holding a file before it is proposed) is not paced.
import { decodeBlobRequest } from './protocol';
import type { SendRequest } from './blob-fetcher';

/** What a request that is not a read (a query, a request for chunk hashes) is counted as. */
const SMALL_REQUEST_BYTES = 1024;

/**
 * An allowance of bytes per second shared by every background pull of this laptop: a token
 * bucket that holds at most `burstBytes` and may go into debt by the requests already let through.
 * Invariant: `balance` is at most `burstBytes`.
 */
export class ByteRate {
  private balance: number;
  private refilledAt: number;

  constructor(
    /** Bytes the allowance grows by each second. */
    readonly bytesPerSecond: number,
    /** The most bytes let through at once after a quiet spell. */
    readonly burstBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) throw new RangeError('bytesPerSecond must be a positive number');
    if (!(burstBytes >= 0) || !Number.isFinite(burstBytes)) throw new RangeError('burstBytes must be zero or more');
    this.balance = burstBytes;
    this.refilledAt = now();
  }

  /**
   * Waits until the allowance is out of debt, then spends `bytes` of it. Rejects with the
   * signal's reason when `signal` aborts meanwhile.
   */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      this.refill();
      if (this.balance >= 0) {
        this.balance -= bytes;
        return;
      }
      await pause(Math.max(5, Math.ceil((-this.balance / this.bytesPerSecond) * 1000)), signal);
    }
  }

  private refill(): void {
    const now = this.now();
    this.balance = Math.min(this.burstBytes, this.balance + ((now - this.refilledAt) / 1000) * this.bytesPerSecond);
    this.refilledAt = now;
  }
}

export interface PacingOptions {
  /** Cancels the waits (they reject with its reason). */
  signal?: AbortSignal;
  /** Once settled, requests stop waiting for the allowance: someone is waiting for the file. */
  hurried?: Promise<void>;
}

/**
 * `request`, with every blob request first spending what its answer will weigh (a read its
 * length) from `rate`. Other requests pass unpaced.
 */
export function pacedRequest(request: SendRequest, rate: ByteRate, options: PacingOptions = {}): SendRequest {
  return async (laptopId, payload, timeoutMs) => {
    const blob = decodeBlobRequest(payload);
    if (blob) {
      const taken = rate.take(blob.kind === 'read' ? blob.length : SMALL_REQUEST_BYTES, options.signal);
      taken.catch(() => {}); // a cancelled wait that lost the race is nobody's business
      await (options.hurried ? Promise.race([taken, options.hurried]) : taken);
    }
    return request(laptopId, payload, timeoutMs);
  };
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
    };
    const aborted = () => {
      done();
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
