// Class recovery, driven from a teacher's laptop: ask every reachable laptop of the class how
// much of it they hold, decide (plan.ts), and have the one holding most rebuild the class from
// its copy (ClassRuntime.recover). Never automatic: the teacher asks for it, having read the
// plan's warning, and the laptop that rebuilds checks again that a teacher asked and that the
// class really has no leader.
import type { RecoveryPlan } from '../../../shared/api';
import type { ClassRuntime } from '../class-runtime';
import { stoppedReason } from '../group/stopped-reason';
import { ServiceError } from '../service';
import type { Logger } from '../transport/types';
import { liveLeader, planRecovery } from './plan';
import { decodeRecoveryReply, decodeRecoveryRequest, encodeRecoveryReply, encodeRecoveryRequest, type LogPosition } from './protocol';

export interface RecoveryContext {
  laptopId: string;
  runtime: ClassRuntime;
  /** The class's teachers' laptops, from its replicated state. */
  teachers: () => string[];
  connectedPeers: () => string[];
  request: (to: string, payload: Uint8Array, timeoutMs: number) => Promise<Uint8Array>;
  logger: Logger;
}

const PROBE_TIMEOUT_MS = 2000;
const LEADER_WAIT_MS = 10_000;

/** How much of the class this laptop holds. */
export function logPosition(runtime: ClassRuntime): LogPosition {
  const status = runtime.group.status();
  const lastIndex = runtime.storage.lastIndex();
  return {
    term: status.term,
    lastIndex,
    lastTerm: runtime.storage.term(lastIndex),
    applied: status.applied,
    leader: status.leader,
    leaderContactMs: runtime.group.leaderContactMs(),
  };
}

/** Ask everyone reachable, then decide. Also returns the highest term anyone reported. */
export async function gatherPlan(context: RecoveryContext): Promise<{ plan: RecoveryPlan; minTerm: number }> {
  const { runtime, laptopId } = context;
  const positions = new Map<string, LogPosition>([[laptopId, logPosition(runtime)]]);
  const probe = encodeRecoveryRequest({ kind: 'probe' });
  await Promise.all(
    context.connectedPeers().map(async (peer) => {
      try {
        const reply = decodeRecoveryReply(await context.request(peer, probe, PROBE_TIMEOUT_MS));
        if (reply?.kind === 'probe') positions.set(peer, reply);
      } catch {
        // Not reachable after all: it counts as away.
      }
    }),
  );
  const { voters, votersOutgoing } = runtime.group.status().config;
  const plan = planRecovery({
    classId: runtime.classId,
    self: laptopId,
    isTeacher: context.teachers().includes(laptopId),
    voters: [...new Set([...voters, ...votersOutgoing])],
    positions,
  });
  const minTerm = Math.max(...[...positions.values()].map((p) => Math.max(p.term, p.lastTerm)));
  return { plan, minTerm };
}

/** Recover the class if the plan allows it; resolves once a leader is back. */
export async function recoverClass(context: RecoveryContext): Promise<{ leader: string; term: number }> {
  const stopped = stoppedReason(context.runtime.group.stoppedBy());
  if (stopped) throw new ServiceError('RECOVERY_NOT_POSSIBLE', stopped.message);
  const { plan, minTerm } = await gatherPlan(context);
  if (!plan.possible || !plan.source) throw new ServiceError('RECOVERY_NOT_POSSIBLE', plan.reason);
  const { runtime, laptopId, logger } = context;
  logger.warn('recovering the class', { classId: runtime.classId, source: plan.source.laptopId, away: plan.unreachableVoters });
  if (plan.source.laptopId === laptopId) {
    runtime.recover(minTerm);
  } else {
    let reply;
    try {
      reply = decodeRecoveryReply(
        await context.request(plan.source.laptopId, encodeRecoveryRequest({ kind: 'recover', minTerm }), PROBE_TIMEOUT_MS * 2),
      );
    } catch {
      throw new ServiceError('RECOVERY_FAILED', 'The laptop with the most complete copy of the class stopped answering. Try again.');
    }
    if (reply?.kind !== 'recovered') {
      const why = reply?.kind === 'refused' ? ` It said: ${reply.reason}` : '';
      throw new ServiceError('RECOVERY_FAILED', `The laptop with the most complete copy of the class did not rebuild it.${why}`);
    }
  }
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    const { leader, term } = runtime.group.status();
    if (leader !== null) return { leader, term };
    if (Date.now() > deadline) {
      throw new ServiceError('RECOVERY_FAILED', 'The class was rebuilt, but this laptop has not heard from its new leader yet.');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Another laptop's probe or recovery request for this class. `from` is authenticated by the transport. */
export function answerRecoveryRequest(context: RecoveryContext, from: string, payload: Uint8Array): Uint8Array {
  const request = decodeRecoveryRequest(payload);
  if (!request) return encodeRecoveryReply({ kind: 'refused', reason: 'the request could not be read' });
  const { runtime } = context;
  if (request.kind === 'probe') return encodeRecoveryReply({ kind: 'probe', ...logPosition(runtime) });
  // The asking laptop decided; this one checks that it may, with what it knows itself.
  if (!context.teachers().includes(from)) return encodeRecoveryReply({ kind: 'refused', reason: 'only a teacher’s laptop may recover the class' });
  if (runtime.group.stoppedBy() !== null) return encodeRecoveryReply({ kind: 'refused', reason: 'this laptop stopped following the class and must be restarted or updated first' });
  const leader = liveLeader(logPosition(runtime));
  if (leader !== null) return encodeRecoveryReply({ kind: 'refused', reason: `the class has a leader (${leader})` });
  context.logger.warn('rebuilding the class from this laptop, as a teacher’s laptop asked', { classId: runtime.classId, teacher: from });
  runtime.recover(request.minTerm);
  return encodeRecoveryReply({ kind: 'recovered', term: runtime.group.status().term });
}
