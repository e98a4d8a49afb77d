// A cluster of RaftNodes on the simulated network, each running the Ready loop the way a
// Quorum peer does: persist → send → apply (state machine and applied index together) →
// advance. Crashes lose exactly what was not persisted. All randomness comes from one seed.

import {
  MemoryStorage,
  NotLeaderError,
  ProposalDroppedError,
  RaftNode,
  seededRandom,
  type ConfChange,
  type ConfState,
  type NodeId,
  type RaftNodeOptions,
  type RandomSource,
  type ReadState,
  type Ready,
  type Status,
} from '../../../electron/raft/index';
import { InvariantViolation, SafetyChecker, type CheckedNode } from './invariants';
import { Network, type NetworkOptions } from './network';
import { KvStateMachine, encodeCommand } from './state-machine';

/** Node settings shared by every node of the cluster (the RaftNode options minus the per-node ones). */
export type RaftSettings = Omit<RaftNodeOptions, 'id' | 'storage' | 'random' | 'applied'>;

export interface ClusterOptions extends RaftSettings {
  /** Ids of the initial voters. Default: `n1`…`n<size>`. */
  ids?: NodeId[];
  /** Number of initial voters when `ids` is not given. Default 3. */
  size?: number;
  /** The one seed every random choice derives from. Default 1. */
  seed?: number;
  /** Snapshot and compact once this many entries were applied past the last snapshot; 0 never does. */
  snapshotEvery?: number;
  network?: NetworkOptions;
  /** Check the safety invariants as the cluster runs. Default true (the benchmark turns it off). */
  checkInvariants?: boolean;
}

/** Where in the Ready loop an armed crash strikes. */
export type CrashPoint = 'beforePersist' | 'afterPersist' | 'afterSend' | 'afterApply';

/** One laptop: its durable storage and state machine, and the running node (null when down). */
export class SimNode implements CheckedNode {
  raft: RaftNode | null = null;
  /** Read answers received, in order. */
  readonly readStates: ReadState[] = [];
  incarnation = 0;
  /** Stopped for good (removed from the cluster): `restartAll` leaves it down. */
  stopped = false;
  crashArmed: { point: CrashPoint; when: (ready: Ready) => boolean } | null = null;

  constructor(
    readonly id: NodeId,
    /** What is durable; the running node reads it and the Ready loop writes it. */
    public storage: MemoryStorage,
    /** Durable along with its applied index. */
    readonly sm: KvStateMachine = new KvStateMachine(),
  ) {}

  get alive(): boolean {
    return this.raft !== null;
  }

  status(): Status | null {
    return this.raft?.status() ?? null;
  }
}

/** Rounds of deliver-then-Ready within one tick before the cluster is declared livelocked. */
const MAX_ROUNDS_PER_TICK = 100_000;

export class Cluster {
  readonly seed: number;
  readonly network: Network;
  readonly checker = new SafetyChecker();
  readonly electionTicks: number;
  /** Logical time in ticks. */
  now = 0;
  private readonly random: RandomSource;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly settings: RaftSettings;
  private readonly snapshotEvery: number;
  private readonly checking: boolean;
  /** Term of what was applied at each index, by whoever applied it first. */
  private readonly appliedTerms: number[] = [];
  private valueCounter = 0;

  constructor(options: ClusterOptions = {}) {
    const { ids, size = 3, seed = 1, snapshotEvery = 0, network, checkInvariants = true, ...settings } = options;
    this.seed = seed;
    this.random = seededRandom(seed);
    this.settings = settings;
    this.electionTicks = settings.electionTicks ?? 10;
    this.snapshotEvery = snapshotEvery;
    this.checking = checkInvariants;
    this.network = new Network(seededRandom(this.nextSeed()), network);
    const voters = ids ?? Array.from({ length: size }, (_, i) => `n${i + 1}`);
    for (const id of voters) {
      const node = new SimNode(id, MemoryStorage.bootstrap(voters));
      this.nodes.set(id, node);
      this.start(node);
    }
  }

  private nextSeed(): number {
    return Math.floor(this.random() * 2 ** 32);
  }

  // ---- nodes -------------------------------------------------------------------------------

  /** Every node ever created, up or down. */
  ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  liveIds(): NodeId[] {
    return this.ids().filter((id) => this.nodes.get(id)!.alive);
  }

  sim(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** The running RaftNode of `id` (throws if it is down). */
  node(id: NodeId): RaftNode {
    const raft = this.sim(id).raft;
    if (!raft) throw new Error(`node ${id} is down`);
    return raft;
  }

  status(id: NodeId): Status {
    return this.node(id).status();
  }

  stateMachine(id: NodeId): KvStateMachine {
    return this.sim(id).sm;
  }

  /** The state machine's values (normal commands applied since its last snapshot restore). */
  values(id: NodeId): string[] {
    return this.sim(id).sm.values();
  }

  /** The leader with the highest term among the running nodes, or null. */
  leader(): NodeId | null {
    let best: Status | null = null;
    for (const node of this.nodes.values()) {
      const status = node.status();
      if (status?.role === 'leader' && (!best || status.term > best.term)) best = status;
    }
    return best?.id ?? null;
  }

  /** Running nodes other than the leader. */
  followers(): NodeId[] {
    const leader = this.leader();
    return this.liveIds().filter((id) => id !== leader);
  }

  /** The membership as the current leader has applied it. */
  config(): ConfState {
    const leader = this.leader();
    if (!leader) throw new Error(`no leader (tick ${this.now}, seed ${this.seed})`);
    return this.status(leader).config;
  }

  /**
   * Make `id` campaign (without ticking) until it leads; losing a round can be needed when
   * others already voted in the next term. Throws if it cannot win.
   */
  elect(id: NodeId, attempts = 3): void {
    for (let i = 0; i < attempts; i++) {
      this.node(id).campaign();
      this.settle();
      if (this.status(id).role === 'leader') return;
    }
    throw new Error(`${id} could not win an election (tick ${this.now}, seed ${this.seed})`);
  }

  /** A new, empty laptop (not a member until a leader adds it). */
  addNode(id: NodeId): SimNode {
    if (this.nodes.has(id)) throw new Error(`node ${id} exists`);
    const node = new SimNode(id, new MemoryStorage());
    this.nodes.set(id, node);
    this.start(node);
    return node;
  }

  /** Power off `id`: everything not yet persisted is lost, and so is its traffic in flight. */
  crash(id: NodeId): void {
    const node = this.sim(id);
    if (!node.alive) return;
    node.raft = null;
    node.crashArmed = null;
    this.network.discard(id);
  }

  /** Crash `id` for good (it was removed); `restartAll` leaves it down. */
  stop(id: NodeId): void {
    this.crash(id);
    this.sim(id).stopped = true;
  }

  /** Crash `id` at `point` of the next Ready for which `when` holds (default: the next Ready). */
  crashDuringReady(id: NodeId, point: CrashPoint, when: (ready: Ready) => boolean = () => true): void {
    this.sim(id).crashArmed = { point, when };
  }

  /** Start `id` again from exactly what it persisted. */
  restart(id: NodeId): void {
    const node = this.sim(id);
    if (node.alive) throw new Error(`node ${id} is running`);
    node.storage = node.storage.clone();
    node.stopped = false;
    this.start(node);
  }

  /** Restart every crashed node that was not stopped for good. */
  restartAll(): void {
    for (const node of this.nodes.values()) if (!node.alive && !node.stopped) this.restart(node.id);
  }

  private start(node: SimNode): void {
    node.incarnation++;
    if (this.checking) this.checker.started(node.id, node.storage, node.sm.applied);
    const snapshot = node.storage.snapshot();
    if (snapshot.meta.index > node.sm.applied) {
      // A snapshot was persisted but the crash came before the state machine restored it.
      node.sm.restore(snapshot);
      if (this.checking) this.checker.appliedSnapshot(node.id, snapshot, node.storage.hardStateNow().term);
    }
    node.raft = new RaftNode({
      ...this.settings,
      id: node.id,
      storage: node.storage,
      random: seededRandom(this.nextSeed()),
      applied: node.sm.applied,
    });
  }

  // ---- time and traffic ----------------------------------------------------------------------

  /** Advance time by `n` ticks; each tick delivers what is due and runs every Ready loop. */
  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.now++;
      this.checker.now = this.now;
      for (const node of this.nodes.values()) node.raft?.tick();
      this.settle();
    }
  }

  /** Deliver what is due and run Ready loops until nothing moves, without advancing time. */
  settle(): void {
    try {
      this.pump();
      if (this.checking) this.checker.checkAll(this.nodes.values());
    } catch (error) {
      if (error instanceof InvariantViolation) error.message += ` (seed ${this.seed})`;
      throw error;
    }
  }

  private pump(): void {
    for (let round = 0; ; round++) {
      if (round > MAX_ROUNDS_PER_TICK) throw new Error(`the cluster never went quiet at tick ${this.now} (seed ${this.seed})`);
      let busy = false;
      for (let m = this.network.nextDue(this.now); m; m = this.network.nextDue(this.now)) {
        busy = true;
        this.nodes.get(m.to)?.raft?.step(m);
      }
      for (const node of this.nodes.values()) {
        while (node.raft?.hasReady()) {
          busy = true;
          this.handleReady(node);
        }
      }
      if (!busy) return;
    }
  }

  /** One pass of the Ready loop, in the documented order. */
  private handleReady(node: SimNode): void {
    const raft = node.raft!;
    const ready = raft.ready();
    const armed = node.crashArmed;
    const crashAt = armed && armed.when(ready) ? armed.point : null;
    if (crashAt === 'beforePersist') return this.crash(node.id);

    // 1. Persist snapshot, entries and hard state (one durable write).
    if (this.checking) this.checker.beforePersist(node.id, node.storage, ready);
    if (ready.snapshot) node.storage.applySnapshot(ready.snapshot);
    node.storage.append(ready.entries);
    if (ready.hardState) node.storage.setHardState(ready.hardState);
    if (this.checking) this.checker.afterPersist(node.id, node.storage, ready);
    if (crashAt === 'afterPersist') return this.crash(node.id);

    // 2. Only then send.
    for (const message of ready.messages) this.network.send(message, this.now);
    if (crashAt === 'afterSend') return this.crash(node.id);

    // 3. Apply: the state machine and its applied index change together.
    const term = node.storage.hardStateNow().term;
    if (ready.snapshot) {
      node.sm.restore(ready.snapshot);
      if (this.checking) this.checker.appliedSnapshot(node.id, ready.snapshot, term);
    }
    for (const entry of ready.committedEntries) {
      node.sm.apply(entry);
      this.appliedTerms[entry.index] ??= entry.term;
      if (this.checking) this.checker.appliedEntry(node.id, node.storage, entry, node.sm.digest, term);
    }
    for (const readState of ready.readStates) {
      node.readStates.push(readState);
      if (this.checking) this.checker.readAnswered(node.id, readState);
    }
    if (crashAt === 'afterApply') return this.crash(node.id);

    // 4. Advance, then compact if the log grew long.
    raft.advance();
    this.maybeSnapshot(node, raft);
    if (this.checking) this.checker.observed(node.id, raft.status());
  }

  private maybeSnapshot(node: SimNode, raft: RaftNode): void {
    if (this.snapshotEvery <= 0) return;
    const applied = node.sm.applied;
    if (applied - node.storage.snapshot().meta.index < this.snapshotEvery) return;
    node.storage.createSnapshot(applied, raft.confState(), node.sm.encode());
  }

  /** Tick until `predicate` holds; throws, naming `what`, if `maxTicks` pass first. */
  runUntil(predicate: () => boolean, maxTicks: number, what = 'the condition'): void {
    if (predicate()) return;
    for (let i = 0; i < maxTicks; i++) {
      this.tick();
      if (predicate()) return;
    }
    throw new Error(`${what} did not happen within ${maxTicks} ticks (tick ${this.now}, seed ${this.seed})\n${this.describe()}`);
  }

  /** One line per node: what it is, its term, log and state machine (for failure messages). */
  describe(): string {
    return this.ids()
      .map((id) => {
        const node = this.sim(id);
        const status = node.status();
        const stored = `log ${node.storage.firstIndex()}..${node.storage.lastIndex()} applied ${node.sm.applied}`;
        if (!status) return `  ${id}: down${node.stopped ? ' (stopped)' : ''}, ${stored}`;
        const config = `voters ${status.config.voters.join(',')}` +
          (status.config.learners.length ? ` learners ${status.config.learners.join(',')}` : '') +
          (status.config.votersOutgoing.length ? ` outgoing ${status.config.votersOutgoing.join(',')}` : '');
        const progress = Object.entries(status.progress)
          .map(([peer, p]) => `${peer}:${p.state}/${p.match}/${p.next}${p.recentActive ? '' : '(inactive)'}${p.pendingSnapshot ? `/snap${p.pendingSnapshot}` : ''}`)
          .join(' ');
        return `  ${id}: ${status.role} term ${status.term} vote ${status.vote} leader ${status.leader} commit ${status.commit} ${stored} [${config}]${progress ? ` progress ${progress}` : ''}${status.leadTransferee ? ` transferring to ${status.leadTransferee}` : ''}`;
      })
      .join('\n');
  }

  /** Tick until some node leads; returns it. */
  waitForLeader(maxTicks = 20 * this.electionTicks): NodeId {
    this.runUntil(() => this.leader() !== null, maxTicks, 'electing a leader');
    return this.leader()!;
  }

  // ---- client operations ------------------------------------------------------------------------

  /** Term of what was applied at `index` (anywhere), if anything was. */
  appliedTerm(index: number): number | undefined {
    return this.appliedTerms[index];
  }

  /** A fresh unique value for a proposal. */
  nextValue(prefix = 'v'): string {
    return `${prefix}${++this.valueCounter}`;
  }

  /**
   * Propose `value` through whoever leads, retrying across leader changes and lost entries,
   * until it is committed (applied somewhere). Returns where it landed.
   */
  propose(value: string = this.nextValue(), maxTicks = 40 * this.electionTicks): { index: number; term: number } {
    return this.submit((raft) => raft.propose(encodeCommand(value)), maxTicks, `committing ${value}`);
  }

  /** Propose a membership change through whoever leads, retrying, until it is committed. */
  proposeConfChange(change: ConfChange, maxTicks = 40 * this.electionTicks): { index: number; term: number } {
    return this.submit((raft) => raft.proposeConfChange(change), maxTicks, `committing ${JSON.stringify(change)}`);
  }

  private submit(
    propose: (raft: RaftNode) => { index: number; term: number },
    maxTicks: number,
    what: string,
  ): { index: number; term: number } {
    const deadline = this.now + maxTicks;
    while (this.now < deadline) {
      const leader = this.leader();
      let placed: { index: number; term: number } | null = null;
      if (leader) {
        try {
          placed = propose(this.node(leader));
        } catch (error) {
          if (!(error instanceof NotLeaderError || error instanceof ProposalDroppedError)) throw error;
        }
      }
      if (!placed) {
        this.tick();
        continue;
      }
      this.settle();
      while (this.appliedTerms[placed.index] === undefined && !this.lost(placed) && this.now < deadline) this.tick();
      if (this.appliedTerms[placed.index] === placed.term) return placed;
      // Something else was committed at that index, or a newer leader lacks the entry and
      // will overwrite it: the proposal was lost; try again.
    }
    throw new Error(`${what} did not happen within ${maxTicks} ticks (tick ${this.now}, seed ${this.seed})\n${this.describe()}`);
  }

  /** Whether an uncommitted entry can be given up on: a leader of a later term does not hold it. */
  private lost(placed: { index: number; term: number }): boolean {
    const leader = this.leader();
    if (!leader) return false;
    const status = this.status(leader);
    if (status.term <= placed.term) return false;
    const storage = this.sim(leader).storage;
    return placed.index > storage.lastIndex() || (placed.index >= storage.firstIndex() && storage.term(placed.index) !== placed.term);
  }

  /** Tick until every running node in `ids` (default: all running nodes) applied `index`. */
  waitApplied(index: number, ids: NodeId[] = this.liveIds(), maxTicks = 40 * this.electionTicks): void {
    this.runUntil(
      () => ids.every((id) => !this.sim(id).alive || this.sim(id).sm.applied >= index),
      maxTicks,
      `applying ${index} on ${ids.join(',')}`,
    );
  }

  /** Tick until the entry proposed at `placed` is committed; throws if something else was committed there. */
  waitCommitted(placed: { index: number; term: number }, maxTicks = 40 * this.electionTicks): void {
    this.runUntil(() => this.appliedTerms[placed.index] !== undefined, maxTicks, `committing index ${placed.index}`);
    if (this.appliedTerms[placed.index] !== placed.term) {
      throw new Error(`index ${placed.index} committed in term ${this.appliedTerms[placed.index]}, not ${placed.term} (seed ${this.seed})`);
    }
  }

  /** Ask `id` for a read index, with the linearizability check armed. */
  readIndex(id: NodeId, requestId: string): void {
    this.checker.readRequested(id, requestId);
    this.node(id).readIndex(requestId);
  }
}
