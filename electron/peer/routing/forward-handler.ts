// The leader's side of forwarding: a follower's request, answered after the write is applied
// here, for laptops in the class's group only. A laptop that doesn't lead says who does, so the follower can retry there.
import { NotLeaderError, ProposalDroppedError } from '../../raft';
import type { RaftGroup } from '../group/raft-group';
import { decodeForwardRequest, encodeForwardReply, type ForwardReply } from './forward-protocol';
import { stampWrite } from './leader-stamp';

/** Handles a join request from `from` (the membership autopilot's business); answers like a write. */
export type JoinHandler = (request: { laptopId: string; token: string }, from: string) => Promise<ForwardReply>;

export async function answerForward(group: RaftGroup<unknown>, payload: Uint8Array, from: string, onJoin: JoinHandler): Promise<Uint8Array> {
  const request = decodeForwardRequest(payload);
  if (!request) return encodeForwardReply({ kind: 'error', code: 'MALFORMED', message: 'the request could not be read' });
  if (!group.isLeader()) return encodeForwardReply({ kind: 'notLeader', leader: group.leader() });
  try {
    if (request.kind === 'join') return encodeForwardReply(await onJoin(request, from));
    // Only the class's own laptops write to it: one outside its group (holding the secret but never
    // admitted, say) is never proposed for, whatever it sends.
    const { voters, learners, votersOutgoing, learnersNext } = group.config();
    if (![...voters, ...learners, ...votersOutgoing, ...learnersNext].includes(from)) {
      return encodeForwardReply({ kind: 'error', code: 'NOT_ALLOWED', message: 'Only laptops of the class may write to it.' });
    }
    const applied = await group.propose(stampWrite(request.envelope, Date.now()));
    return encodeForwardReply({ kind: 'applied', index: applied.index });
  } catch (error) {
    if (error instanceof NotLeaderError) return encodeForwardReply({ kind: 'notLeader', leader: error.leader });
    if (error instanceof ProposalDroppedError) return encodeForwardReply({ kind: 'notLeader', leader: null });
    const message = error instanceof Error ? error.message : String(error);
    return encodeForwardReply({ kind: 'error', code: 'NOT_APPLIED', message });
  }
}
