// The durable storage of one class on one laptop: the Raft log, hard state and snapshot that the
// core reads through `Storage`, and the state machine's tables, all in one SQLite file so that
// one transaction can change any of them together.
import type Database from 'better-sqlite3';
import {
  bootstrapLog,
  cloneConfState,
  CompactedError,
  entrySize,
  InvalidArgumentError,
  SnapshotOutOfDateError,
  UnavailableError,
  type ConfState,
  type Entry,
  type HardState,
  type NodeId,
  type Ready,
  type Snapshot,
  type SnapshotMeta,
  type Storage,
} from '../../raft';
import { decodeConfState, decodeEntry, encodeConfState, encodeEntry, plainBytes } from './entry-codec';
import { digestState } from './digest';
import { relaxedTransaction } from './durability';
import { openError } from './errors';
import { componentVersion } from './migrate';
import { openClassDatabase } from './open-database';
import { createImage, openImage, restoreImage } from './snapshot-image';
import { prepareStatements, type RaftStatements } from './statements';
import type { StateMachine } from './state-machine';

/** What a Ready asks to make durable. */
export type PersistableReady = Pick<Ready, 'hardState' | 'entries' | 'snapshot'>;

/** One committed entry handed to the state machine, and what it returned. */
export interface AppliedEntry<Result> {
  index: number;
  result: Result;
}

/** When `maybeCompact` takes a snapshot: more than this many applied entries, or bytes, past the last one. */
export interface CompactionPolicy {
  entries: number;
  bytes: number;
}

/**
 * Everything the storage answers from memory. Replaced as a whole, and only after the
 * transaction that wrote the new values committed, so a failed write leaves it true.
 * Invariant: snapshot.index ≤ applied.index ≤ lastIndex, and the log holds (snapshot.index, lastIndex].
 */
interface Cached {
  hardState: HardState;
  snapshot: SnapshotMeta;
  lastIndex: number;
  lastTerm: number;
  applied: { index: number; confState: ConfState };
  /** Sum of `entrySize` over the entries in (snapshot.index, applied.index]: what a snapshot now would compact. */
  appliedBytes: number;
}

export class SqliteStorage<Result = unknown> implements Storage {
  private readonly statements: RaftStatements;
  private readonly schemaVersion: number;
  private cached: Cached;
  /** The last snapshot with its image, read lazily: only a leader sending it needs the bytes. */
  private snapshotWithData: Snapshot | null = null;
  private lastDigest: { index: number; digest: string; at: number } | null = null;

  /**
   * Open the class file at `path`, creating it if missing. Throws `StorageOpenError` (the file
   * left untouched) when it is not SQLite, damaged, another program's, too new, or in use.
   */
  static open<Result>(path: string, stateMachine: StateMachine<Result>): SqliteStorage<Result> {
    const db = openClassDatabase(path, stateMachine);
    try {
      return new SqliteStorage(path, db, stateMachine);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private constructor(
    /** The class file. */
    readonly path: string,
    private readonly db: Database.Database,
    private readonly stateMachine: StateMachine<Result>,
  ) {
    this.statements = prepareStatements(db);
    this.schemaVersion = componentVersion(db, stateMachine.name);
    this.cached = this.load();
  }

  // ---- Storage: what the Raft core reads --------------------------------------------------

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.cached.hardState }, confState: cloneConfState(this.cached.snapshot.confState) };
  }

  firstIndex(): number {
    return this.cached.snapshot.index + 1;
  }

  lastIndex(): number {
    return this.cached.lastIndex;
  }

  term(index: number): number {
    const { snapshot, lastIndex, lastTerm } = this.cached;
    if (index < snapshot.index) throw new CompactedError();
    if (index === snapshot.index) return snapshot.term;
    if (index > lastIndex) throw new UnavailableError();
    if (index === lastIndex) return lastTerm;
    const term = this.statements.termAt.get(index);
    if (term === undefined) throw this.missingEntry(index);
    return term;
  }

  entries(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    if (lo <= this.cached.snapshot.index) throw new CompactedError();
    if (hi > this.cached.lastIndex + 1) throw new UnavailableError();
    const result: Entry[] = [];
    if (lo >= hi) return result;
    // limitSize's rule, applied while reading so a small budget never loads a large range.
    let bytes = 0;
    for (const row of this.statements.entryRange.iterate(lo, hi)) {
      if (row.idx !== lo + result.length) throw this.missingEntry(lo + result.length);
      const entry = decodeEntry(row);
      bytes += entrySize(entry);
      if (result.length > 0 && bytes > maxBytes) return result;
      result.push(entry);
    }
    if (result.length !== hi - lo) throw this.missingEntry(lo + result.length);
    return result;
  }

  snapshot(): Snapshot {
    if (this.snapshotWithData === null) {
      const data = this.statements.readSnapshotData.get() ?? new Uint8Array();
      this.snapshotWithData = { meta: cloneMeta(this.cached.snapshot), data: plainBytes(data) };
    }
    return this.snapshotWithData;
  }

  // ---- writes from the Ready loop ------------------------------------------------------------

  /**
   * Make durable, in one transaction (one fsync), what a Ready asks: a received snapshot (which
   * replaces the log and the state tables and sets the applied index), then the entries
   * (replacing the stored log from `entries[0].index`), then the hard state. A snapshot image
   * that cannot be installed is refused with `InvalidSnapshotError` before anything is written.
   */
  persist(ready: PersistableReady): void {
    const { hardState, entries, snapshot } = ready;
    if (!hardState && entries.length === 0 && !snapshot) return;
    checkContiguous(entries);
    const image = snapshot ? this.openReceivedSnapshot(snapshot) : null;
    const transaction = mustSync(this.cached.hardState, ready)
      ? <T>(fn: () => T) => this.db.transaction(fn)()
      : <T>(fn: () => T) => relaxedTransaction(this.db, fn);
    try {
      this.cached = transaction(() => {
        let next = this.cached;
        if (snapshot && image) next = this.installSnapshot(next, snapshot, image);
        next = this.appendEntries(next, entries);
        if (hardState) {
          this.statements.writeHardState.run(hardState.term, hardState.vote, hardState.commit);
          next = { ...next, hardState: { ...hardState } };
        }
        return next;
      });
    } finally {
      image?.close();
    }
    if (snapshot) this.snapshotWithData = { meta: cloneMeta(snapshot.meta), data: snapshot.data };
  }

  /**
   * Apply committed entries through the state machine in one transaction that also records the
   * applied index and `confState` (the configuration as of the last entry), so after a crash
   * either all of them count as applied or none do. Entries at or below the applied index are
   * skipped: applying the same Ready twice after a restart changes nothing. `alongside` runs in
   * the same transaction with the results: this laptop's own bookkeeping that must change
   * exactly when the entries count as applied (its outbox). The commit skips its own fsync
   * (durability.ts): everything applied can be applied again from the log.
   */
  applyCommitted(
    entries: readonly Entry[],
    confState: ConfState,
    alongside?: (applied: readonly AppliedEntry<Result>[]) => void,
  ): AppliedEntry<Result>[] {
    const applied = this.cached.applied.index;
    const pending = entries.filter((entry) => entry.index > applied);
    if (pending.length === 0) return [];
    checkContiguous(pending, applied + 1);
    const last = pending[pending.length - 1]!;
    if (last.index > this.cached.hardState.commit) {
      // Applying beyond the durable commit would leave applied > commit after a crash.
      throw new InvalidArgumentError(`entry ${last.index} is not committed in storage (commit ${this.cached.hardState.commit})`);
    }
    const results = relaxedTransaction(this.db, () => {
      const out = pending.map((entry) => ({ index: entry.index, result: this.stateMachine.apply(this.db, entry) }));
      this.statements.writeApplied.run(last.index, encodeConfState(confState));
      alongside?.(out);
      return out;
    });
    let bytes = 0;
    for (const entry of pending) bytes += entrySize(entry);
    this.cached = {
      ...this.cached,
      applied: { index: last.index, confState: cloneConfState(confState) },
      appliedBytes: this.cached.appliedBytes + bytes,
    };
    return results;
  }

  /** Write the log of a brand-new cluster with these voters (`bootstrapLog`); only into an empty file. */
  bootstrap(voters: NodeId[]): void {
    if (this.cached.lastIndex !== 0 || this.cached.hardState.term !== 0) {
      throw new InvalidArgumentError(`${this.path} already holds a Raft log; only a new class can be bootstrapped`);
    }
    this.persist(bootstrapLog(voters));
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /**
   * Snapshot the state tables and compact the log through `index`, in one transaction. The
   * tables only ever hold the state as of the applied index, so that is the one index a
   * consistent snapshot can be taken at; any other `index` is refused.
   */
  createSnapshot(index: number = this.cached.applied.index): Snapshot {
    const state = this.cached;
    if (index !== state.applied.index) {
      throw new InvalidArgumentError(
        `a snapshot can only be taken at the applied index ${state.applied.index} (the state tables hold no other), not ${index}`,
      );
    }
    if (index <= state.snapshot.index) throw new SnapshotOutOfDateError();
    const meta: SnapshotMeta = { index, term: this.term(index), confState: cloneConfState(state.applied.confState) };
    const data = this.db.transaction(() => {
      const image = createImage(this.db, this.stateMachine, this.schemaVersion);
      this.statements.writeSnapshotMeta.run(meta.index, meta.term, encodeConfState(meta.confState));
      this.statements.writeSnapshotData.run(image);
      this.statements.deleteThrough.run(index);
      return image;
    })();
    this.cached = { ...state, snapshot: meta, appliedBytes: 0 };
    this.snapshotWithData = { meta: cloneMeta(meta), data };
    return this.snapshotWithData;
  }

  /**
   * Snapshot at the applied index when more than `policy.entries` entries or `policy.bytes`
   * bytes of applied log sit past the last snapshot. Only applied entries count: they are
   * what a snapshot can remove. Returns the new snapshot, or null when none was needed.
   */
  maybeCompact(policy: CompactionPolicy): Snapshot | null {
    const { applied, snapshot, appliedBytes } = this.cached;
    const entries = applied.index - snapshot.index;
    if (entries === 0) return null;
    if (entries > policy.entries || appliedBytes > policy.bytes) return this.createSnapshot();
    return null;
  }

  // ---- state ---------------------------------------------------------------------------------

  /** The last entry whose effects are in the state tables. */
  appliedIndex(): number {
    return this.cached.applied.index;
  }

  /** The configuration as of the applied index. */
  appliedConfState(): ConfState {
    return cloneConfState(this.cached.applied.confState);
  }

  /** SHA-256 (hex) of the applied index and the state tables in canonical order; equal on replicas in sync. */
  digest(): string {
    return this.recentDigest(0).digest;
  }

  /**
   * The digest as of an applied index at most `maxAgeMs` old: the last one taken if it was taken
   * that recently, even though entries were applied since. Hashing every table is the costly part
   * of a status, and grows with the class; a status pushed many times a second while the class
   * is busy takes this one.
   */
  recentDigest(maxAgeMs: number): { index: number; digest: string } {
    const index = this.cached.applied.index;
    const last = this.lastDigest;
    if (last && (last.index === index || performance.now() - last.at < maxAgeMs)) return { index: last.index, digest: last.digest };
    this.lastDigest = { index, digest: digestState(this.db, this.stateMachine.tables, index), at: performance.now() };
    return { index, digest: this.lastDigest.digest };
  }

  /**
   * The connection, for queries on the state tables. The file is locked to this connection, so
   * reads go through it; writes must go through `persist` and `applyCommitted`.
   */
  get database(): Database.Database {
    return this.db;
  }

  /** Close the file; further calls throw. Idempotent. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- internals -----------------------------------------------------------------------------

  private load(): Cached {
    const hard = this.statements.readHardState.get()!;
    const snap = this.statements.readSnapshotMeta.get()!;
    const applied = this.statements.readApplied.get()!;
    const last = this.statements.lastEntry.get() ?? { idx: snap.idx, term: snap.term };
    const first = this.statements.firstEntryIndex.get();
    const damaged = (detail: string) => openError('CORRUPT', this.path, detail);
    if (first !== undefined && first !== snap.idx + 1) throw damaged(`the log starts at ${first}, after a snapshot at ${snap.idx}`);
    if (applied.idx < snap.idx || applied.idx > last.idx) {
      throw damaged(`applied index ${applied.idx} lies outside the log [${snap.idx}, ${last.idx}]`);
    }
    return {
      hardState: { term: hard.term, vote: hard.vote, commit: hard.commit_index },
      snapshot: { index: snap.idx, term: snap.term, confState: decodeConfState(snap.conf_state) },
      lastIndex: last.idx,
      lastTerm: last.term,
      applied: { index: applied.idx, confState: decodeConfState(applied.conf_state) },
      appliedBytes: this.statements.bytesThrough.get(applied.idx) ?? 0,
    };
  }

  /** Check a received snapshot before the write transaction starts; the caller closes the image. */
  private openReceivedSnapshot(snapshot: Snapshot): Database.Database {
    // Older than what we hold, or than what we applied: installing it would roll state back.
    if (snapshot.meta.index <= this.cached.snapshot.index || snapshot.meta.index <= this.cached.applied.index) {
      throw new SnapshotOutOfDateError();
    }
    return openImage(snapshot.data, this.db, this.stateMachine, this.schemaVersion);
  }

  private installSnapshot(state: Cached, snapshot: Snapshot, image: Database.Database): Cached {
    const { index, term, confState } = snapshot.meta;
    this.statements.deleteAll.run();
    this.statements.writeSnapshotMeta.run(index, term, encodeConfState(confState));
    this.statements.writeSnapshotData.run(snapshot.data);
    restoreImage(image, this.db, this.stateMachine);
    this.statements.writeApplied.run(index, encodeConfState(confState));
    return {
      ...state,
      snapshot: cloneMeta(snapshot.meta),
      lastIndex: index,
      lastTerm: term,
      applied: { index, confState: cloneConfState(confState) },
      appliedBytes: 0,
    };
  }

  /** Store `entries`, replacing the log from the first one on (MemoryStorage.append's rules). */
  private appendEntries(state: Cached, entries: readonly Entry[]): Cached {
    if (entries.length === 0) return state;
    const first = entries[0]!.index;
    if (first > state.lastIndex + 1) {
      throw new InvalidArgumentError(`missing log entries: last ${state.lastIndex}, appending at ${first}`);
    }
    // Entries at or below the snapshot are already covered by it.
    const usable = first <= state.snapshot.index ? entries.slice(state.snapshot.index + 1 - first) : entries;
    if (usable.length === 0) return state;
    const from = usable[0]!.index;
    if (from <= state.applied.index) {
      // Raft never rewrites committed entries; doing so here would make applied state disagree with the log.
      throw new InvalidArgumentError(`refusing to overwrite entry ${from}, which is already applied (applied ${state.applied.index})`);
    }
    if (from <= state.lastIndex) this.statements.deleteFrom.run(from);
    for (const entry of usable) this.statements.insertEntry.run(encodeEntry(entry));
    const last = usable[usable.length - 1]!;
    return { ...state, lastIndex: last.index, lastTerm: last.term };
  }

  /** A hole in the log breaks an invariant the writes keep; only damage to the file explains it. */
  private missingEntry(index: number): Error {
    return new Error(`the class data in "${this.path}" is damaged: log entry ${index} is missing`);
  }
}

/** Entries must have consecutive indexes (starting at `start`, when given). */
function checkContiguous(entries: readonly Entry[], start = entries[0]?.index ?? 0): void {
  entries.forEach((entry, i) => {
    if (entry.index !== start + i) throw new InvalidArgumentError(`entries are not consecutive: expected ${start + i}, got ${entry.index}`);
  });
}

/**
 * Whether a Ready must reach the disk before its messages go out (etcd's MustSync): entries, a
 * snapshot, a new term or vote. A commit index alone need not: a restarted laptop learns it
 * again from the leader, and the applied index it can't exceed is kept in the same order.
 */
function mustSync(previous: HardState, ready: PersistableReady): boolean {
  const { hardState, entries, snapshot } = ready;
  if (entries.length > 0 || snapshot) return true;
  return hardState !== undefined && (hardState.term !== previous.term || hardState.vote !== previous.vote);
}

function cloneMeta(meta: SnapshotMeta): SnapshotMeta {
  return { index: meta.index, term: meta.term, confState: cloneConfState(meta.confState) };
}
