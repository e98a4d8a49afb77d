import { applyConfChange } from './confchange';
import { cloneConfig, configProblem, fromConfState, isJoint, toConfState, type Config } from './config';
import {
  CompactedError,
  ConfChangeError,
  InvalidArgumentError,
  NotLeaderError,
  ProposalDroppedError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from './errors';
import { RaftLog } from './log';
import type { Progress } from './progress';
import { randomInt, type RandomSource } from './random';
import { ReadOnly, type PendingRead } from './read-only';
import type { Storage } from './storage';
import { ProgressTracker } from './tracker';
import type {
  AppendMessage,
  ConfChange,
  Entry,
  HardState,
  HeartbeatMessage,
  Message,
  NodeId,
  ReadState,
  Role,
  Snapshot,
  SnapshotChunkMessage,
  SoftState,
  VoteMessage,
} from './types';
import { isWellFormedMessage } from './validate';

/** Settings of one Raft node; every field but `id`, `storage` and `random` has a default. */
export interface RaftOptions {
  /** This node's id; must be non-empty. */
  id: NodeId;
  /** Durable state to restore from (read only). */
  storage: Storage;
  /** Ticks without hearing a leader before a follower campaigns; timeouts are drawn from [n, 2n). Default 10. */
  electionTicks?: number;
  /** Ticks between a leader's heartbeats; must be less than electionTicks. Default 1. */
  heartbeatTicks?: number;
  /** Run a pre-vote round before bumping the term, so a returning laptop can't depose a healthy leader. Default true. */
  preVote?: boolean;
  /** A leader that can't hear a quorum for an election timeout steps down; followers honour a leader lease. Default true. */
  checkQuorum?: boolean;
  /** Uniform [0, 1) source for election timeouts; inject a seeded one to replay runs. */
  random: RandomSource;
  /** Append messages in flight per follower. Default 256. */
  maxInflightMsgs?: number;
  /** Bytes of entries in one append message (at least one entry is always sent). Default 1 MiB. */
  maxBytesPerMsg?: number;
  /** Bytes in flight per follower, across append messages. Default 32 MiB. */
  maxInflightBytes?: number;
  /** Size of one snapshot chunk. Default 256 KiB. */
  snapshotChunkBytes?: number;
  /** The application's durable applied index; defaults to the snapshot's index. */
  applied?: number;
}

/** Snapshot chunks in flight per follower. */
const SNAPSHOT_WINDOW = 4;

interface SnapshotReceipt {
  meta: Snapshot['meta'];
  /** Term of the leader sending it: a newer term or a newer snapshot replaces the receipt. */
  term: number;
  /** The chunks holding bytes [0, received), in order. */
  chunks: Uint8Array[];
  received: number;
  /** Chunks that arrived ahead of a missing one, by offset; bounded by SNAPSHOT_WINDOW * 2. */
  early: Map<number, Uint8Array>;
  totalBytes: number;
}

/**
 * The Raft state machine (Ongaro & Ousterhout, and the dissertation's PreVote, CheckQuorum,
 * leadership transfer, ReadIndex and joint consensus), without any I/O. Inputs are `tick`,
 * `step` and the propose/transfer/read calls; outputs collect in `msgs`, `readStates` and
 * the log's unstable part, which `RaftNode` hands out as a `Ready`.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId | null = null;
  role: Role = 'follower';
  lead: NodeId | null = null;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  isLearner = false;

  msgs: Message[] = [];
  readStates: ReadState[] = [];

  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly random: RandomSource;
  private readonly maxBytesPerMsg: number;
  private readonly snapshotChunkBytes: number;

  /** Ticks since the last election timeout reset (follower) or CheckQuorum round (leader). */
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  leadTransferee: NodeId | null = null;
  /** Index of the last membership change proposed; another waits until it is applied. */
  private pendingConfIndex = 0;
  private readonly readOnly = new ReadOnly();
  private readSequence = 0;
  /** Reads that arrived before this leader committed an entry of its own term. */
  private readsAwaitingCommit: PendingRead[] = [];
  private snapshotReceipt: SnapshotReceipt | null = null;
  private broadcastPending = false;

  constructor(options: RaftOptions) {
    if (typeof options.id !== 'string' || options.id === '') throw new InvalidArgumentError('a node needs a non-empty id');
    this.id = options.id;
    this.electionTicks = options.electionTicks ?? 10;
    this.heartbeatTicks = options.heartbeatTicks ?? 1;
    if (!(this.heartbeatTicks > 0 && this.electionTicks > this.heartbeatTicks)) {
      throw new InvalidArgumentError('electionTicks must be greater than heartbeatTicks, which must be positive');
    }
    this.preVote = options.preVote ?? true;
    this.checkQuorum = options.checkQuorum ?? true;
    this.random = options.random;
    this.maxBytesPerMsg = options.maxBytesPerMsg ?? 1024 * 1024;
    this.snapshotChunkBytes = Math.max(1, options.snapshotChunkBytes ?? 256 * 1024);
    const maxInflightMsgs = options.maxInflightMsgs ?? 256;
    if (!(maxInflightMsgs > 0)) throw new InvalidArgumentError('maxInflightMsgs must be positive');
    this.tracker = new ProgressTracker(maxInflightMsgs, options.maxInflightBytes ?? 32 * 1024 * 1024);
    this.log = new RaftLog(options.storage);

    const { hardState, confState } = options.storage.initialState();
    const snapshotIndex = this.log.firstIndex() - 1;
    const applied = options.applied ?? snapshotIndex;
    if (hardState.commit < snapshotIndex || hardState.commit > this.log.lastIndex()) {
      throw new InvalidArgumentError(
        `stored commit index ${hardState.commit} lies outside the stored log [${snapshotIndex}, ${this.log.lastIndex()}]`,
      );
    }
    if (applied < snapshotIndex || applied > hardState.commit) {
      throw new InvalidArgumentError(`applied index ${applied} lies outside [${snapshotIndex}, ${hardState.commit}]`);
    }
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.log.committed = hardState.commit;

    // The configuration as of `applied`: the snapshot's, then every change applied since.
    let config = fromConfState(confState);
    if (applied > snapshotIndex) {
      for (const entry of options.storage.entries(snapshotIndex + 1, applied + 1)) {
        if (entry.type === 'confChange') {
          const result = applyConfChange(config, entry.change);
          if (result.ok) config = result.config;
        }
      }
    }
    const problem = configProblem(config);
    if (problem) throw new InvalidArgumentError(`stored configuration is invalid: ${problem}`);
    this.switchToConfig(config);
    this.log.appliedTo(applied);
    this.becomeFollower(this.term, null);
  }

  // ---- state transitions -------------------------------------------------------------

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { role: this.role, leader: this.lead };
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    for (const [id, progress] of this.tracker.progress) {
      const fresh = this.tracker.newProgress(lastIndex + 1, progress.isLearner);
      // A new term must hear from its peers afresh before CheckQuorum counts them.
      fresh.recentActive = id === this.id;
      if (id === this.id) fresh.match = lastIndex;
      this.tracker.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.readOnly.reset();
    this.readsAwaitingCommit = [];
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = randomInt(this.random, this.electionTicks, 2 * this.electionTicks);
  }

  becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    // Pre-voting changes neither term nor vote: a partitioned laptop stays harmless.
    this.role = 'preCandidate';
    this.lead = null;
    this.tracker.resetVotes();
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.tracker.progress.get(this.id)?.becomeReplicate();
    // Conservatively treat everything up to here as possibly holding a membership change.
    this.pendingConfIndex = this.log.lastIndex();
    // A new leader commits an entry of its own term before it can count anything committed.
    this.appendEntries([{ type: 'normal', data: new Uint8Array(), index: 0, term: 0 }]);
  }

  /** Whether this node may campaign: a voter of its configuration with no snapshot pending. */
  promotable(): boolean {
    const self = this.tracker.progress.get(this.id);
    return self !== undefined && !self.isLearner && this.log.unstable.snapshot === null;
  }

  // ---- time ----------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.tracker.quorumActive(this.id)) {
          this.becomeFollower(this.term, null);
          return;
        }
        for (const [id, progress] of this.tracker.progress) if (id !== this.id) progress.recentActive = false;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = null;
    }
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastPending() ?? null);
    }
    this.resumeStalledSnapshots();
  }

  // ---- elections -----------------------------------------------------------------------

  /** Start an election if allowed; `transfer` skips pre-vote and the leader lease. */
  hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    // A committed membership change not yet applied could change who may vote.
    if (this.log.nextCommittedEntries().some((e) => e.type === 'confChange')) return;
    if (this.preVote && !transfer) this.campaign('preVote', false);
    else this.campaign('vote', transfer);
  }

  private campaign(kind: 'preVote' | 'vote', transfer: boolean): void {
    let term: number;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      term = this.term + 1; // the term we would campaign in, not adopted yet
    } else {
      this.becomeCandidate();
      term = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes() === 'won') {
      // A single-voter cluster wins at once.
      if (kind === 'preVote') this.campaign('vote', transfer);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const to of this.tracker.voterIds()) {
      if (to === this.id) continue;
      this.send({ type: kind, to, from: this.id, term, index: lastIndex, logTerm, transfer } satisfies VoteMessage);
    }
  }

  private handleVoteRequest(m: VoteMessage): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      (m.type === 'preVote' && m.term > this.term);
    const responseType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // Answer in the candidate's term: a pre-vote grant must not look stale to it.
      this.send({ type: responseType, to: m.from, from: this.id, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, to: m.from, from: this.id, term: this.term, reject: true });
    }
  }

  // ---- stepping messages ---------------------------------------------------------------

  /** Process a message from a peer. Malformed, misaddressed or stale input is ignored. */
  step(m: Message): void {
    if (!isWellFormedMessage(m) || m.to !== this.id || m.from === this.id) return;
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // Leader lease: while we hear from a live leader, nobody else can win our vote.
        const inLease = this.checkQuorum && this.lead !== null && this.electionElapsed < this.electionTicks;
        if (!m.transfer && inLease) return;
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // Pre-votes use a future term without anybody adopting it.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        // Adopting a term from a vote request does not restart our election clock; only
        // granting the vote does (Figure 2). Otherwise a stale node campaigning over and
        // over could keep the one up-to-date voter from ever timing out.
        const elapsed = this.electionElapsed;
        this.becomeFollower(m.term, null);
        if (m.type === 'vote') this.electionElapsed = elapsed;
      }
    } else if (m.term < this.term) {
      this.stepStale(m);
      return;
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        break;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
    }
  }

  private stepStale(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap')) {
      // A leader from an older term, perhaps cut off one way: tell it our term so it steps
      // down rather than keeping a partitioned follower (which won't disrupt us) stuck.
      this.send({ type: 'appResp', to: m.from, from: this.id, term: this.term, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    } else if (m.type === 'preVote') {
      this.send({ type: 'preVoteResp', to: m.from, from: this.id, term: this.term, reject: true });
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        break;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        break;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        break;
      case 'timeoutNow':
        // Leadership transfers skip pre-vote: the old leader asked, nobody is partitioned.
        if (this.promotable() && !this.log.nextCommittedEntries().some((e) => e.type === 'confChange')) {
          this.campaign('vote', true);
        }
        break;
      case 'transferLeader':
        if (this.lead !== null) this.send({ ...m, to: this.lead, from: this.id, term: this.term });
        break;
      case 'readIndexResp':
        this.readStates.push({ index: m.index, requestId: m.requestId });
        break;
      default:
        break;
    }
  }

  private stepCandidate(m: Message): void {
    const ourResponse = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
    switch (m.type) {
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        break;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        break;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshotChunk(m);
        break;
      case 'voteResp':
      case 'preVoteResp': {
        if (m.type !== ourResponse) break;
        this.tracker.recordVote(m.from, !m.reject);
        const result = this.tracker.tallyVotes();
        if (result === 'won') {
          if (this.role === 'preCandidate') this.campaign('vote', false);
          else {
            this.becomeLeader();
            this.requestBroadcast();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, null);
        }
        break;
      }
      default:
        break;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'readIndex':
        this.handleReadIndex({ index: 0, requestId: m.requestId, from: m.from });
        return;
      case 'transferLeader':
        this.startTransfer(m.target);
        return;
      default:
        break;
    }
    const progress = this.tracker.progress.get(m.from);
    if (!progress) return;
    switch (m.type) {
      case 'appResp':
        progress.recentActive = true;
        // Nobody can hold entries we never had; such an answer comes from a faulty peer.
        if (m.index > this.log.lastIndex()) break;
        if (m.reject) this.handleAppendRejection(m.from, progress, m.index, m.hintIndex, m.hintTerm);
        else this.handleAppendSuccess(m.from, progress, m.index);
        break;
      case 'heartbeatResp':
        progress.recentActive = true;
        progress.probeSent = false;
        // If every append that filled the window was lost, this lets one more through; the
        // follower rejects it and replication falls back to probing.
        if (progress.state === 'replicate' && progress.inflights.full()) progress.inflights.freeFirstOne();
        if (progress.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (m.context !== null) this.confirmReads(m.context, m.from);
        break;
      case 'snapResp':
        progress.recentActive = true;
        this.handleSnapshotAck(m.from, progress, m.index, m.attempt, m.offset);
        break;
      default:
        break;
    }
  }

  // ---- replication: leader side --------------------------------------------------------

  private appendEntries(entries: Entry[]): { index: number; term: number } {
    let index = this.log.lastIndex();
    const stamped = entries.map((entry) => ({ ...entry, index: ++index, term: this.term }));
    const lastIndex = this.log.append(stamped);
    // The leader's own entry counts for commit: Ready persists it before anything is applied.
    this.tracker.progress.get(this.id)?.maybeUpdate(lastIndex);
    this.maybeCommit();
    return { index: lastIndex, term: this.term };
  }

  private maybeCommit(): boolean {
    const committed = this.log.maybeCommit(this.tracker.committed(), this.term);
    if (committed) this.releaseReadsAwaitingCommit();
    return committed;
  }

  private handleAppendSuccess(from: NodeId, progress: Progress, index: number): void {
    if (!progress.maybeUpdate(index)) return;
    if (progress.state === 'probe') progress.becomeReplicate();
    else if (progress.state === 'snapshot' && progress.match >= progress.pendingSnapshot) {
      progress.becomeProbe();
      progress.becomeReplicate();
    } else if (progress.state === 'replicate') progress.inflights.freeLE(index);

    if (this.maybeCommit()) this.requestBroadcast();
    else while (this.sendAppend(from, false));

    if (from === this.leadTransferee && progress.match === this.log.lastIndex()) this.sendTimeoutNow(from);
  }

  private handleAppendRejection(from: NodeId, progress: Progress, rejected: number, hintIndex: number, hintTerm: number): void {
    // Skip every entry of a term the follower doesn't have (dissertation §5.3 optimization).
    let nextProbe = hintIndex;
    if (hintTerm > 0) nextProbe = this.log.findConflictByTerm(hintIndex, hintTerm).index;
    if (progress.maybeDecrTo(rejected, nextProbe)) {
      if (progress.state === 'replicate') progress.becomeProbe();
      this.sendAppend(from);
    }
  }

  /** Send whatever `to` needs next; returns whether a message went out. */
  sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const progress = this.tracker.progress.get(to);
    if (!progress || to === this.id || progress.isPaused()) return false;
    const prevIndex = progress.next - 1;
    let prevTerm: number;
    let entries: Entry[];
    try {
      prevTerm = this.log.term(prevIndex);
      entries = this.log.entriesFrom(progress.next, this.maxBytesPerMsg);
    } catch (error) {
      if (error instanceof CompactedError) return this.sendSnapshot(to, progress);
      if (error instanceof UnavailableError) return false;
      throw error;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    const bytes = this.log.bytesOf(entries);
    const message: AppendMessage = {
      type: 'app',
      to,
      from: this.id,
      term: this.term,
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.log.committed,
    };
    this.send(message);
    progress.sentEntries(entries.length, prevIndex + entries.length, bytes);
    return true;
  }

  bcastAppend(): void {
    for (const id of this.tracker.peers(this.id)) this.sendAppend(id);
  }

  /**
   * Broadcast appends when the next Ready is collected rather than now, so that every
   * proposal and commit advance since the last Ready travels in one message per follower.
   */
  private requestBroadcast(): void {
    this.broadcastPending = true;
  }

  /** Send the broadcast requested since the last Ready, if this node still leads. */
  flushBroadcast(): void {
    if (!this.broadcastPending) return;
    this.broadcastPending = false;
    if (this.role === 'leader') this.bcastAppend();
  }

  hasPendingBroadcast(): boolean {
    return this.broadcastPending && this.role === 'leader';
  }

  private bcastHeartbeat(context: string | null): void {
    for (const to of this.tracker.peers(this.id)) {
      const progress = this.tracker.progress.get(to)!;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(progress.match, this.log.committed);
      this.send({ type: 'heartbeat', to, from: this.id, term: this.term, commit, context } satisfies HeartbeatMessage);
    }
  }

  // ---- snapshots -----------------------------------------------------------------------

  private sendSnapshot(to: NodeId, progress: Progress): boolean {
    // A laptop that hasn't answered lately is probably asleep: don't stream megabytes at it.
    if (!progress.recentActive) return false;
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (error) {
      if (error instanceof SnapshotTemporarilyUnavailableError) return false;
      throw error;
    }
    if (snapshot.meta.index === 0) return false;
    progress.becomeSnapshot(snapshot);
    this.sendSnapshotChunks(to, progress, SNAPSHOT_WINDOW);
    return true;
  }

  private sendSnapshotChunks(to: NodeId, progress: Progress, window: number): void {
    const transfer = progress.transfer;
    if (!transfer) return;
    const { snapshot } = transfer;
    const total = snapshot.data.byteLength;
    // An empty snapshot still takes one (empty) chunk.
    const allSent = () => (total === 0 ? transfer.sent > 0 || transfer.acked > 0 : transfer.sent >= total);
    let sentNow = 0;
    while (!allSent() && sentNow < window) {
      const offset = transfer.sent;
      const end = Math.min(total, offset + this.snapshotChunkBytes);
      const message: SnapshotChunkMessage = {
        type: 'snap',
        to,
        from: this.id,
        term: this.term,
        meta: snapshot.meta,
        attempt: transfer.attempt,
        offset,
        totalBytes: total,
        data: snapshot.data.subarray(offset, end),
      };
      this.send(message);
      transfer.sent = total === 0 ? 1 : end;
      sentNow++;
    }
  }

  /**
   * The follower holds bytes [0, offset) of the snapshot. Answers to an earlier attempt are
   * ignored: the network may deliver them late, after the follower restarted or we rewound.
   */
  private handleSnapshotAck(from: NodeId, progress: Progress, index: number, attempt: number, offset: number): void {
    const transfer = progress.transfer;
    if (progress.state !== 'snapshot' || !transfer || transfer.snapshot.meta.index !== index) return;
    if (attempt !== transfer.attempt) return;
    const held = Math.min(offset, transfer.snapshot.data.byteLength);
    transfer.lastReported = held;
    if (held === 0 && transfer.acked > 0) {
      // It held part and now holds nothing (it restarted): start over at once.
      this.rewindSnapshot(transfer, 0);
    } else if (held > transfer.acked) {
      transfer.acked = held;
      transfer.sent = Math.max(transfer.sent, held);
      transfer.idleTicks = 0;
    }
    // A lower answer may just be overtaken by later ones; if it was true, the stall timer rewinds.
    const inFlight = Math.ceil((transfer.sent - transfer.acked) / this.snapshotChunkBytes);
    this.sendSnapshotChunks(from, progress, Math.max(0, SNAPSHOT_WINDOW - inFlight));
  }

  private rewindSnapshot(transfer: NonNullable<Progress['transfer']>, to: number): void {
    transfer.attempt++;
    transfer.acked = to;
    transfer.sent = to;
    transfer.lastReported = to;
    transfer.idleTicks = 0;
  }

  /** Resume, from what the follower last said it holds, a transfer that made no progress for a while. */
  private resumeStalledSnapshots(): void {
    const stallTicks = Math.max(2 * this.heartbeatTicks, Math.ceil(this.electionTicks / 2));
    for (const [id, progress] of this.tracker.progress) {
      const transfer = progress.transfer;
      if (id === this.id || progress.state !== 'snapshot' || !transfer) continue;
      if (++transfer.idleTicks < stallTicks || !progress.recentActive) continue;
      this.rewindSnapshot(transfer, transfer.lastReported);
      this.sendSnapshotChunks(id, progress, SNAPSHOT_WINDOW);
    }
  }

  // ---- replication: follower side ------------------------------------------------------

  private handleAppend(m: AppendMessage): void {
    if (m.index < this.log.committed) {
      this.sendAppendResponse(m.from, this.log.committed);
      return;
    }
    const lastIndex = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastIndex === null) return; // would overwrite committed entries: a faulty leader
    if (lastIndex !== undefined) {
      this.sendAppendResponse(m.from, lastIndex);
      return;
    }
    // Our log doesn't match at m.index: point the leader at the last place it could.
    const probe = Math.min(m.index, this.log.lastIndex());
    const hint = this.log.findConflictByTerm(probe, m.logTerm);
    this.send({ type: 'appResp', to: m.from, from: this.id, term: this.term, index: m.index, reject: true, hintIndex: hint.index, hintTerm: hint.term });
  }

  private sendAppendResponse(to: NodeId, index: number): void {
    this.send({ type: 'appResp', to, from: this.id, term: this.term, index, reject: false, hintIndex: 0, hintTerm: 0 });
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResp', to: m.from, from: this.id, term: this.term, context: m.context });
  }

  private handleSnapshotChunk(m: SnapshotChunkMessage): void {
    if (this.snapshotReceipt && this.snapshotReceipt.meta.index <= this.log.committed) this.snapshotReceipt = null;
    if (m.meta.index <= this.log.committed) {
      // Already have everything it covers: say so, so the leader moves on.
      this.sendAppendResponse(m.from, this.log.committed);
      return;
    }
    let receipt = this.snapshotReceipt;
    const sameSnapshot =
      receipt !== null && receipt.meta.index === m.meta.index && receipt.meta.term === m.meta.term && receipt.totalBytes === m.totalBytes;
    if (receipt === null || !sameSnapshot) {
      const newer = receipt === null || m.term > receipt.term || (m.term === receipt.term && m.meta.index > receipt.meta.index);
      if (!newer) return; // a late chunk of a transfer its leader has given up on
      receipt = { meta: m.meta, term: m.term, chunks: [], received: 0, early: new Map(), totalBytes: m.totalBytes };
      this.snapshotReceipt = receipt;
    }
    if (m.offset > receipt.received) {
      // Overtook an earlier chunk: keep it (within reason) and say what we hold in order.
      if (receipt.early.size < 2 * SNAPSHOT_WINDOW) receipt.early.set(m.offset, m.data);
      this.sendSnapshotAck(m, receipt.received);
      return;
    }
    if (m.offset < receipt.received) {
      this.sendSnapshotAck(m, receipt.received); // a duplicate
      return;
    }
    let chunk: Uint8Array | undefined = m.data;
    while (chunk !== undefined) {
      receipt.chunks.push(chunk);
      const at = receipt.received;
      receipt.received += chunk.byteLength;
      receipt.early.delete(at);
      chunk = chunk.byteLength > 0 ? receipt.early.get(receipt.received) : undefined;
    }
    if (receipt.received < receipt.totalBytes) {
      this.sendSnapshotAck(m, receipt.received);
      return;
    }
    this.snapshotReceipt = null;
    const data = new Uint8Array(receipt.totalBytes);
    let at = 0;
    for (const chunk of receipt.chunks) {
      data.set(chunk, at);
      at += chunk.byteLength;
    }
    const snapshot: Snapshot = { meta: receipt.meta, data };
    if (this.restore(snapshot)) this.sendAppendResponse(m.from, this.log.lastIndex());
    else this.sendAppendResponse(m.from, this.log.committed);
  }

  private sendSnapshotAck(chunk: SnapshotChunkMessage, offset: number): void {
    this.send({ type: 'snapResp', to: chunk.from, from: this.id, term: this.term, index: chunk.meta.index, attempt: chunk.attempt, offset });
  }

  /** Adopt a snapshot from the leader; false if our log already covers it. */
  private restore(snapshot: Snapshot): boolean {
    if (snapshot.meta.index <= this.log.committed) return false;
    const config = fromConfState(snapshot.meta.confState);
    if (configProblem(config)) return false;
    if (this.log.matchTerm(snapshot.meta.index, snapshot.meta.term)) {
      // Our log already has this prefix: just fast-forward the commit.
      this.log.commitTo(snapshot.meta.index);
      return false;
    }
    this.log.restore(snapshot);
    this.tracker.progress.clear();
    this.switchToConfig(config);
    return true;
  }

  // ---- membership ----------------------------------------------------------------------

  /** Apply a committed membership change (called when it is handed to the application). */
  applyConfChange(change: ConfChange): void {
    const result = applyConfChange(this.tracker.config, change);
    // An invalid change is a no-op on every replica alike, as the log is the same everywhere.
    if (result.ok) this.switchToConfig(result.config);
  }

  private switchToConfig(config: Config): void {
    this.tracker.setConfig(config, this.log.lastIndex() + 1);
    const self = this.tracker.progress.get(this.id);
    this.isLearner = self?.isLearner ?? false;
    if (this.role !== 'leader') return;
    if (!self || self.isLearner) {
      // Removed or demoted: tell followers the latest commit, then step aside.
      this.bcastAppend();
      this.becomeFollower(this.term, null);
      return;
    }
    if (this.maybeCommit()) this.requestBroadcast();
    else for (const id of this.tracker.peers(this.id)) this.sendAppend(id, false);
    if (this.leadTransferee !== null && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = null;
  }

  /** After the application applied entries: leave an auto-leave joint configuration. */
  maybeAutoLeaveJoint(): void {
    const config = this.tracker.config;
    if (this.role === 'leader' && isJoint(config) && config.autoLeave && this.log.applying >= this.pendingConfIndex) {
      const { index } = this.appendEntries([{ type: 'confChange', change: { changes: [] }, index: 0, term: 0 }]);
      this.pendingConfIndex = index;
      this.requestBroadcast();
    }
  }

  // ---- client requests -----------------------------------------------------------------

  propose(data: Uint8Array): { index: number; term: number } {
    this.checkCanPropose();
    const result = this.appendEntries([{ type: 'normal', data, index: 0, term: 0 }]);
    this.requestBroadcast();
    return result;
  }

  proposeConfChange(change: ConfChange): { index: number; term: number } {
    this.checkCanPropose();
    if (this.pendingConfIndex > this.log.applying) {
      throw new ProposalDroppedError('a membership change is still being applied; try again when it is');
    }
    const result = applyConfChange(cloneConfig(this.tracker.config), change);
    if (!result.ok) throw new ConfChangeError(result.reason);
    const proposed = this.appendEntries([{ type: 'confChange', change, index: 0, term: 0 }]);
    this.pendingConfIndex = proposed.index;
    this.requestBroadcast();
    return proposed;
  }

  private checkCanPropose(): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.lead);
    if (!this.tracker.progress.has(this.id)) throw new ProposalDroppedError('this node was removed from the cluster');
    if (this.leadTransferee !== null) {
      throw new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`);
    }
  }

  // ---- leadership transfer -------------------------------------------------------------

  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') {
      if (this.lead === null) throw new NotLeaderError(null);
      this.send({ type: 'transferLeader', to: this.lead, from: this.id, term: this.term, target: to });
      return;
    }
    const progress = this.tracker.progress.get(to);
    if (!progress || progress.isLearner) throw new InvalidArgumentError(`${to} is not a voter and cannot lead`);
    this.startTransfer(to);
  }

  private startTransfer(to: NodeId): void {
    const progress = this.tracker.progress.get(to);
    if (!progress || progress.isLearner || to === this.id || to === this.leadTransferee) return;
    // The transfer must finish within an election timeout, counted from now.
    this.electionElapsed = 0;
    this.leadTransferee = to;
    if (progress.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', to, from: this.id, term: this.term });
  }

  // ---- linearizable reads --------------------------------------------------------------

  readIndex(requestId: string): void {
    if (this.role === 'leader') {
      this.handleReadIndex({ index: 0, requestId, from: this.id });
      return;
    }
    if (this.lead === null || this.role !== 'follower') throw new NotLeaderError(this.lead);
    this.send({ type: 'readIndex', to: this.lead, from: this.id, term: this.term, requestId });
  }

  private handleReadIndex(read: PendingRead): void {
    // Until it commits an entry of its term, a new leader doesn't know the full commit index.
    if (this.log.termOrZero(this.log.committed) !== this.term) {
      this.readsAwaitingCommit.push(read);
      return;
    }
    const pending = { ...read, index: this.log.committed };
    if (this.tracker.isSingleton(this.id)) {
      this.answerRead(pending);
      return;
    }
    const context = `${this.term}.${++this.readSequence}`;
    this.readOnly.add(context, pending);
    this.confirmReads(context, this.id);
    this.bcastHeartbeat(context);
  }

  private confirmReads(context: string, from: NodeId): void {
    if (!this.readOnly.recvAck(context, from, this.tracker.config.voters)) return;
    for (const read of this.readOnly.advance(context)) this.answerRead(read);
  }

  private answerRead(read: PendingRead): void {
    if (read.from === this.id) this.readStates.push({ index: read.index, requestId: read.requestId });
    else this.send({ type: 'readIndexResp', to: read.from, from: this.id, term: this.term, requestId: read.requestId, index: read.index });
  }

  private releaseReadsAwaitingCommit(): void {
    if (this.readsAwaitingCommit.length === 0 || this.log.termOrZero(this.log.committed) !== this.term) return;
    const reads = this.readsAwaitingCommit;
    this.readsAwaitingCommit = [];
    for (const read of reads) this.handleReadIndex(read);
  }

  // ---- output --------------------------------------------------------------------------

  private send(message: Message): void {
    this.msgs.push(message);
  }

  configState() {
    return toConfState(this.tracker.config);
  }
}
