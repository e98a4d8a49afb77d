// A class's door when its teacher approves each student: a laptop that proved the join code but
// that no teacher has let in yet is not given the way in. It is told to wait, and the laptop at
// the door records its request in the class's log (signed by this laptop's user, naming the
// laptop the transport authenticated, never one the asker names), so every teacher's laptop sees
// who asks. A laptop asks at every door it finds, every second: each door records it once.
import { LIMITS } from '../../shared/classroom/commands';
import { joinStanding, waitingCount } from '../classroom';
import type { ClassRuntime } from './class-runtime';
import type { Logger } from './transport/types';

export const WAITING_FOR_TEACHER = 'Waiting for your teacher to let you in.';
const NOT_LET_IN = 'Your teacher did not let this laptop into the class. Ask your teacher if that was a mistake.';
const TOO_OLD = 'This laptop’s Quorum is too old to ask the teacher to let you in. Update Quorum, then join again.';
const TOO_MANY = 'Too many people are waiting for the teacher to let them in. Ask your teacher, and try again in a minute.';
/** How long a request this door sent is trusted to be on its way before it is sent again. */
const RECORD_AGAIN_MS = 30_000;

/** What the door needs of the peer. */
export interface DoorApprovalsContext {
  /** Whether this laptop's user is a current member of the class (only a member may record a request). */
  isMember: (runtime: ClassRuntime) => boolean;
  /** Send a signed requestToJoin for `laptopId` asking as `displayName`; resolves when sent or kept to send. */
  record: (runtime: ClassRuntime, laptopId: string, displayName: string) => Promise<unknown>;
  logger: Logger;
}

export class DoorApprovals {
  /** `classId \n laptopId` → when this door last sent the laptop's request. */
  private readonly recorded = new Map<string, number>();

  constructor(private readonly context: DoorApprovalsContext) {}

  /**
   * What approval says to `laptopId`, asking as `displayName` (null: a laptop too old to say) at
   * the door of `runtime`'s class: null when it may be given its ticket, else the reply.
   */
  answer(runtime: ClassRuntime, laptopId: string, displayName: string | null): { refused: string } | { waiting: string } | null {
    const db = runtime.storage.database;
    const standing = joinStanding(db, laptopId);
    if (standing === 'open' || standing === 'member' || standing === 'approved') return null;
    if (standing === 'refused') return { refused: NOT_LET_IN };
    if (standing === 'waiting') return { waiting: WAITING_FOR_TEACHER };
    if (displayName === null) return { refused: TOO_OLD };
    if (waitingCount(db) >= LIMITS.waitingJoinRequests) return { refused: TOO_MANY };
    this.recordOnce(runtime, laptopId, displayName);
    return { waiting: WAITING_FOR_TEACHER };
  }

  private recordOnce(runtime: ClassRuntime, laptopId: string, displayName: string): void {
    // A door laptop whose user is not in the class yet can't record it; another door will.
    if (!this.context.isMember(runtime)) return;
    const now = Date.now();
    for (const [key, at] of this.recorded) if (now - at > RECORD_AGAIN_MS) this.recorded.delete(key);
    const key = `${runtime.classId}\n${laptopId}`;
    if (this.recorded.has(key)) return;
    this.recorded.set(key, now);
    this.context
      .record(runtime, laptopId, displayName)
      .catch((error: unknown) => this.context.logger.warn('could not record a request to join', { laptopId, error: String(error) }));
  }
}
