import { CompactedError, UnavailableError } from './errors';
import { entrySize, limitSize } from './size';
import type { Storage } from './storage';
import { UnstableLog } from './unstable';
import type { Entry, Snapshot } from './types';

/**
 * The node's view of its log: what storage holds plus what is not yet persisted.
 * Invariant: applied ≤ applying ≤ committed ≤ lastIndex().
 * `applying` is the last entry handed to the application; `applied` the last it confirmed.
 */
export class RaftLog {
  readonly unstable: UnstableLog;
  committed: number;
  applying: number;
  applied: number;

  constructor(readonly storage: Storage) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog(last + 1);
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry `index`; throws CompactedError / UnavailableError outside [firstIndex - 1, lastIndex]. */
  term(index: number): number {
    const fromUnstable = this.unstable.maybeTerm(index);
    if (fromUnstable !== undefined) return fromUnstable;
    if (index < this.firstIndex() - 1) throw new CompactedError();
    if (index > this.lastIndex()) throw new UnavailableError();
    return this.storage.term(index);
  }

  /** Term of entry `index`, or 0 where it is unknown (compacted or beyond the end). */
  termOrZero(index: number): number {
    try {
      return this.term(index);
    } catch (error) {
      if (error instanceof CompactedError || error instanceof UnavailableError) return 0;
      throw error;
    }
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    try {
      return this.term(index) === term;
    } catch (error) {
      if (error instanceof CompactedError || error instanceof UnavailableError) return false;
      throw error;
    }
  }

  /** Raft's voting rule: is a log ending at (lastIndex, term) at least as up to date as ours? */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of an append: if our entry at `index` has `logTerm`, append `entries`
   * (truncating a conflicting suffix) and advance commit. Returns the new last index the
   * message proves, or undefined when (index, logTerm) does not match. Returns null when
   * the message would overwrite committed entries: only a faulty leader sends that.
   */
  maybeAppend(index: number, logTerm: number, committed: number, entries: Entry[]): number | undefined | null {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) return null;
      this.append(entries.slice(conflict - index - 1));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Append at the end (or over an uncommitted suffix); returns the new last index. */
  append(entries: Entry[]): number {
    if (entries.length > 0) this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * Index of the first entry in `entries` that is new or conflicts with ours, or 0 when all
   * of them are already here.
   */
  private findConflict(entries: Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index ≤ `index` whose term is ≤ `term`, with that term: where a leader whose
   * log has `term` at `index` should probe next. Skips a whole term per step.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= 0; i--) {
      let t: number;
      try {
        t = this.term(i);
      } catch {
        // Compacted or unavailable: we cannot see further back, so probe here.
        return { index: i, term: 0 };
      }
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(index: number): void {
    if (index > this.committed) this.committed = Math.min(index, this.lastIndex());
  }

  /** Leader side: commit `index` only if it is from the current term (Raft §5.4.2, Figure 8). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === null && this.committed > this.applying;
  }

  /** Committed entries not yet handed to the application. */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(this.applying + 1, this.committed + 1);
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** The snapshot to send: a pending received one, else storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries in [lo, hi) within `maxBytes` (at least one); throws CompactedError if lo is compacted. */
  slice(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new UnavailableError();
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < offset) {
      result = this.storage.entries(lo, Math.min(hi, offset), maxBytes);
      // Storage stopped early because of the byte limit: do not add unstable entries after a gap.
      if (result.length < Math.min(hi, offset) - lo) return result;
    }
    if (hi > offset) {
      const fromUnstable = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length > 0 ? result.concat(fromUnstable) : fromUnstable;
    }
    return limitSize(result, maxBytes);
  }

  /** Entries from `lo` to the end within `maxBytes`. */
  entriesFrom(lo: number, maxBytes: number): Entry[] {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  /** Replace the log with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
    if (index > this.applying) this.applying = index;
  }

  bytesOf(entries: Entry[]): number {
    let bytes = 0;
    for (const entry of entries) bytes += entrySize(entry);
    return bytes;
  }
}
