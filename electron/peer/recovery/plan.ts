// Deciding whether a class may be recovered, and from which laptop. Pure: the peer gathers
// what each reachable laptop holds and this decides, so the rules are tested on their own.
import type { RecoveryPlan } from '../../../shared/api';
import type { LogPosition } from './protocol';

export interface RecoveryInput {
  classId: string;
  self: string;
  /** Whether this laptop is one of the class's teachers' (only they may recover it). */
  isTeacher: boolean;
  /** The voters as this laptop knows them. */
  voters: string[];
  /** This laptop's position and every laptop that answered a probe, by laptop id. */
  positions: Map<string, LogPosition>;
}

/** What recovering now would do, or why it is not possible; `source` rebuilds the class. */
export function planRecovery(input: RecoveryInput): RecoveryPlan {
  const { classId, self, voters, positions } = input;
  const reachable = [...positions.keys()].sort();
  const unreachableVoters = voters.filter((id) => !positions.has(id)).sort();
  const source = mostComplete(self, positions);
  const base = { classId, reachable, unreachableVoters, source, warning: '' };
  const refuse = (reason: string): RecoveryPlan => ({ ...base, possible: false, reason });

  if (!input.isTeacher) return refuse('Only a teacher’s laptop can recover the class.');
  const leader = [...positions.values()].map(liveLeader).find((id) => id !== null) ?? null;
  if (leader !== null) return refuse('The class has a leader right now, so it does not need recovering.');
  const reachableVoters = voters.filter((id) => positions.has(id)).length;
  const quorum = Math.floor(voters.length / 2) + 1;
  if (reachableVoters >= quorum) {
    return refuse(
      `${reachableVoters} of the class’s ${voters.length} voting laptops are here, enough to choose a leader by themselves: give them a few seconds.`,
    );
  }
  const missing = unreachableVoters.length;
  return {
    ...base,
    possible: true,
    reason: `Only ${reachableVoters} of the class’s ${voters.length} voting laptops can be reached, so the class cannot save anything.`,
    warning:
      `Recovering rebuilds the class from the most complete copy here` +
      `${source && source.laptopId === self ? ' (this laptop)' : ''}. ` +
      `Anything saved only on the ${missing} voting laptop${missing === 1 ? '' : 's'} that ${missing === 1 ? 'is' : 'are'} not here will be lost, ` +
      `and when ${missing === 1 ? 'it comes' : 'they come'} back ${missing === 1 ? 'it takes' : 'they take'} the recovered copy instead.`,
  };
}

/**
 * How recently a laptop must have heard from its leader for that leader to count as there. A
 * learner never campaigns, so it names its last leader long after that leader is gone; a
 * leader in reach is heard from every heartbeat (100 ms).
 */
export const LIVE_LEADER_MS = 1500;

/** The leader `position` reports, if it heard from it recently. */
export function liveLeader(position: LogPosition): string | null {
  const { leader, leaderContactMs } = position;
  return leader !== null && leaderContactMs !== null && leaderContactMs < LIVE_LEADER_MS ? leader : null;
}

/** The laptop whose log Raft would call most up to date (last term, then length); this one on a tie. */
function mostComplete(self: string, positions: Map<string, LogPosition>): RecoveryPlan['source'] {
  let best: [string, LogPosition] | null = null;
  for (const entry of positions) {
    const [id, p] = entry;
    if (!best) {
      best = entry;
      continue;
    }
    const b = best[1];
    const better = p.lastTerm > b.lastTerm || (p.lastTerm === b.lastTerm && (p.lastIndex > b.lastIndex || (p.lastIndex === b.lastIndex && id === self)));
    if (better) best = entry;
  }
  return best ? { laptopId: best[0], lastIndex: best[1].lastIndex, applied: best[1].applied } : null;
}
