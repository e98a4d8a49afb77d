import type { NodeId } from './types';

/** Outcome of counting votes. `pending` means the outcome still depends on votes not yet in. */
export type VoteResult = 'pending' | 'lost' | 'won';

/**
 * The highest index acknowledged by a majority of `voters`, given each voter's match index.
 * An empty voter set imposes no constraint (so a joint config with one empty half is the
 * other half alone).
 */
export function majorityCommitted(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number | undefined): number {
  if (voters.size === 0) return Number.MAX_SAFE_INTEGER;
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id) ?? 0);
  matches.sort((a, b) => b - a);
  return matches[Math.floor(voters.size / 2)]!;
}

/** Result of an election among `voters`; an empty voter set wins by convention. */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const needed = Math.floor(voters.size / 2) + 1;
  if (granted >= needed) return 'won';
  if (granted + missing >= needed) return 'pending';
  return 'lost';
}

/** A configuration's voters: `incoming` always, `outgoing` too while in joint consensus. */
export interface JointVoters {
  incoming: ReadonlySet<NodeId>;
  outgoing: ReadonlySet<NodeId>;
}

/** Joint consensus needs both halves: the committed index is the lower of the two. */
export function jointCommitted(voters: JointVoters, matchOf: (id: NodeId) => number | undefined): number {
  const index = Math.min(majorityCommitted(voters.incoming, matchOf), majorityCommitted(voters.outgoing, matchOf));
  // With no voters at all nothing can be committed.
  return index === Number.MAX_SAFE_INTEGER ? 0 : index;
}

/** An election in joint consensus is won only when won in both halves, lost if lost in either. */
export function jointVoteResult(voters: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVoteResult(voters.incoming, votes);
  const b = majorityVoteResult(voters.outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}

/** Every voter of either half. */
export function allVoters(voters: JointVoters): Set<NodeId> {
  return new Set([...voters.incoming, ...voters.outgoing]);
}
