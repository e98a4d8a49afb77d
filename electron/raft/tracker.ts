import { emptyConfig, members, type Config } from './config';
import { Progress } from './progress';
import { jointCommitted, jointVoteResult, type VoteResult } from './quorum';
import type { NodeId } from './types';

/** The configuration together with the leader's progress of every member, and election votes. */
export class ProgressTracker {
  config: Config = emptyConfig();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(
    private readonly maxInflightMsgs: number,
    private readonly maxInflightBytes: number,
  ) {}

  /** Adopt `config`: new members get a fresh progress starting at `nextIndex`, departed ones are dropped. */
  setConfig(config: Config, nextIndex: number): void {
    this.config = config;
    const all = members(config);
    for (const id of [...this.progress.keys()]) if (!all.has(id)) this.progress.delete(id);
    for (const id of all) {
      const isLearner = config.learners.has(id);
      const existing = this.progress.get(id);
      if (existing) existing.isLearner = isLearner;
      else this.progress.set(id, this.newProgress(nextIndex, isLearner));
    }
  }

  newProgress(nextIndex: number, isLearner: boolean): Progress {
    // Newly added members count as active so CheckQuorum doesn't depose the leader at once.
    const progress = new Progress(nextIndex, isLearner, this.maxInflightMsgs, this.maxInflightBytes);
    progress.recentActive = true;
    return progress;
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  /** Voters of both halves, in a stable order so runs replay exactly. */
  voterIds(): NodeId[] {
    return [...new Set([...this.config.voters.incoming, ...this.config.voters.outgoing])].sort();
  }

  /** Every member other than `self`, in a stable order. */
  peers(self: NodeId): NodeId[] {
    return [...this.progress.keys()].filter((id) => id !== self).sort();
  }

  /** The highest index replicated on a quorum of voters. */
  committed(): number {
    return jointCommitted(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  /** Whether only one voter exists and it is `id`: it decides alone. */
  isSingleton(id: NodeId): boolean {
    return this.config.voters.outgoing.size === 0 && this.config.voters.incoming.size === 1 && this.config.voters.incoming.has(id);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return jointVoteResult(this.config.voters, this.votes);
  }

  /** Whether a quorum of voters was heard from recently (CheckQuorum); `self` always counts. */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, progress] of this.progress) {
      if (this.isVoter(id)) active.set(id, id === self || progress.recentActive);
    }
    return jointVoteResult(this.config.voters, active) === 'won';
  }
}
