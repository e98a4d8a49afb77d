// Recovering a class whose voting laptops went away (see README, "When the voting laptops have
// gone home"). Offered only on a teacher's laptop, and only once the class has been unable to
// save for a while with too few voting laptops in reach: a short election must not nag. The
// teacher first reads the plan (asking for it changes nothing), then confirms.
import type { ClassStatus, RecoveryPlan } from '../../../shared/api';
import { explainError } from '../lib/errors';
import { shortId } from '../lib/format';
import { classroom } from './classroom.svelte';
import { isInTouch, session } from './session.svelte';

/** How long the class must have had no leader, with too few voters in reach, before recovery is offered. */
const STUCK_AFTER_MS = 6000;
/** How often the page looks again (status events come every second). */
const LOOK_EVERY_MS = 1000;

export type RecoveryStep =
  /** Nothing asked yet. */
  | { kind: 'idle' }
  | { kind: 'checking' }
  | { kind: 'planned'; plan: RecoveryPlan }
  | { kind: 'recovering'; plan: RecoveryPlan }
  | { kind: 'recovered'; leader: string; away: string[] }
  /** Checking or recovering failed; `plan` is the last one read, if any. */
  | { kind: 'failed'; message: string; plan: RecoveryPlan | null };

export class RecoveryManager {
  /** Where the open class's recovery stands on this page. */
  step = $state<RecoveryStep>({ kind: 'idle' });
  /** Since when (this page's clock) the open class has been out of reach, or null while it is not. */
  private stuckSince = $state<{ classId: string; at: number } | null>(null);
  private now = $state(Date.now());
  /** The class `step` is about. */
  private stepClassId = $state<string | null>(null);
  private timer: ReturnType<typeof setInterval> | null = null;

  /**
   * Whether the open class can't save because too few of its voting laptops are in reach, on a
   * teacher's laptop: no leader heard, and fewer voters here (this laptop among them) than a majority.
   */
  readonly outOfReach: boolean = $derived(classroom.role === 'teacher' && session.problem === null && tooFewVoters(session.classStatus, session.node?.laptopId ?? null));

  /** Whether to offer recovery now: the class has been out of reach for a while. */
  readonly offered: boolean = $derived(
    this.outOfReach && this.stuckSince !== null && this.stuckSince.classId === session.selectedClassId && this.now - this.stuckSince.at >= STUCK_AFTER_MS,
  );

  /** What the open class's recovery panel shows: the offer, or a check or recovery under way or done. */
  readonly active: boolean = $derived(this.offered || (this.step.kind !== 'idle' && this.stepClassId === session.selectedClassId));

  /** Start looking at the open class. Idempotent. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.look(), LOOK_EVERY_MS);
  }

  /** Ask the class's laptops what recovering would do. Changes nothing. */
  async checkPlan(): Promise<void> {
    const classId = session.selectedClassId;
    if (!classId || this.busy) return;
    this.stepClassId = classId;
    const previous = this.lastPlan();
    this.step = { kind: 'checking' };
    try {
      const plan = await session.client.methods.recoveryPlan({ classId });
      if (this.stepClassId === classId) this.step = { kind: 'planned', plan };
    } catch (error) {
      if (this.stepClassId === classId) this.step = { kind: 'failed', message: explainError(error), plan: previous };
    }
  }

  /** Rebuild the class as the plan shown says; only after the teacher confirmed it. */
  async recover(): Promise<void> {
    const classId = session.selectedClassId;
    const plan = this.lastPlan();
    if (!classId || !plan || !plan.possible || this.busy) return;
    this.stepClassId = classId;
    this.step = { kind: 'recovering', plan };
    try {
      const { leader } = await session.client.methods.recoverClass({ classId, confirm: true });
      this.step = { kind: 'recovered', leader, away: plan.unreachableVoters };
      this.stuckSince = null;
      void session.refreshStatus();
    } catch (error) {
      this.step = { kind: 'failed', message: explainError(error), plan };
    }
  }

  /** Put the outcome away. */
  dismiss(): void {
    this.step = { kind: 'idle' };
    this.stepClassId = null;
  }

  /** "this laptop", "Ana’s laptop", or "laptop 3FQ7KD2M…" for one the class does not name. */
  laptopName(laptopId: string): string {
    if (laptopId === session.node?.laptopId) return 'this laptop';
    const owner = classroom.ownerOfLaptop(laptopId);
    return owner ? `${owner}’s laptop` : `laptop ${shortId(laptopId)}`;
  }

  private get busy(): boolean {
    return this.step.kind === 'checking' || this.step.kind === 'recovering';
  }

  private lastPlan(): RecoveryPlan | null {
    const step = this.step;
    return step.kind === 'planned' || step.kind === 'recovering' || step.kind === 'failed' ? step.plan : null;
  }

  private look(): void {
    this.now = Date.now();
    const classId = session.selectedClassId;
    if (!this.outOfReach || classId === null) this.stuckSince = null;
    else if (this.stuckSince?.classId !== classId) this.stuckSince = { classId, at: this.now };
  }
}

/** How many of the class's voting laptops this one can reach (itself counted), of how many. */
export function votersInReach(status: ClassStatus, self: string): { here: number; total: number } {
  const connected = new Set(status.peers.filter((peer) => peer.connected).map((peer) => peer.laptopId));
  return { here: status.voters.filter((id) => id === self || connected.has(id)).length, total: status.voters.length };
}

/** No leader in touch, and fewer voting laptops in reach than a majority of the voters. */
export function tooFewVoters(status: ClassStatus | null, self: string | null): boolean {
  // A laptop that stopped following the class is no place to rebuild it from.
  if (!status || self === null || status.stopped !== null || isInTouch(status) || status.voters.length === 0) return false;
  const { here, total } = votersInReach(status, self);
  return here < Math.floor(total / 2) + 1;
}

export const recovery = new RecoveryManager();
