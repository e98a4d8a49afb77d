import { InvalidArgumentError } from './errors';
import { Raft, type RaftOptions } from './raft';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, ProgressStatus, Ready, SoftState, Status } from './types';

export type RaftNodeOptions = RaftOptions;

/** What a Ready handed out, remembered so `advance()` knows what became durable and applied. */
interface HandedOut {
  lastEntry: { index: number; term: number } | null;
  snapshotIndex: number | null;
  appliedTo: number;
  hardState: HardState | null;
  softState: SoftState | null;
}

const sameHardState = (a: HardState, b: HardState) => a.term === b.term && a.vote === b.vote && a.commit === b.commit;

/**
 * A Raft node driven from outside: the application ticks it, steps in messages and
 * proposals, and runs the Ready loop. No I/O, timers, clocks or global randomness happen
 * inside, so the same inputs and seed always produce the same outputs.
 *
 * The Ready contract: everything in `ready()` is handled, in order — persist `hardState`,
 * `entries` and `snapshot` durably (one write); only then send `messages`; then apply
 * `snapshot` and `committedEntries`; then call `advance()`. Persisting before sending is
 * what makes a vote or an acknowledgement survive a crash of the node that gave it.
 */
export class RaftNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private handedOut: HandedOut | null = null;

  constructor(options: RaftNodeOptions) {
    this.raft = new Raft(options);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advance logical time by one tick (elections, heartbeats, CheckQuorum, stalled transfers). */
  tick(): void {
    this.raft.tick();
  }

  /** Deliver a message from a peer. Malformed, misaddressed or stale messages are ignored. */
  step(message: Message): void {
    this.raft.step(message);
  }

  /**
   * Append a command to the log. Only the leader accepts it: elsewhere this throws
   * `NotLeaderError` naming the known leader, and during a transfer `ProposalDroppedError`.
   * Returns the entry's position; it is committed when it appears in `committedEntries`.
   */
  propose(data: Uint8Array): { index: number; term: number } {
    return this.raft.propose(data);
  }

  /** Propose a membership change; one at a time (`ProposalDroppedError` while one is pending). */
  proposeConfChange(change: ConfChange): { index: number; term: number } {
    return this.raft.proposeConfChange(change);
  }

  /** Hand leadership to `to` once it has caught up (forwarded to the leader when called on a follower). */
  transferLeadership(to: NodeId): void {
    this.raft.transferLeadership(to);
  }

  /** Ask for a linearizable read point; the answer comes as a `ReadState` in a later Ready. */
  readIndex(requestId: string): void {
    this.raft.readIndex(requestId);
  }

  /** Start an election now (with a pre-vote round if enabled). */
  campaign(): void {
    this.raft.hup(false);
  }

  hasReady(): boolean {
    const r = this.raft;
    if (this.handedOut) return false;
    const soft = r.softState();
    return (
      soft.role !== this.prevSoftState.role ||
      soft.leader !== this.prevSoftState.leader ||
      !sameHardState(r.hardState(), this.prevHardState) ||
      r.log.unstable.entries.length > 0 ||
      r.log.unstable.snapshot !== null ||
      r.msgs.length > 0 ||
      r.hasPendingBroadcast() ||
      r.readStates.length > 0 ||
      r.log.hasNextCommittedEntries()
    );
  }

  /**
   * Collect what the application must persist, send and apply. Membership changes among
   * the committed entries take effect here, as they are handed out. Call `advance()` before
   * the next `ready()`.
   */
  ready(): Ready {
    if (this.handedOut) throw new InvalidArgumentError('ready() called again before advance()');
    const r = this.raft;
    const committedEntries = r.log.nextCommittedEntries();
    const appliedTo = committedEntries.length > 0 ? committedEntries[committedEntries.length - 1]!.index : r.log.applying;
    r.log.applying = appliedTo;
    for (const entry of committedEntries) if (entry.type === 'confChange') r.applyConfChange(entry.change);
    r.flushBroadcast();

    const entries: Entry[] = r.log.unstableEntries();
    const snapshot = r.log.unstable.snapshot ?? undefined;
    const soft = r.softState();
    const hard = r.hardState();
    const softChanged = soft.role !== this.prevSoftState.role || soft.leader !== this.prevSoftState.leader;
    const hardChanged = !sameHardState(hard, this.prevHardState);
    const messages = r.msgs;
    const readStates = r.readStates;
    r.msgs = [];
    r.readStates = [];

    const last = entries[entries.length - 1];
    this.handedOut = {
      lastEntry: last ? { index: last.index, term: last.term } : null,
      snapshotIndex: snapshot ? snapshot.meta.index : null,
      appliedTo,
      hardState: hardChanged ? hard : null,
      softState: softChanged ? soft : null,
    };
    const ready: Ready = {
      entries,
      committedEntries,
      messages,
      readStates,
      mustSync: entries.length > 0 || snapshot !== undefined || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
    };
    if (softChanged) ready.softState = soft;
    if (hardChanged) ready.hardState = hard;
    if (snapshot) ready.snapshot = snapshot;
    return ready;
  }

  /** The application finished the last Ready: its entries are durable and its commits applied. */
  advance(): void {
    const handed = this.handedOut;
    if (!handed) return;
    this.handedOut = null;
    const r = this.raft;
    if (handed.softState) this.prevSoftState = handed.softState;
    if (handed.hardState) this.prevHardState = handed.hardState;
    if (handed.lastEntry) r.log.unstable.stableTo(handed.lastEntry.index, handed.lastEntry.term);
    if (handed.snapshotIndex !== null) {
      r.log.unstable.stableSnapTo(handed.snapshotIndex);
      r.log.appliedTo(handed.snapshotIndex);
    }
    r.log.appliedTo(handed.appliedTo);
    r.maybeAutoLeaveJoint();
  }

  /** Role and leader, cheaply (status() builds much more). */
  softState(): SoftState {
    return this.raft.softState();
  }

  /** The configuration as of the last entry handed out (the applied index after `advance()`). */
  confState(): ConfState {
    return this.raft.configState();
  }

  status(): Status {
    const r = this.raft;
    const progress: Record<NodeId, ProgressStatus> = {};
    if (r.role === 'leader') for (const [id, p] of r.tracker.progress) progress[id] = p.toStatus();
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      role: r.role,
      leader: r.lead,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      config: r.configState(),
      progress,
      leadTransferee: r.leadTransferee,
    };
  }
}
