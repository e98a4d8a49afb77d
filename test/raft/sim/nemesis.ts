// A randomized nemesis for the Raft core: for one seed, a 3- or 5-node cluster lives through
// partitions (symmetric and one-way), crashes at any point of the Ready loop, restarts,
// loss, duplication, long reordering, compaction, membership changes, transfers, reads and
// proposals, with every invariant checked after every step. Then the network heals and the
// cluster must commit again and converge within a bounded time.

import {
  ConfChangeError,
  InvalidArgumentError,
  NotLeaderError,
  ProposalDroppedError,
  seededRandom,
  type ConfChange,
  type ConfState,
  type NodeId,
  type RandomSource,
} from '../../../electron/raft/index';
import { Cluster, type CrashPoint } from './cluster';
import { encodeCommand } from './state-machine';

export interface NemesisOptions {
  /** Ticks of chaos before the network heals. Default 300. */
  chaosTicks?: number;
  /** Called with a line per fault injected, for replaying a seed by hand. */
  trace?: (line: string) => void;
}

/** What one run did, for the summary line. */
export interface NemesisReport {
  seed: number;
  size: number;
  ticks: number;
  proposals: number;
  committed: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  reads: number;
  snapshots: number;
  terms: number;
}

/** Proposals a client leaves uncommitted before it waits. */
const MAX_UNCOMMITTED = 32;

const pick = <T>(random: RandomSource, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (random: RandomSource, p: number) => random() < p;

/** Errors a client sees in normal operation and simply retries. */
const isExpectedRefusal = (error: unknown) =>
  error instanceof NotLeaderError || error instanceof ProposalDroppedError || error instanceof ConfChangeError;

const members = (config: ConfState): NodeId[] => [
  ...new Set([...config.voters, ...config.learners, ...config.votersOutgoing, ...config.learnersNext]),
];

export class Nemesis {
  readonly cluster: Cluster;
  private readonly random: RandomSource;
  private readonly trace: (line: string) => void;
  private readonly membership: boolean;
  private nextNodeNumber: number;
  private readonly everRemoved = new Set<NodeId>();
  private readCount = 0;
  readonly report: NemesisReport;

  constructor(seed: number, options: NemesisOptions) {
    this.random = seededRandom(seed);
    this.trace = options.trace ?? (() => {});
    const random = this.random;
    const size = chance(random, 0.5) ? 3 : 5;
    const electionTicks = pick(random, [5, 10]);
    const settings = {
      size,
      seed: Math.floor(random() * 2 ** 32),
      electionTicks,
      preVote: chance(random, 0.75),
      checkQuorum: chance(random, 0.75),
      snapshotEvery: pick(random, [0, 5, 20, 50]),
      snapshotChunkBytes: pick(random, [16, 256, 4096]),
      maxBytesPerMsg: pick(random, [64, 1024, 1 << 20]),
      maxInflightMsgs: pick(random, [1, 4, 256]),
      network: {
        maxDelay: pick(random, [0, 1, 2, 3]),
        dropRate: pick(random, [0, 0.01, 0.05, 0.1]),
        duplicateRate: pick(random, [0, 0.01, 0.05]),
        longDelayRate: pick(random, [0, 0, 0.01, 0.03]),
        longDelayTicks: 5 * electionTicks,
      },
    };
    this.membership = chance(random, 0.4);
    this.trace(`settings ${JSON.stringify({ ...settings, membership: this.membership })}`);
    this.cluster = new Cluster(settings);
    this.nextNodeNumber = size + 1;
    this.report = { seed, size, ticks: 0, proposals: 0, committed: 0, crashes: 0, partitions: 0, confChanges: 0, reads: 0, snapshots: 0, terms: 0 };
  }

  private log(line: string): void {
    this.trace(`t${this.cluster.now} ${line}`);
  }

  // ---- faults and requests -----------------------------------------------------------------

  chaosStep(): void {
    const random = this.random;
    if (chance(random, 0.3)) this.propose(1 + Math.floor(random() * 3));
    if (chance(random, 0.02)) this.changePartitions();
    if (chance(random, 0.015)) this.crashSomeone();
    for (const id of this.cluster.ids()) {
      const node = this.cluster.sim(id);
      if (!node.alive && !node.stopped && chance(random, 0.05)) {
        this.log(`restart ${id}`);
        this.cluster.restart(id);
      }
    }
    if (this.membership && chance(random, 0.02)) this.changeMembership();
    if (chance(random, 0.005)) this.campaign();
    if (chance(random, 0.005)) this.transfer();
    if (chance(random, 0.01)) this.read();
    if (chance(random, 0.01)) this.proposeOnFollower();
  }

  private liveNode(): NodeId | null {
    const live = this.cluster.liveIds();
    return live.length > 0 ? pick(this.random, live) : null;
  }

  private propose(count: number): void {
    const leader = this.cluster.leader();
    if (!leader) return;
    // Clients hold back when writes stop committing, as Quorum's peer bounds pending writes.
    const status = this.cluster.status(leader);
    if (status.lastIndex - status.commit >= MAX_UNCOMMITTED) return;
    for (let i = 0; i < count; i++) {
      const value = this.cluster.nextValue(`k${Math.floor(this.random() * 20)}=`);
      try {
        this.cluster.node(leader).propose(encodeCommand(value));
        this.report.proposals++;
      } catch (error) {
        if (!isExpectedRefusal(error)) throw error;
      }
    }
  }

  private proposeOnFollower(): void {
    const leader = this.cluster.leader();
    const follower = this.cluster.liveIds().find((id) => id !== leader && this.cluster.status(id).role !== 'leader');
    if (!follower) return;
    try {
      this.cluster.node(follower).propose(encodeCommand('misdirected'));
    } catch (error) {
      if (error instanceof NotLeaderError) return;
      throw error;
    }
    throw new Error(`propose on follower ${follower} did not throw NotLeaderError`);
  }

  private changePartitions(): void {
    const { network } = this.cluster;
    const ids = this.cluster.ids();
    this.report.partitions++;
    switch (Math.floor(this.random() * 4)) {
      case 0: {
        const id = pick(this.random, ids);
        this.log(`isolate ${id}`);
        network.isolate(id);
        break;
      }
      case 1: {
        const a = ids.filter(() => chance(this.random, 0.5));
        const b = ids.filter((id) => !a.includes(id));
        const oneWay = chance(this.random, 0.3);
        this.log(`partition ${a.join(',')} | ${b.join(',')}${oneWay ? ' (one way)' : ''}`);
        network.partition(a, b, { oneWay });
        break;
      }
      case 2: {
        const links = 1 + Math.floor(this.random() * 3);
        for (let i = 0; i < links; i++) {
          const from = pick(this.random, ids);
          const to = pick(this.random, ids);
          this.log(`cut ${from} -> ${to}`);
          network.cut(from, to);
        }
        break;
      }
      default:
        this.log('heal');
        network.heal();
    }
  }

  private crashSomeone(): void {
    const id = this.liveNode();
    if (!id) return;
    this.report.crashes++;
    if (chance(this.random, 0.5)) {
      this.log(`crash ${id}`);
      this.cluster.crash(id);
    } else {
      const point = pick<CrashPoint>(this.random, ['beforePersist', 'afterPersist', 'afterSend', 'afterApply']);
      this.log(`crash ${id} ${point} of its next Ready`);
      this.cluster.crashDuringReady(id, point);
    }
  }

  private campaign(): void {
    const id = this.liveNode();
    if (!id) return;
    this.log(`campaign ${id}`);
    this.cluster.node(id).campaign();
  }

  private transfer(): void {
    const leader = this.cluster.leader();
    if (!leader) return;
    const voters = this.cluster.status(leader).config.voters.filter((id) => id !== leader);
    if (voters.length === 0) return;
    const target = pick(this.random, voters);
    const via = chance(this.random, 0.5) ? leader : (this.liveNode() ?? leader);
    this.log(`transfer to ${target} via ${via}`);
    try {
      this.cluster.node(via).transferLeadership(target);
    } catch (error) {
      if (!(error instanceof NotLeaderError || error instanceof InvalidArgumentError)) throw error;
    }
  }

  private read(): void {
    const id = this.liveNode();
    if (!id) return;
    this.report.reads++;
    try {
      this.cluster.readIndex(id, `read${++this.readCount}`);
    } catch (error) {
      if (!(error instanceof NotLeaderError)) throw error;
    }
  }

  private changeMembership(): void {
    const leader = this.cluster.leader();
    if (!leader) return;
    const config = this.cluster.status(leader).config;
    const raft = this.cluster.node(leader);
    if (config.votersOutgoing.length > 0) {
      if (!config.autoLeave) this.proposeChange(raft, { changes: [] }, null);
      return;
    }
    const { voters, learners } = config;
    const options: (() => void)[] = [];
    if (this.cluster.ids().length < 8) {
      options.push(() => {
        const id = `n${this.nextNodeNumber++}`;
        this.proposeChange(raft, { changes: [{ type: 'addLearner', nodeId: id }] }, id);
      });
    }
    for (const learner of learners) {
      options.push(() => this.proposeChange(raft, { changes: [{ type: 'addVoter', nodeId: learner }] }, null));
      options.push(() => this.proposeChange(raft, { changes: [{ type: 'removeNode', nodeId: learner }] }, null));
    }
    if (voters.length > 2) {
      for (const voter of voters) {
        if (voter === leader && !chance(this.random, 0.2)) continue;
        options.push(() => this.proposeChange(raft, { changes: [{ type: 'addLearner', nodeId: voter }] }, null));
        options.push(() => this.proposeChange(raft, { changes: [{ type: 'removeNode', nodeId: voter }] }, null));
      }
    }
    if (learners.length > 0 && voters.length > 2) {
      const promote = pick(this.random, learners);
      const retire = pick(this.random, voters.filter((id) => id !== leader));
      const transition = pick(this.random, ['auto', 'jointImplicit', 'jointExplicit'] as const);
      options.push(() =>
        this.proposeChange(
          raft,
          {
            changes: [
              { type: 'addVoter', nodeId: promote },
              { type: chance(this.random, 0.5) ? 'addLearner' : 'removeNode', nodeId: retire },
            ],
            transition,
          },
          null,
        ),
      );
    }
    if (options.length > 0) pick(this.random, options)();
  }

  private proposeChange(raft: ReturnType<Cluster['node']>, change: ConfChange, newNode: NodeId | null): void {
    try {
      raft.proposeConfChange(change);
    } catch (error) {
      if (!isExpectedRefusal(error)) throw error;
      this.log(`conf change refused: ${JSON.stringify(change)} (${(error as Error).message})`);
      return;
    }
    this.log(`conf change ${JSON.stringify(change)}`);
    this.report.confChanges++;
    for (const c of change.changes) if (c.type === 'removeNode') this.everRemoved.add(c.nodeId);
    if (newNode) this.cluster.addNode(newNode);
  }

  // ---- recovery ------------------------------------------------------------------------------

  /** Heal everything and require a commit and convergence within `budget` ticks each. */
  recover(): void {
    const { cluster } = this;
    const budget = 20 * cluster.electionTicks;
    this.log('recover: heal, restart everyone');
    cluster.network.heal();
    cluster.network.configure({ dropRate: 0, duplicateRate: 0, longDelayRate: 0 });
    for (const id of cluster.ids()) cluster.sim(id).crashArmed = null;
    cluster.restartAll();
    this.stopNonMembers(this.mostAdvancedConfig(), (id) => this.everRemoved.has(id));

    const deadline = cluster.now + budget;
    // A joint configuration waiting for an explicit leave would never finish on its own.
    cluster.runUntil(() => cluster.leader() !== null, budget, 'electing a leader after healing');
    const config = cluster.status(cluster.leader()!).config;
    if (config.votersOutgoing.length > 0 && !config.autoLeave) {
      try {
        cluster.proposeConfChange({ changes: [] }, Math.max(1, deadline - cluster.now));
      } catch (error) {
        if (!(error instanceof ConfChangeError)) throw error; // someone left it meanwhile
      }
    }
    const placed = cluster.propose(cluster.nextValue('final='), Math.max(1, deadline - cluster.now));
    this.log(`recover: committed ${placed.index}/${placed.term}`);

    // Catching up is bounded by the settings' throughput (tiny messages, a window of one, slow
    // links), so the bound grows with how far behind the slowest member is.
    const slowest = Math.min(...cluster.liveIds().map((id) => cluster.stateMachine(id).applied));
    const catchUpTicks = 4 * Math.max(0, placed.index - slowest);
    cluster.runUntil(
      () => {
        const leader = cluster.leader();
        if (!leader) return false;
        const config = cluster.status(leader).config;
        this.stopNonMembers(config, (id) => this.everRemoved.has(id));
        return this.converged(members(config), leader);
      },
      budget + catchUpTicks,
      'convergence of the members',
    );
  }

  private mostAdvancedConfig(): ConfState {
    let best: { applied: number; config: ConfState } | null = null;
    for (const id of this.cluster.liveIds()) {
      const status = this.cluster.status(id);
      if (!best || status.applied > best.applied) best = { applied: status.applied, config: status.config };
    }
    return best!.config;
  }

  private stopNonMembers(config: ConfState, shouldStop: (id: NodeId) => boolean): void {
    const keep = new Set(members(config));
    for (const id of this.cluster.ids()) {
      if (!keep.has(id) && shouldStop(id) && !this.cluster.sim(id).stopped) {
        this.log(`stop ${id} (not a member)`);
        this.cluster.stop(id);
      }
    }
  }

  private converged(ids: NodeId[], leader: NodeId): boolean {
    const { cluster } = this;
    const first = cluster.stateMachine(ids[0]!);
    const commit = cluster.status(leader).commit;
    return ids.every((id) => {
      const sm = cluster.stateMachine(id);
      return cluster.sim(id).alive && sm.applied === commit && sm.applied === first.applied && sm.digest === first.digest;
    });
  }

  summarize(): NemesisReport {
    const { cluster, report } = this;
    report.ticks = cluster.now;
    report.terms = cluster.checker.leaders.size;
    report.committed = cluster.checker.maxApplied();
    report.snapshots = cluster.ids().filter((id) => cluster.sim(id).storage.snapshot().meta.index > 0).length;
    return report;
  }
}

/** Run one seed; throws (an InvariantViolation or a liveness error) if anything goes wrong. */
export function runNemesis(seed: number, options: NemesisOptions = {}): NemesisReport {
  const nemesis = new Nemesis(seed, options);
  const chaosTicks = options.chaosTicks ?? 300;
  for (let t = 0; t < chaosTicks; t++) {
    nemesis.chaosStep();
    nemesis.cluster.tick();
  }
  nemesis.recover();
  return nemesis.summarize();
}
