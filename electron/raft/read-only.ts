import { jointVoteResult, type JointVoters } from './quorum';
import type { NodeId } from './types';

/** A linearizable read waiting for a quorum to confirm this node still leads. */
export interface PendingRead {
  /** The commit index when the read arrived: the read is safe once this is applied. */
  index: number;
  requestId: string;
  /** Who asked: this node, or a follower that forwarded it. */
  from: NodeId;
}

interface ReadRound {
  read: PendingRead;
  acks: Map<NodeId, boolean>;
}

/**
 * ReadIndex bookkeeping (Raft dissertation §6.4): each read is tagged with a heartbeat
 * context; once a quorum answers that heartbeat, the read and every read queued before it
 * are safe to serve at their recorded index.
 */
export class ReadOnly {
  private readonly rounds = new Map<string, ReadRound>();
  private queue: string[] = [];

  add(context: string, read: PendingRead): void {
    if (this.rounds.has(context)) return;
    this.rounds.set(context, { read, acks: new Map() });
    this.queue.push(context);
  }

  /** Record that `from` answered the heartbeat of `context`; returns whether a quorum has now. */
  recvAck(context: string, from: NodeId, voters: JointVoters): boolean {
    const round = this.rounds.get(context);
    if (!round) return false;
    round.acks.set(from, true);
    return jointVoteResult(voters, round.acks) === 'won';
  }

  /** Release the reads up to and including `context`, in arrival order. */
  advance(context: string): PendingRead[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return released.map((ctx) => {
      const read = this.rounds.get(ctx)!.read;
      this.rounds.delete(ctx);
      return read;
    });
  }

  /** The context of the newest pending read, if any (a new heartbeat can confirm them all). */
  lastPending(): string | undefined {
    return this.queue[this.queue.length - 1];
  }

  reset(): void {
    this.rounds.clear();
    this.queue = [];
  }
}
