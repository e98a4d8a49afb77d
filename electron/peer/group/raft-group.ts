// One class's Raft group on this laptop: drives the pure RaftNode with the SQLite storage and
// the transport. This is the Ready loop of ARCHITECTURE.md: persist (one transaction), then
// send, then apply (one transaction with the applied index), then advance; one pass handles
// everything that arrived since the last, so under load one fsync carries many writes.
import { NotLeaderError, RaftNode, type ConfChange, type ConfState, type Entry, type Message, type RandomSource, type Ready, type Status } from '../../raft';
import type { CompactionPolicy, SqliteStorage } from '../storage';
import type { Logger } from '../transport/types';

export interface RaftGroupOptions<Result> {
  laptopId: string;
  storage: SqliteStorage<Result>;
  /** Hands a message to the transport; must not block or throw. */
  send: (to: string, message: Message) => void;
  random: RandomSource;
  /** Milliseconds per Raft tick. */
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  compaction: CompactionPolicy;
  logger: Logger;
  /**
   * Runs inside the transaction that applies committed entries, with their results: this
   * laptop's own bookkeeping that must change exactly when they count as applied.
   */
  applyAlongside?: (applied: readonly { index: number; result: Result }[]) => void;
  /** Called after each Ready with the entries just applied and their results. */
  onApplied?: (applied: { entry: Entry; result: Result }[]) => void;
  /** Called when role, leader or term changed. */
  onStateChange?: (status: Status) => void;
}

/** Why a proposal's outcome is unknown: the caller retries it with the same client id and sequence. */
export class ProposalLostError extends Error {
  readonly code = 'PROPOSAL_LOST';
  constructor(reason: string) {
    super(reason);
    this.name = 'ProposalLostError';
  }
}

interface Waiter<Result> {
  term: number;
  resolve: (applied: { index: number; result: Result }) => void;
  reject: (error: Error) => void;
}

interface ReadWaiter {
  resolve: (index: number) => void;
  reject: (error: Error) => void;
}

export class RaftGroup<Result> {
  private node: RaftNode;
  private readonly proposals = new Map<number, Waiter<Result>>();
  private readonly reads = new Map<string, ReadWaiter>();
  private readSequence = 0;
  /**
   * Callers waiting for this laptop to apply an index: reads whose ReadIndex is known, and
   * writes forwarded to the leader (read-your-writes). Resolved with the applied index.
   */
  private appliedWaiters: { index: number; resolve: (applied: number) => void }[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private scheduled = false;
  private stopped = false;
  /** What stopped the Ready loop, if something did (not set by an orderly stop). */
  private failure: unknown = null;
  private lastRoleKey = '';
  /** When we last heard from the leader (any message from it), for staleness stamps. */
  private leaderContactAt: number | null = null;

  constructor(private readonly options: RaftGroupOptions<Result>) {
    this.node = this.nodeFromStorage();
  }

  private nodeFromStorage(): RaftNode {
    const { laptopId, storage, random, electionTicks, heartbeatTicks } = this.options;
    return new RaftNode({ id: laptopId, storage, random, electionTicks, heartbeatTicks, applied: storage.appliedIndex() });
  }

  /**
   * Start over from the storage after it was rewritten under the group (class recovery, see
   * raft/recovery.ts). Entries proposed and not yet persisted go with the old node; their
   * callers hear that the outcome is unknown, and retry with the same sequence numbers.
   */
  reload(): void {
    if (this.stopped) return;
    this.failWaiters('the class was rebuilt while the write was on its way');
    this.node = this.nodeFromStorage();
    this.leaderContactAt = null;
    this.lastRoleKey = '';
    this.schedule();
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.node.tick();
      this.schedule();
    }, this.options.tickMs);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.failWaiters('this laptop is shutting down');
  }

  private failWaiters(reason: string): void {
    for (const waiter of this.proposals.values()) waiter.reject(new ProposalLostError(reason));
    this.proposals.clear();
    for (const waiter of this.reads.values()) waiter.reject(new ProposalLostError(reason));
    this.reads.clear();
  }

  /** What stopped this group while it ran (a disk that failed, an entry this Quorum can't apply), or null. */
  stoppedBy(): unknown {
    return this.failure;
  }

  /** A Raft message from `from` (already authenticated by the transport). */
  step(from: string, message: Message): void {
    if (this.stopped || message.from !== from) return;
    this.node.step(message);
    // After stepping, so the message that announces a new leader counts as contact with it.
    if (message.from === this.node.softState().leader) this.leaderContactAt = Date.now();
    this.schedule();
  }

  /**
   * Propose `data` on this laptop, which must lead (else `NotLeaderError`). Resolves once the
   * entry is applied here, with the state machine's result.
   */
  propose(data: Uint8Array): Promise<{ index: number; result: Result }> {
    if (this.stopped) return Promise.reject(new NotLeaderError(null));
    const { index, term } = this.node.propose(data);
    this.schedule();
    return new Promise((resolve, reject) => this.proposals.set(index, { term, resolve, reject }));
  }

  proposeConfChange(change: ConfChange): Promise<{ index: number; result: Result }> {
    if (this.stopped) return Promise.reject(new NotLeaderError(null));
    const { index, term } = this.node.proposeConfChange(change);
    this.schedule();
    return new Promise((resolve, reject) => this.proposals.set(index, { term, resolve, reject }));
  }

  /** A linearizable read point: resolves with an index this laptop has applied (ReadIndex). */
  readIndex(): Promise<number> {
    const requestId = `${this.options.laptopId}:${++this.readSequence}`;
    this.node.readIndex(requestId);
    this.schedule();
    return new Promise((resolve, reject) => this.reads.set(requestId, { resolve, reject }));
  }

  /** Resolves once this laptop has applied `index`. */
  waitApplied(index: number): Promise<void> {
    if (this.options.storage.appliedIndex() >= index) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ index, resolve: () => resolve() }));
  }

  transferLeadership(to: string): void {
    this.node.transferLeadership(to);
    this.schedule();
  }

  campaign(): void {
    this.node.campaign();
    this.schedule();
  }

  status(): Status {
    return this.node.status();
  }

  /** The configuration as of the last entry handed out, cheaply (status() builds much more). */
  config(): ConfState {
    return this.node.confState();
  }

  /** Milliseconds since the last message from the leader; 0 on the leader; null if never. */
  leaderContactMs(): number | null {
    if (this.node.softState().role === 'leader') return 0;
    return this.leaderContactAt === null ? null : Date.now() - this.leaderContactAt;
  }

  isLeader(): boolean {
    return !this.stopped && this.node.softState().role === 'leader';
  }

  /** The leader as this laptop knows it; none once this group stopped (nothing sent here could be applied here). */
  leader(): string | null {
    return this.stopped ? null : this.node.softState().leader;
  }

  /** Run the Ready loop soon, once, however many inputs arrive before it runs. */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.processReady();
      } catch (error) {
        // A failing disk write must not be acknowledged to anyone, nor an entry this laptop
        // can't apply as the others do skipped: stop this group loudly, and keep why.
        this.options.logger.error('the class stopped on this laptop', { error: String(error) });
        this.failure = error;
        this.stop();
        // Whoever shows this class's state shows it stopped now, not at their next look.
        this.options.onStateChange?.(this.node.status());
      }
    });
  }

  private processReady(): void {
    const { storage, send } = this.options;
    while (!this.stopped && this.node.hasReady()) {
      const ready = this.node.ready();
      // The configuration as of the entries just handed out: both the send rule and the apply need it.
      const confState = this.node.confState();
      if (this.maySendBeforePersisting(ready, confState)) {
        // A steady leader's appends go out while its own disk write runs (thesis §10.2.1).
        for (const message of ready.messages) send(message.to, message);
        storage.persist(ready);
      } else {
        // 1. Durable first: a vote or an acknowledgement must survive a crash of this laptop.
        storage.persist(ready);
        // 2. Only then tell anyone.
        for (const message of ready.messages) send(message.to, message);
      }
      // 3. Apply, in one transaction with the applied index.
      if (ready.snapshot) this.failProposalsThrough(ready.snapshot.meta.index);
      const applied = storage.applyCommitted(ready.committedEntries, confState, this.options.applyAlongside);
      this.node.advance();
      this.settle(ready.committedEntries, applied);
      for (const read of ready.readStates) this.readKnown(read.requestId, read.index);
      if (ready.softState || ready.hardState) this.noteStateChange();
    }
    this.releaseAppliedWaiters();
    storage.maybeCompact(this.options.compaction);
  }

  /**
   * Whether this Ready's messages may leave before its write is on disk: only a leader's, in a
   * Ready that changes no term, vote, role or snapshot (those must be durable before anyone
   * hears of them), and only where the leader can't commit alone. The leader counts its own
   * new entries toward the commit, so it must not be able to commit them before they are on
   * its disk: with at least one other voter needed, a commit waits for a follower's answer to
   * these very messages, which this single-threaded loop reads only after `persist` returned.
   * Followers persist what they receive before answering, as always.
   */
  private maySendBeforePersisting(ready: Ready, { voters, votersOutgoing }: ConfState): boolean {
    if (ready.softState || ready.snapshot || ready.messages.length === 0) return false;
    if (this.node.softState().role !== 'leader') return false;
    const persisted = this.options.storage.initialState().hardState;
    if (ready.hardState && (ready.hardState.term !== persisted.term || ready.hardState.vote !== persisted.vote)) return false;
    const needsAnother = (half: string[]) => half.length >= 2;
    return needsAnother(voters) && (votersOutgoing.length === 0 || needsAnother(votersOutgoing));
  }

  private settle(entries: Entry[], applied: { index: number; result: Result }[]): void {
    const results = new Map(applied.map((a) => [a.index, a.result]));
    const out: { entry: Entry; result: Result }[] = [];
    for (const entry of entries) {
      const result = results.get(entry.index);
      if (result === undefined) continue;
      out.push({ entry, result });
      const waiter = this.proposals.get(entry.index);
      if (!waiter) continue;
      this.proposals.delete(entry.index);
      if (waiter.term === entry.term) waiter.resolve({ index: entry.index, result });
      else waiter.reject(new ProposalLostError('another leader replaced the write before it was committed'));
    }
    if (out.length > 0) this.options.onApplied?.(out);
  }

  private failProposalsThrough(index: number): void {
    for (const [at, waiter] of this.proposals) {
      if (at > index) continue;
      this.proposals.delete(at);
      waiter.reject(new ProposalLostError('a snapshot replaced the log before the write was seen applied'));
    }
  }

  private readKnown(requestId: string, index: number): void {
    const waiter = this.reads.get(requestId);
    if (!waiter) return;
    this.reads.delete(requestId);
    this.appliedWaiters.push({ index, resolve: waiter.resolve });
  }

  private releaseAppliedWaiters(): void {
    if (this.appliedWaiters.length === 0) return;
    const applied = this.options.storage.appliedIndex();
    const ready = this.appliedWaiters.filter((w) => w.index <= applied);
    this.appliedWaiters = this.appliedWaiters.filter((w) => w.index > applied);
    for (const waiter of ready) waiter.resolve(applied);
  }


  private noteStateChange(): void {
    const status = this.node.status();
    const key = `${status.role}/${status.leader}/${status.term}`;
    if (key === this.lastRoleKey) return;
    this.lastRoleKey = key;
    this.options.logger.info('raft state', { role: status.role, leader: status.leader, term: status.term });
    // A new term may have dropped reads in flight; their callers retry.
    if (status.role !== 'leader') {
      for (const waiter of this.reads.values()) waiter.reject(new ProposalLostError('leadership changed during a read'));
      this.reads.clear();
    }
    this.options.onStateChange?.(status);
  }
}
