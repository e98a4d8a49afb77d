import { CompactedError, SnapshotOutOfDateError, UnavailableError, InvalidArgumentError } from './errors';
import { limitSize } from './size';
import type { ConfState, Entry, HardState, NodeId, Snapshot } from './types';

/**
 * What the core reads from durable storage. The application writes it (from `Ready`);
 * the core only reads. Implementations: `MemoryStorage` here, SQLite in the peer.
 */
export interface Storage {
  /** The persisted hard state and the configuration as of the snapshot (index `firstIndex() - 1`). */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at least one if any, stopping before `maxBytes` would be exceeded.
   * Throws `CompactedError` if lo < firstIndex(), `UnavailableError` if hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  /**
   * Term of the entry at `index`, for firstIndex() - 1 (the snapshot's) ≤ index ≤ lastIndex().
   * Throws `CompactedError` below, `UnavailableError` above.
   */
  term(index: number): number;
  /** Index of the first entry still in the log (the snapshot's index + 1). */
  firstIndex(): number;
  /** Index of the last entry in the log (the snapshot's index when the log is empty). */
  lastIndex(): number;
  /** The most recent snapshot; may throw `SnapshotTemporarilyUnavailableError`. */
  snapshot(): Snapshot;
}

/** An empty configuration: a node that is not (yet) a member of anything. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/**
 * The log a brand-new cluster starts from: one committed entry per initial voter at term 1,
 * as etcd's Bootstrap does, so laptops that join later learn the first members from the log.
 */
export function bootstrapLog(voters: NodeId[]): { entries: Entry[]; hardState: HardState } {
  if (voters.length === 0) throw new InvalidArgumentError('a cluster needs at least one voter');
  const entries: Entry[] = voters.map((nodeId, i) => ({
    index: i + 1,
    term: 1,
    type: 'confChange',
    change: { changes: [{ type: 'addVoter', nodeId }] },
  }));
  return { entries, hardState: { term: 1, vote: null, commit: entries.length } };
}

/** A copy of a configuration that shares no arrays with it. */
export function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
}

/**
 * Storage in memory, for tests and simulations. `clone()` takes a copy of exactly what has
 * been persisted, which is what a crashed node restarts from.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: null, commit: 0 };
  private snap: Snapshot = { meta: { index: 0, term: 0, confState: emptyConfState() }, data: new Uint8Array() };
  /** ents[i] has index snap.meta.index + 1 + i. */
  private ents: Entry[] = [];

  /** A fresh storage holding the bootstrap log of a new cluster with these voters. */
  static bootstrap(voters: NodeId[]): MemoryStorage {
    const storage = new MemoryStorage();
    const { entries, hardState } = bootstrapLog(voters);
    storage.append(entries);
    storage.setHardState(hardState);
    return storage;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.meta.confState) };
  }

  firstIndex(): number {
    return this.snap.meta.index + 1;
  }

  lastIndex(): number {
    return this.snap.meta.index + this.ents.length;
  }

  term(index: number): number {
    const offset = this.snap.meta.index;
    if (index < offset) throw new CompactedError();
    if (index === offset) return this.snap.meta.term;
    if (index > this.lastIndex()) throw new UnavailableError();
    return this.ents[index - offset - 1]!.term;
  }

  entries(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    const offset = this.snap.meta.index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new UnavailableError();
    return limitSize(this.ents.slice(lo - offset - 1, hi - offset - 1), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  hardStateNow(): HardState {
    return { ...this.hardState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  /** Persist entries, replacing any stored entries from `entries[0].index` on. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const offset = this.snap.meta.index;
    if (first > this.lastIndex() + 1) {
      throw new InvalidArgumentError(`missing log entries: last ${this.lastIndex()}, appending at ${first}`);
    }
    // Entries at or below the snapshot are already covered by it.
    const usable = first <= offset ? entries.slice(offset + 1 - first) : entries;
    if (usable.length === 0) return;
    const keep = usable[0]!.index - offset - 1;
    this.ents = this.ents.slice(0, keep).concat(usable);
  }

  /** Replace everything with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.meta.index <= this.snap.meta.index) throw new SnapshotOutOfDateError();
    this.snap = snapshot;
    this.ents = [];
  }

  /**
   * Record a snapshot of the application's state at `index` (≤ applied) and drop the log
   * up to it. `confState` is the configuration as of `index` (`RaftNode.confStateAt`).
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) throw new SnapshotOutOfDateError();
    if (index > this.lastIndex()) throw new UnavailableError();
    const snapshot: Snapshot = { meta: { index, term: this.term(index), confState: cloneConfState(confState) }, data };
    this.ents = this.ents.slice(index - this.snap.meta.index);
    this.snap = snapshot;
    return snapshot;
  }

  /** A deep enough copy of what is persisted (entries are immutable once written). */
  clone(): MemoryStorage {
    const copy = new MemoryStorage();
    copy.hardState = { ...this.hardState };
    copy.snap = this.snap;
    copy.ents = this.ents.slice();
    return copy;
  }
}
