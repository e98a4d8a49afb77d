// Membership autopilot, run by the leader: laptops join as learners; the leader keeps a target
// number of voters (3, or 5 once 10 or more laptops are in the class), promoting the teacher's
// laptops first and then those healthy longest, and demotes a voter that has been unreachable
// for a while once a healthy learner can take its place and a quorum remains.
import { ProposalDroppedError, type Status } from '../raft';
import type { RaftGroup } from './group/raft-group';
import type { Logger } from './transport/types';

export interface AutopilotOptions {
  /** How often the leader reconsiders the voter set. */
  intervalMs: number;
  /** A voter unreachable this long is replaced. */
  replaceAfterMs: number;
  /** A learner counts as caught up within this many entries of the leader. */
  caughtUpEntries: number;
  /** Laptops to prefer as voters (the teachers'). */
  preferred: () => string[];
  /** Laptops that must leave the group and not be admitted again (their user was removed from the class). */
  excluded: () => string[];
}

/** A laptop refused admission: its user was removed from the class. */
export class AdmissionRefusedError extends Error {
  readonly code = 'NOT_ALLOWED';
  constructor(laptopId: string) {
    super(`laptop ${laptopId} belongs to someone removed from the class`);
    this.name = 'AdmissionRefusedError';
  }
}

const DEFAULTS: AutopilotOptions = {
  intervalMs: 500,
  replaceAfterMs: 30_000,
  caughtUpEntries: 100,
  preferred: () => [],
  excluded: () => [],
};

function isMember(status: Status, laptopId: string): boolean {
  const { voters, learners } = status.config;
  return voters.includes(laptopId) || learners.includes(laptopId);
}

/** Voters wanted for a class with this many laptops. */
export function targetVoters(laptops: number): number {
  return Math.min(laptops, laptops >= 10 ? 5 : 3);
}

export class Autopilot {
  private readonly options: AutopilotOptions;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Since when each laptop has been continuously healthy, or unhealthy. */
  private readonly healthySince = new Map<string, number>();
  private readonly unhealthySince = new Map<string, number>();
  private busy = false;
  /** Laptops asking to join, and who waits for each answer. */
  private readonly waitingToJoin = new Map<string, { resolve: (index: number) => void; reject: (error: Error) => void }[]>();
  private admitting: Promise<void> | null = null;

  constructor(
    private readonly group: RaftGroup<unknown>,
    private readonly connectedPeers: () => string[],
    private readonly logger: Logger,
    options: Partial<AutopilotOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Add `laptopId` as a learner unless it is already a member; resolves with an applied index.
   * Laptops asking while a change is under way are admitted together in the next one: a class
   * of thirty joining at once takes a few changes, not thirty in a row.
   */
  admit(laptopId: string): Promise<number> {
    if (this.options.excluded().includes(laptopId)) return Promise.reject(new AdmissionRefusedError(laptopId));
    const status = this.group.status();
    if (isMember(status, laptopId)) return Promise.resolve(status.applied);
    return new Promise((resolve, reject) => {
      const waiting = this.waitingToJoin.get(laptopId) ?? [];
      waiting.push({ resolve, reject });
      this.waitingToJoin.set(laptopId, waiting);
      this.admitting ??= this.admitWaiting().finally(() => (this.admitting = null));
    });
  }

  private async admitWaiting(): Promise<void> {
    while (this.waitingToJoin.size > 0) {
      const batch = new Map(this.waitingToJoin);
      this.waitingToJoin.clear();
      const newcomers = [...batch.keys()].filter((id) => !isMember(this.group.status(), id));
      try {
        const index = newcomers.length === 0 ? this.group.status().applied : await this.addLearners(newcomers);
        if (newcomers.length > 0) this.logger.info('laptops admitted as learners', { laptopIds: newcomers });
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.resolve(index);
      } catch (error) {
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error as Error);
      }
    }
  }

  private async addLearners(laptopIds: string[]): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const applied = await this.group.proposeConfChange({ changes: laptopIds.map((nodeId) => ({ type: 'addLearner', nodeId })) });
        return applied.index;
      } catch (error) {
        // Another membership change is being applied: wait for it, a few times.
        if (!(error instanceof ProposalDroppedError) || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** If this laptop leads, hand leadership to a caught-up voter and wait until it has moved. */
  async handOffLeadership(timeoutMs: number): Promise<void> {
    const status = this.group.status();
    if (status.role !== 'leader') return;
    const connected = new Set(this.connectedPeers());
    const target = status.config.voters
      .filter((id) => id !== status.id && connected.has(id))
      .sort((a, b) => (status.progress[b]?.match ?? 0) - (status.progress[a]?.match ?? 0))[0];
    if (!target) return;
    this.group.transferLeadership(target);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.group.isLeader()) await new Promise((resolve) => setTimeout(resolve, 20));
    this.logger.info(this.group.isLeader() ? 'leadership hand-off timed out' : 'leadership handed off', { to: target });
  }

  private async check(): Promise<void> {
    if (this.busy || !this.group.isLeader()) return;
    this.busy = true;
    try {
      const status = this.group.status();
      this.observeHealth(status);
      const change = this.nextChange(status);
      if (!change) return;
      this.logger.info('autopilot membership change', change);
      await this.group.proposeConfChange({ changes: [{ type: change.type, nodeId: change.laptopId }] });
    } catch (error) {
      this.logger.debug('autopilot change not made', { reason: String(error) });
    } finally {
      this.busy = false;
    }
  }

  private observeHealth(status: Status): void {
    const now = Date.now();
    const connected = new Set(this.connectedPeers());
    for (const [id, progress] of Object.entries(status.progress)) {
      const healthy = id === status.id || (connected.has(id) && progress.recentActive);
      if (healthy) {
        this.unhealthySince.delete(id);
        if (!this.healthySince.has(id)) this.healthySince.set(id, now);
      } else {
        this.healthySince.delete(id);
        if (!this.unhealthySince.has(id)) this.unhealthySince.set(id, now);
      }
    }
  }

  /** The one membership change to make now, if any. */
  private nextChange(status: Status): { type: 'addVoter' | 'addLearner' | 'removeNode'; laptopId: string } | null {
    const { voters, learners, votersOutgoing } = status.config;
    if (votersOutgoing.length > 0) return null; // a joint configuration is being left
    // A removed member's laptops leave first (never this laptop: it would have to hand off first).
    const excluded = new Set(this.options.excluded());
    const leaving = [...learners, ...voters].find((id) => excluded.has(id) && id !== status.id);
    if (leaving && (learners.includes(leaving) || voters.length > 1)) return { type: 'removeNode', laptopId: leaving };
    const now = Date.now();
    const healthy = (id: string) => this.healthySince.has(id);
    const caughtUp = (id: string) => (status.progress[id]?.match ?? 0) >= status.lastIndex - this.options.caughtUpEntries;
    const target = targetVoters(voters.length + learners.length);
    const preferred = new Set(this.options.preferred());
    const candidates = learners
      .filter((id) => healthy(id) && caughtUp(id))
      .sort((a, b) => Number(preferred.has(b)) - Number(preferred.has(a)) || this.healthySince.get(a)! - this.healthySince.get(b)!);

    if (voters.length < target && candidates[0]) return { type: 'addVoter', laptopId: candidates[0] };

    // Replace a voter gone too long, if a quorum of the others is healthy and someone can step in.
    const dead = voters.filter((id) => id !== status.id && now - (this.unhealthySince.get(id) ?? now) >= this.options.replaceAfterMs);
    const healthyVoters = voters.filter(healthy).length;
    const quorum = Math.floor(voters.length / 2) + 1;
    if (dead[0] && healthyVoters >= quorum && (candidates.length > 0 || voters.length > target)) {
      return { type: 'addLearner', laptopId: dead[0] };
    }
    return null;
  }
}
