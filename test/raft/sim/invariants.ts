// Raft's safety properties (Figure 3 of the paper) plus the Ready-loop contract, checked as
// the simulation runs. The cluster reports every persist, apply, read and status it sees;
// `checkAll` re-checks the logs and leaders once the nodes are quiescent.

import type { Entry, HardState, MemoryStorage, NodeId, ReadState, Ready, Snapshot, Status } from '../../../electron/raft/index';
import { decodeImage, entryFingerprint } from './state-machine';

/** A safety property that does not hold. `invariant` names it; the message says where and how. */
export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

/** What the checker needs to see of a node. */
export interface CheckedNode {
  id: NodeId;
  /** The durable storage (what a restart would read). */
  storage: MemoryStorage;
  /** The running node's status, or null if the node is down. */
  status(): Status | null;
}

interface NodeTrack {
  incarnation: number;
  /** The state machine's applied index, as far as the checker has seen. */
  applied: number;
  /** The highest commit index this incarnation has shown. */
  commit: number;
  /** The last hard state written to durable storage (kept across restarts). */
  persisted: HardState;
}

/** What was applied at one index, by whichever node applied it first. */
interface AppliedAt {
  term: number;
  /** Entry fingerprint; null when only a snapshot covered this index so far. */
  fingerprint: string | null;
  /** State-machine digest after applying this index. */
  digest: number;
  /** Lowest term any node was in when it applied this index: the entry was committed in a term ≤ this. */
  appliedInTerm: number;
  by: NodeId;
}

interface LogRecord {
  fingerprint: string;
  /** Term of the entry before it, when known. */
  prevTerm: number | undefined;
  by: NodeId;
}

const storageTerm = (storage: MemoryStorage, index: number): number | undefined => {
  if (index < storage.firstIndex() - 1 || index > storage.lastIndex()) return undefined;
  return storage.term(index);
};

export class SafetyChecker {
  /** Logical time, for messages. */
  now = 0;
  /** Every (term → leader) ever observed. */
  readonly leaders = new Map<number, NodeId>();
  /** Every entry ever persisted anywhere, by `index/term`. */
  private readonly logRecords = new Map<string, LogRecord>();
  /** By index: what the state machines applied there. */
  private readonly appliedAt: (AppliedAt | undefined)[] = [];
  private readonly tracks = new Map<NodeId, NodeTrack>();
  /** Reads in progress: requestId → (node, lowest acceptable index). */
  private readonly reads = new Map<string, { id: NodeId; atLeast: number }>();
  /** The highest commit index any node has ever known: every write up to it has completed. */
  private highestCommit = 0;

  private fail(invariant: string, id: NodeId, detail: string): never {
    throw new InvariantViolation(invariant, `node ${id} at tick ${this.now}: ${detail}`);
  }

  /** Highest index known applied anywhere. */
  maxApplied(): number {
    return this.appliedAt.length - 1;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** A node (re)started from durable storage with its state machine at `applied`. */
  started(id: NodeId, storage: MemoryStorage, applied: number): void {
    const hardState = storage.hardStateNow();
    const track = this.tracks.get(id);
    if (track && applied < track.applied) {
      this.fail('Durable apply', id, `restarted with applied ${applied} below the ${track.applied} it had applied`);
    }
    this.tracks.set(id, {
      incarnation: (track?.incarnation ?? 0) + 1,
      applied,
      commit: hardState.commit,
      persisted: track?.persisted ?? hardState,
    });
    this.highestCommit = Math.max(this.highestCommit, hardState.commit);
  }

  private track(id: NodeId): NodeTrack {
    const track = this.tracks.get(id);
    if (!track) throw new Error(`checker: unknown node ${id}`);
    return track;
  }

  // ---- persisting ----------------------------------------------------------------------------

  /** Before a Ready's snapshot, entries and hard state are written to `storage`. */
  beforePersist(id: NodeId, storage: MemoryStorage, ready: Ready): void {
    const track = this.track(id);
    const entries = ready.entries;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== entries[i - 1]!.index + 1 || entries[i]!.term < entries[i - 1]!.term) {
        this.fail('Log shape', id, `Ready.entries are not consecutive with non-decreasing terms at ${entries[i]!.index}`);
      }
    }
    if (ready.snapshot) {
      if (ready.snapshot.meta.index <= storage.snapshot().meta.index) {
        this.fail('Snapshot order', id, `Ready.snapshot ${ready.snapshot.meta.index} is not newer than the stored one ${storage.snapshot().meta.index}`);
      }
      if (ready.snapshot.meta.index <= track.persisted.commit) {
        this.fail('Snapshot order', id, `Ready.snapshot ${ready.snapshot.meta.index} at or below the persisted commit ${track.persisted.commit}`);
      }
      return; // the snapshot replaces the whole log
    }
    // Appending must never replace an entry this node already knew to be committed.
    for (const entry of entries) {
      if (entry.index > track.persisted.commit) break;
      const stored = storageTerm(storage, entry.index);
      if (stored !== undefined && entry.index >= storage.firstIndex() && stored !== entry.term) {
        this.fail('Committed entries are never replaced', id, `entry ${entry.index} (term ${stored}) overwritten with term ${entry.term} although commit is ${track.persisted.commit}`);
      }
    }
    if (entries.length > 0 && entries[0]!.index > storage.lastIndex() + 1) {
      this.fail('Log shape', id, `Ready.entries start at ${entries[0]!.index}, after a gap (last stored ${storage.lastIndex()})`);
    }
  }

  /** After a Ready was written to `storage`. */
  afterPersist(id: NodeId, storage: MemoryStorage, ready: Ready): void {
    const track = this.track(id);
    const entries = ready.entries;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const prevTerm = i > 0 ? entries[i - 1]!.term : storageTerm(storage, entry.index - 1);
      this.recordLogEntry(id, entry, prevTerm);
    }
    const hs = storage.hardStateNow();
    const before = track.persisted;
    if (hs.term < before.term) this.fail('Durable term', id, `persisted term went back from ${before.term} to ${hs.term}`);
    if (hs.term === before.term && before.vote !== null && hs.vote !== before.vote) {
      this.fail('One vote per term', id, `voted for ${before.vote} and then ${hs.vote} in term ${hs.term}`);
    }
    if (hs.commit < before.commit) this.fail('Durable commit', id, `persisted commit went back from ${before.commit} to ${hs.commit}`);
    if (hs.commit > storage.lastIndex()) this.fail('Durable commit', id, `persisted commit ${hs.commit} beyond the persisted log ${storage.lastIndex()}`);
    for (const entry of entries) {
      if (entry.term > hs.term) this.fail('Log shape', id, `entry ${entry.index} has term ${entry.term} above the node's term ${hs.term}`);
    }
    track.persisted = hs;
    this.highestCommit = Math.max(this.highestCommit, hs.commit);
  }

  /** Log Matching, fed entry by entry: one (index, term) is one entry, preceded by one term. */
  private recordLogEntry(id: NodeId, entry: Entry, prevTerm: number | undefined): void {
    const key = `${entry.index}/${entry.term}`;
    const fingerprint = entryFingerprint(entry);
    const known = this.logRecords.get(key);
    if (!known) {
      this.logRecords.set(key, { fingerprint, prevTerm, by: id });
      return;
    }
    if (known.fingerprint !== fingerprint) {
      this.fail('Log Matching', id, `entry ${key} differs from the one ${known.by} holds`);
    }
    if (prevTerm !== undefined) {
      if (known.prevTerm === undefined) known.prevTerm = prevTerm;
      else if (known.prevTerm !== prevTerm) {
        this.fail('Log Matching', id, `entry ${key} follows term ${prevTerm} here but term ${known.prevTerm} on ${known.by}`);
      }
    }
  }

  // ---- applying ------------------------------------------------------------------------------

  /** A committed entry was applied; `digest` is the state machine's digest after it. */
  appliedEntry(id: NodeId, storage: MemoryStorage, entry: Entry, digest: number, termNow: number): void {
    const track = this.track(id);
    if (entry.index !== track.applied + 1) {
      const what = entry.index <= track.applied ? 'again' : 'after a gap';
      this.fail('Apply order', id, `applied ${entry.index} ${what} (applied was ${track.applied}, incarnation ${track.incarnation})`);
    }
    if (entry.index > track.persisted.commit) {
      this.fail('Apply only committed', id, `applied ${entry.index} beyond its persisted commit ${track.persisted.commit}`);
    }
    const fingerprint = entryFingerprint(entry);
    if (entry.index >= storage.firstIndex()) {
      if (entry.index > storage.lastIndex()) this.fail('Apply only persisted', id, `applied ${entry.index} which is not in its log (last ${storage.lastIndex()})`);
      const stored = storage.entries(entry.index, entry.index + 1)[0]!;
      if (stored.term !== entry.term || entryFingerprint(stored) !== fingerprint) {
        this.fail('Apply what is logged', id, `applied ${entry.index}/${entry.term} but its log holds ${stored.index}/${stored.term}`);
      }
    }
    track.applied = entry.index;
    const known = this.appliedAt[entry.index];
    if (!known) {
      this.appliedAt[entry.index] = { term: entry.term, fingerprint, digest, appliedInTerm: termNow, by: id };
      return;
    }
    if (known.term !== entry.term || (known.fingerprint !== null && known.fingerprint !== fingerprint) || known.digest !== digest) {
      this.fail('State Machine Safety', id, `applied ${entry.index}/${entry.term} but ${known.by} applied ${entry.index}/${known.term} there${known.digest !== digest ? ' (state differs)' : ''}`);
    }
    known.fingerprint ??= fingerprint;
    known.appliedInTerm = Math.min(known.appliedInTerm, termNow);
  }

  /** A snapshot replaced the state machine. */
  appliedSnapshot(id: NodeId, snapshot: Snapshot, termNow: number): void {
    const track = this.track(id);
    const { index, term } = snapshot.meta;
    if (index <= track.applied) this.fail('Apply order', id, `restored snapshot ${index} at or below applied ${track.applied}`);
    const image = decodeImage(snapshot.data);
    if (image.applied !== index || image.appliedTerm !== term) {
      this.fail('Snapshot integrity', id, `snapshot ${index}/${term} holds a state at ${image.applied}/${image.appliedTerm}`);
    }
    track.applied = index;
    const known = this.appliedAt[index];
    if (!known) {
      this.appliedAt[index] = { term, fingerprint: null, digest: image.digest, appliedInTerm: termNow, by: id };
      return;
    }
    if (known.term !== term || known.digest !== image.digest) {
      this.fail('State Machine Safety', id, `snapshot at ${index}/${term} differs from what ${known.by} applied there (${index}/${known.term})`);
    }
    known.appliedInTerm = Math.min(known.appliedInTerm, termNow);
  }

  // ---- observing -----------------------------------------------------------------------------

  /** A running node's status, seen after it handled a Ready. */
  observed(id: NodeId, status: Status): void {
    const track = this.track(id);
    if (status.role === 'leader') {
      const leader = this.leaders.get(status.term);
      if (leader === undefined) this.leaders.set(status.term, id);
      else if (leader !== id) this.fail('Election Safety', id, `leads term ${status.term}, which ${leader} led`);
    }
    if (status.commit < track.commit) this.fail('Commit is monotonic', id, `commit went back from ${track.commit} to ${status.commit}`);
    track.commit = status.commit;
    if (status.applied > status.commit) this.fail('Apply only committed', id, `status.applied ${status.applied} > commit ${status.commit}`);
    this.highestCommit = Math.max(this.highestCommit, status.commit);
  }

  // ---- linearizable reads --------------------------------------------------------------------

  /** `readIndex(requestId)` was called on `id`: its answer must cover every write completed by now. */
  readRequested(id: NodeId, requestId: string): void {
    this.reads.set(requestId, { id, atLeast: this.highestCommit });
  }

  /** A ReadState came out of `id`'s Ready. */
  readAnswered(id: NodeId, readState: ReadState): void {
    const read = this.reads.get(readState.requestId);
    // An answer nobody here asked for (a duplicate, or a hostile peer's) is ignored by the application.
    if (!read || read.id !== id) return;
    if (readState.index < read.atLeast) {
      this.fail('Linearizable reads', id, `read ${readState.requestId} answered at ${readState.index}, below ${read.atLeast} already committed when it was asked`);
    }
  }

  // ---- whole-cluster checks --------------------------------------------------------------------

  /** Re-check every stored log and every leader; call when no node has a Ready pending. */
  checkAll(nodes: Iterable<CheckedNode>): void {
    const list = [...nodes];
    for (const node of list) this.checkStoredLog(node);
    for (const node of list) {
      const status = node.status();
      if (status?.role === 'leader') this.checkLeaderCompleteness(node, status);
    }
  }

  /** Log Matching over the whole stored log (entries recorded so far must agree). */
  private checkStoredLog(node: CheckedNode): void {
    const { storage } = node;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    if (last < first) return;
    let prevTerm: number | undefined = storage.term(first - 1);
    for (const entry of storage.entries(first, last + 1)) {
      this.recordLogEntry(node.id, entry, prevTerm);
      prevTerm = entry.term;
    }
  }

  /** Leader Completeness: a leader of term T holds every entry committed in a term before T. */
  private checkLeaderCompleteness(node: CheckedNode, status: Status): void {
    const { storage } = node;
    const from = Math.max(1, storage.firstIndex() - 1);
    for (let index = from; index < this.appliedAt.length; index++) {
      const applied = this.appliedAt[index];
      if (!applied || applied.appliedInTerm >= status.term) continue;
      const term = storageTerm(storage, index);
      if (term === undefined) {
        this.fail('Leader Completeness', node.id, `leader of term ${status.term} lacks entry ${index}/${applied.term}, applied by ${applied.by} (its log ends at ${storage.lastIndex()})`);
      }
      if (term !== applied.term) {
        this.fail('Leader Completeness', node.id, `leader of term ${status.term} holds ${index}/${term} where ${applied.by} applied ${index}/${applied.term}`);
      }
    }
  }
}
