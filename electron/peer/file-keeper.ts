// The file keeper: in the background, this laptop pulls every file of its classes that it must
// keep (kept-files.ts: it is a voter, its user teaches, or the file is its user's) and lacks.
// Without it a file would reach only its owner's laptop and the leader, and a teacher would find
// the class's work missing the day the student's laptop stays home.
//
// It looks at a class again after changes are applied there (new work, new materials, a new
// voter or teacher) and when it starts keeping a class, a little later so that a burst of
// changes costs one look; and every class now and then anyway (a snapshot installed, a copy
// deleted as damaged). Pulls run a few at a time, share one byte allowance (Raft's heartbeats
// share the link), are checked against their hash by the fetcher, and wait longer and longer
// when no laptop could give a file, until one that may hold it connects. Nothing here runs
// inside the Ready loop or an API call: both only nudge it.
//
// It never deletes: a laptop that stops being a voter keeps its copies, since no rule yet says
// when a copy that is no longer needed may go (the store is shared by the laptop's classes and
// backups read from it too).
import { BlobFetcher, BlobFetchAbortedError, BlobTooLargeError, BlobUnavailableError, type BlobStore, type SendRequest } from './blobs';
import { ByteRate, pacedRequest } from './blobs/paced-request';
import type { ClassRuntime } from './class-runtime';
import { filesToKeep, type KeptFile } from './kept-files';
import type { Logger } from './transport/types';

export interface FileKeeperLimits {
  /** Files pulled at once, across all classes; 0 keeps nothing (tests of the reading path). */
  files: number;
  /** Chunk reads in flight for one file. */
  readsPerFile: number;
  /** Bytes per second pulled, across all classes. */
  bytesPerSecond: number;
  /** How long after a change a class is looked at: the changes meanwhile cost one look. */
  settleMs: number;
  /** How often every class is looked at anyway. */
  sweepMs: number;
  /** The first wait before asking again for a file no laptop gave; it doubles up to `maxRetryMs`. */
  retryMs: number;
  maxRetryMs: number;
}

export const DEFAULT_KEEPER_LIMITS: FileKeeperLimits = {
  files: 2,
  readsPerFile: 2,
  // 40 students' 1 MB turn-ins at a deadline reach each keeping laptop within about 20 s.
  bytesPerSecond: 2 * 1024 * 1024,
  settleMs: 250,
  sweepMs: 60_000,
  retryMs: 2_000,
  maxRetryMs: 60_000,
};

export interface FileKeeperOptions {
  /** This laptop. */
  laptopId: string;
  /** Where kept files go; shared with the classes' readers and uploads. */
  store: BlobStore;
  /** Requests to the laptops of a class. */
  request: (classId: string) => SendRequest;
  /** The laptops connected now that share the class. */
  connectedPeers: (classId: string) => string[];
  logger: Logger;
  limits?: Partial<FileKeeperLimits>;
}

/** A file to pull for a class. */
interface Wanted extends KeptFile {
  classId: string;
  /** Pulls that failed in a row. */
  failures: number;
  /** Not asked for before this time (ms since 1970); Infinity: never again (the file can't be kept here). */
  notBefore: number;
  pulling: boolean;
}

/** A class being kept. Invariant: at most one of `timer` and `looking` is set. */
interface Watched {
  runtime: ClassRuntime;
  timer: ReturnType<typeof setTimeout> | null;
  looking: boolean;
  /** Changed during the look under way: look again after it. */
  changed: boolean;
}

interface Pull {
  sha256: string;
  controller: AbortController;
  /** Someone is waiting for the file: no longer paced. */
  urgent: boolean;
  /** Resolves when `urgent` is set, ending the wait for the allowance of requests already waiting. */
  hurried: Promise<void>;
  hurry: () => void;
  /** Settles when the pull ends, whatever the outcome. */
  done: Promise<void>;
}

/** How long stopping waits for pulls to notice they were cancelled. */
const STOP_WAIT_MS = 2_000;

export class FileKeeper {
  private readonly limits: FileKeeperLimits;
  private readonly rate: ByteRate;
  private readonly classes = new Map<string, Watched>();
  /** Files to pull, by class and hash. */
  private readonly wanted = new Map<string, Wanted>();
  /** Files known to be on disk here, so a look costs no file-system call for them; forgotten at each sweep. */
  private readonly held = new Set<string>();
  /** Pulls under way, by class and hash. Invariant: their `Wanted` has `pulling` set. */
  private readonly pulls = new Map<string, Pull>();
  private sweepTimer: ReturnType<typeof setInterval> | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly options: FileKeeperOptions) {
    this.limits = { ...DEFAULT_KEEPER_LIMITS, ...options.limits };
    if (!Number.isSafeInteger(this.limits.files) || this.limits.files < 0) throw new RangeError('files must be a whole number');
    // One chunk may go out at once after a quiet spell; the rest at the allowance's pace.
    this.rate = new ByteRate(this.limits.bytesPerSecond, 256 * 1024);
  }

  /** Keeps `runtime`'s files from now on (again, for a class reopened). */
  watch(runtime: ClassRuntime): void {
    if (this.stopped) return;
    const watched = this.classes.get(runtime.classId);
    if (watched) watched.runtime = runtime;
    else this.classes.set(runtime.classId, { runtime, timer: null, looking: false, changed: false });
    this.sweepTimer ??= setInterval(() => this.sweep(), this.limits.sweepMs);
    this.nudge(runtime.classId);
  }

  /** Something changed in the class (entries applied): look at its files again soon. Cheap; never waits. */
  nudge(classId: string): void {
    const watched = this.classes.get(classId);
    if (!watched || this.stopped) return;
    if (watched.looking) watched.changed = true;
    else
      watched.timer ??= setTimeout(() => {
        watched.timer = null;
        void this.look(classId, watched);
      }, this.limits.settleMs);
  }

  /** A laptop connected for these classes: files waiting for a holder it may be are asked for now. */
  reachable(laptopId: string, classIds: readonly string[]): void {
    let retry = false;
    for (const want of this.wanted.values()) {
      if (want.pulling || want.notBefore === Infinity || !classIds.includes(want.classId) || !want.holders.includes(laptopId)) continue;
      want.notBefore = 0;
      retry = true;
    }
    if (retry) this.pump();
  }

  /**
   * Someone opened the file: if it is being pulled here, that pull goes unpaced and this settles
   * when it ends (the file may still be missing then); null when it is not being pulled.
   */
  hurry(sha256: string): Promise<void> | null {
    for (const pull of this.pulls.values()) {
      if (pull.sha256 !== sha256) continue;
      pull.urgent = true;
      pull.hurry();
      return pull.done;
    }
    return null;
  }

  /** Cancels the pulls under way and stops; before the transport and the classes close. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    for (const watched of this.classes.values()) if (watched.timer) clearTimeout(watched.timer);
    const pulls = [...this.pulls.values()];
    for (const pull of pulls) pull.controller.abort();
    // A cancelled pull ends at its next request; one waiting on a laptop that stopped answering
    // ends when the transport closes, right after this.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.allSettled(pulls.map((pull) => pull.done)), new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Finds the class's files this laptop must keep and lacks, and queues them. */
  private async look(classId: string, watched: Watched): Promise<void> {
    if (this.stopped) return;
    watched.looking = true;
    try {
      const files = filesToKeep(watched.runtime, this.options.laptopId);
      const kept = new Set(files.map((file) => file.sha256));
      // No longer this laptop's to keep (it stopped being a voter, the draft's file was replaced).
      for (const [key, want] of this.wanted) if (want.classId === classId && !want.pulling && !kept.has(want.sha256)) this.wanted.delete(key);
      for (const file of files) {
        if (this.held.has(file.sha256)) continue;
        const known = this.wanted.get(keyOf(classId, file.sha256));
        if (known) {
          known.holders = file.holders;
          continue;
        }
        if (await this.options.store.has(file.sha256)) {
          this.held.add(file.sha256);
          continue;
        }
        if (this.stopped) return;
        this.wanted.set(keyOf(classId, file.sha256), { ...file, classId, failures: 0, notBefore: 0, pulling: false });
        this.pump(); // the first pulls start while the rest of the class is looked at
      }
    } catch (error) {
      // A class closing under the look, or a disk that fails to answer: the next change or sweep looks again.
      if (!this.stopped) this.options.logger.warn('could not look for the files this laptop keeps', { classId, error: String(error) });
    } finally {
      watched.looking = false;
      if (watched.changed) {
        watched.changed = false;
        this.nudge(classId);
      }
    }
    this.pump();
  }

  /** Every class looked at again, every file checked on disk again. */
  private sweep(): void {
    this.held.clear();
    for (const classId of this.classes.keys()) this.nudge(classId);
  }

  /** Starts the pulls there is room for, and wakes up for the next retry. */
  private pump(): void {
    if (this.stopped) return;
    const now = Date.now();
    const pulling = new Set([...this.wanted.values()].filter((want) => want.pulling).map((want) => want.sha256));
    for (const want of this.wanted.values()) {
      if (this.pulls.size >= this.limits.files) break;
      // One pull per file, whichever class wants it.
      if (want.pulling || want.notBefore > now || pulling.has(want.sha256)) continue;
      pulling.add(want.sha256);
      this.pull(want);
    }
    this.wakeForRetries(now);
  }

  private wakeForRetries(now: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    let next = Infinity;
    for (const want of this.wanted.values()) if (!want.pulling && want.notBefore > now) next = Math.min(next, want.notBefore);
    if (next === Infinity) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.pump();
    }, next - now);
  }

  private pull(want: Wanted): void {
    const key = keyOf(want.classId, want.sha256);
    want.pulling = true;
    let hurry = () => {};
    const hurried = new Promise<void>((resolve) => (hurry = resolve));
    const pull: Pull = { sha256: want.sha256, controller: new AbortController(), urgent: false, hurried, hurry, done: Promise.resolve() };
    this.pulls.set(key, pull);
    pull.done = this.fetch(want, pull).finally(() => {
      want.pulling = false;
      this.pulls.delete(key);
      this.pump();
    });
  }

  /**
   * Requests for `pull`: paced unless someone waits for the file; and the pull is cancelled once
   * the file is stored here by other means (its owner's upload, a read that pulled it first).
   */
  private requester(classId: string, pull: Pull): SendRequest {
    const direct = this.options.request(classId);
    const paced = pacedRequest(direct, this.rate, { signal: pull.controller.signal, hurried: pull.hurried });
    return async (laptopId, payload, timeoutMs) => {
      if (await this.options.store.has(pull.sha256)) {
        pull.controller.abort();
        throw new Error('the file was stored here meanwhile');
      }
      return pull.urgent ? direct(laptopId, payload, timeoutMs) : paced(laptopId, payload, timeoutMs);
    };
  }

  /** One pull of `want` from the laptops likely to hold it that are connected now. Never rejects. */
  private async fetch(want: Wanted, pull: Pull): Promise<void> {
    const { classId, sha256 } = want;
    const connected = new Set(this.options.connectedPeers(classId));
    const candidates = want.holders.filter((laptopId) => connected.has(laptopId));
    const started = Date.now();
    try {
      if (candidates.length === 0) {
        this.retryLater(want, null);
        return;
      }
      const fetcher = new BlobFetcher({
        store: this.options.store,
        request: this.requester(classId, pull),
        maxInFlight: this.limits.readsPerFile,
        // A laptop that was slow is tried again at the next retry, not at once.
        attemptsPerLaptop: 1,
      });
      const result = await fetcher.fetch(want, candidates, { signal: pull.controller.signal });
      this.held.add(sha256);
      for (const [key, other] of this.wanted) if (other.sha256 === sha256 && !other.pulling) this.wanted.delete(key);
      this.wanted.delete(keyOf(classId, sha256));
      if (result.damagedBy.length > 0) {
        this.options.logger.warn('a file arrived damaged from another laptop and was fetched again', {
          sha256,
          damagedBy: result.damagedBy,
          source: result.source,
          repairedChunks: result.repairedChunks,
        });
      }
      this.options.logger.debug('kept a copy of a file of the class', { classId, sha256, source: result.source, ms: Date.now() - started });
    } catch (error) {
      // Cancelled: stopping, or the file arrived meanwhile (the next pump finds it stored).
      if (this.stopped || error instanceof BlobFetchAbortedError) return;
      if (error instanceof BlobTooLargeError) {
        want.notBefore = Infinity;
        this.options.logger.warn('a file of the class is too large to keep on this laptop', { classId, sha256, size: want.size });
        return;
      }
      this.retryLater(want, error);
    }
  }

  private retryLater(want: Wanted, error: unknown): void {
    want.failures++;
    const wait = Math.min(this.limits.maxRetryMs, this.limits.retryMs * 2 ** Math.min(want.failures - 1, 20));
    want.notBefore = Date.now() + wait;
    const fields = { classId: want.classId, sha256: want.sha256, failures: want.failures, retryInMs: wait };
    // Nobody having it yet is ordinary (its holders are away); anything else (a full disk) is not.
    if (error === null || error instanceof BlobUnavailableError) {
      if (want.failures === 1) this.options.logger.info('no laptop could give a file this laptop keeps yet; will ask again', { ...fields, error: error === null ? 'no holder connected' : String(error) });
    } else {
      this.options.logger.warn('could not keep a copy of a file of the class; will try again', { ...fields, error: String(error) });
    }
  }
}

function keyOf(classId: string, sha256: string): string {
  return `${classId}/${sha256}`;
}
