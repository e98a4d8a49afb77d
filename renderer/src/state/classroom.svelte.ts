// The open class as this laptop's user sees it (members, assignments, refused commands), and
// every change they make to it. A change shows at once as pending; it is "saved" when the class
// applied it, and stays "waiting to be saved" while the class can't be reached (the peer keeps it
// in its outbox and delivers it later).
import type { ClassroomOverview } from '../../../shared/api';
import type { ClassroomCommand, RejectionCode } from '../../../shared/classroom/commands';
import type { MemberView } from '../../../shared/classroom/views';
import { explainError } from '../lib/errors';
import { notices } from './notices.svelte';
import { session } from './session.svelte';

/** How long a write may wait for the class before it is answered "pending", when the class is in reach. */
const WAIT_CONNECTED_MS = 4000;
/** When the class is out of reach, answer at once: the change is shown waiting rather than hanging. */
const WAIT_OFFLINE_MS = 250;

/** What became of a change. */
export type SubmitOutcome =
  | { kind: 'saved' }
  | { kind: 'refused'; code: RejectionCode; reason: string; currentVersion?: number }
  /** Kept on this laptop; it is sent when the class can be reached. */
  | { kind: 'waiting' }
  /** Not even handed to this laptop's Quorum service. */
  | { kind: 'failed'; message: string };

/** A change made here that the class has not applied yet. */
export interface PendingWrite {
  localId: number;
  classId: string;
  command: ClassroomCommand;
  /** What it is, for people: "Turn in Essay". */
  label: string;
  /** 'sending': asked, no answer yet; 'waiting': in the outbox until the class is reachable. */
  state: 'sending' | 'waiting';
  commandId: string | null;
}

export class ClassroomManager {
  /** The last overview read, of whichever class; `current` is the open class's. */
  overview = $state<ClassroomOverview | null>(null);
  /** A sentence when the class could not be read. */
  problem = $state<string | null>(null);
  pending = $state<PendingWrite[]>([]);

  readonly current: ClassroomOverview | null = $derived(this.overview?.classId === session.selectedClassId ? this.overview : null);
  readonly role = $derived(this.current?.me.role ?? null);
  /** This class's changes not yet saved, oldest first. */
  readonly pendingHere: PendingWrite[] = $derived(this.pending.filter((p) => p.classId === session.selectedClassId));

  private readSeq = 0;
  private nextLocalId = 1;
  /** Waiting changes the outbox has since let go of: applied or refused, which the next read tells. */
  private settled: PendingWrite[] = [];

  constructor() {
    session.onClassChanged((classId) => {
      if (classId === session.selectedClassId) void this.refresh();
    });
    session.onOutbox((classId, size) => this.outboxShrank(classId, size));
  }

  /** Read the open class again. */
  async refresh(): Promise<void> {
    const classId = session.selectedClassId;
    if (!classId || !session.ready) return;
    const seq = ++this.readSeq;
    try {
      const overview = await session.client.methods.classroom({ classId });
      if (seq !== this.readSeq) return;
      this.overview = overview;
      this.problem = null;
      this.reportSettled(overview);
    } catch (error) {
      if (seq === this.readSeq) this.problem = explainError(error);
    }
  }

  /** Send `command` to the open class; it shows as pending until the class answers. */
  async submit(command: ClassroomCommand, label: string): Promise<SubmitOutcome> {
    const classId = session.selectedClassId;
    if (!classId) return { kind: 'failed', message: 'Open a class first.' };
    const localId = this.nextLocalId++;
    this.pending = [...this.pending, { localId, classId, command, label, state: 'sending', commandId: null }];
    try {
      const waitMs = session.classConnected ? WAIT_CONNECTED_MS : WAIT_OFFLINE_MS;
      const outcome = await session.client.methods.submitCommand({ classId, command, waitMs });
      if (outcome.status === 'pending') {
        this.pending = this.pending.map((p) => (p.localId === localId ? { ...p, state: 'waiting', commandId: outcome.commandId } : p));
        return { kind: 'waiting' };
      }
      this.forget(localId);
      session.classChanged(classId, 0);
      const result = outcome.result;
      if (result.status === 'rejected') {
        return { kind: 'refused', code: result.code, reason: result.reason, ...(result.currentVersion !== undefined ? { currentVersion: result.currentVersion } : {}) };
      }
      return { kind: 'saved' };
    } catch (error) {
      this.forget(localId);
      return { kind: 'failed', message: explainError(error) };
    }
  }

  /** Remove a member (a teacher's action). */
  removeMember(member: MemberView): Promise<SubmitOutcome> {
    return this.submit({ type: 'removeMember', userId: member.userId }, `Remove ${member.displayName}`);
  }

  /** Make a member a teacher of the class (a teacher's action): they then see everyone's work and grades. */
  addTeacher(member: MemberView): Promise<SubmitOutcome> {
    return this.submit({ type: 'addTeacher', userId: member.userId }, `Make ${member.displayName} a teacher`);
  }

  /**
   * Re-admit `student`, who lost their laptop, as `newMember` (who joined from the new one): one
   * member from then on, the student, on the new laptop (a teacher's action).
   */
  readmitStudent(newMember: MemberView, student: MemberView): Promise<SubmitOutcome> {
    return this.submit({ type: 'readmitStudent', studentId: student.userId, newMemberId: newMember.userId }, `Re-admit ${student.displayName} on a new laptop`);
  }

  /** The name of the member using `laptopId`, or null. */
  ownerOfLaptop(laptopId: string): string | null {
    return this.current?.members.find((m) => m.laptops.includes(laptopId))?.displayName ?? null;
  }

  memberName(userId: string): string {
    return this.current?.members.find((m) => m.userId === userId)?.displayName ?? 'Someone';
  }

  /** The waiting changes of `classId` beyond what its outbox still holds have left it (oldest first). */
  private outboxShrank(classId: string, size: number): void {
    const waiting = this.pending.filter((p) => p.classId === classId && p.state === 'waiting');
    const gone = waiting.slice(0, Math.max(0, waiting.length - size));
    if (gone.length === 0) return;
    const goneIds = new Set(gone.map((p) => p.localId));
    this.pending = this.pending.filter((p) => !goneIds.has(p.localId));
    this.settled.push(...gone);
    session.classChanged(classId, 0);
  }

  /** Tell the person about waiting changes the class refused once they were delivered. */
  private reportSettled(overview: ClassroomOverview): void {
    const mine = this.settled.filter((p) => p.classId === overview.classId);
    if (mine.length === 0) return;
    this.settled = this.settled.filter((p) => p.classId !== overview.classId);
    for (const write of mine) {
      const refused = overview.rejections.find((r) => r.commandId === write.commandId);
      if (refused) notices.error(`Not saved: ${write.label}. ${refused.reason}`);
    }
  }

  private forget(localId: number): void {
    this.pending = this.pending.filter((p) => p.localId !== localId);
  }
}

export const classroom = new ClassroomManager();
