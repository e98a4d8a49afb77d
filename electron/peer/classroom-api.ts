// The classroom part of the API, for one laptop's user: commands signed with the user's key and
// sent through the class's router (exactly once, kept in the outbox while the class can't be
// reached), and reads of the local copy, filtered for what this user may see.
import { randomBytes } from 'node:crypto';
import type { ClassroomOverview, CommandOutcome } from '../../shared/api';
import type { ClassroomCommand, ClassroomResult } from '../../shared/classroom/commands';
import type { Gradebook, SubmissionView } from '../../shared/classroom/views';
import { assignments, currentJoinCode, currentMember, gradebook, gradebookCsv, members, Rejection, rejectionsFor, signCommand, submission } from '../classroom';
import { displayJoinCode } from '../../shared/join-code';
import type { ClassRuntime } from './class-runtime';
import { ServiceError } from './service';
import type { Identity } from './transport';

interface ClassInfoRow {
  name: string;
  subject: string;
}

export class ClassroomApi {
  constructor(
    /** This laptop's user: their key signs every command they make. */
    private readonly user: Identity,
    private readonly displayName: string,
  ) {}

  get userId(): string {
    return this.user.laptopId;
  }

  /** Sign `command` and send it; resolves once applied here, or `pending` after `waitMs`. */
  async submit(runtime: ClassRuntime, command: ClassroomCommand, waitMs = 5000): Promise<CommandOutcome> {
    const commandId = randomBytes(12).toString('base64url');
    const signed = signCommand(this.user, runtime.classId, command, { commandId });
    const outcome = await runtime.router.write(new TextEncoder().encode(JSON.stringify(signed)), waitMs);
    if (outcome.status === 'pending') return { status: 'pending', commandId };
    return { status: 'applied', result: this.resultOf(runtime, outcome.seq, commandId, command) };
  }

  overview(runtime: ClassRuntime): ClassroomOverview {
    const db = runtime.storage.database;
    const info = db.prepare('SELECT name, subject FROM class_info WHERE id = 1').get() as ClassInfoRow | undefined;
    const me = currentMember(db, this.userId);
    const base = { classId: runtime.classId, name: info?.name ?? '', subject: info?.subject ?? '', rejections: rejectionsFor(db, this.userId) };
    if (!me) return { ...base, joinCode: null, me: { userId: this.userId, displayName: this.displayName, role: null }, members: [], assignments: [] };
    return {
      ...base,
      joinCode: me.role === 'teacher' ? shownJoinCode(db) : null,
      me: { userId: this.userId, displayName: me.display_name, role: me.role },
      members: members(db, this.userId),
      assignments: assignments(db, this.userId),
    };
  }

  submission(runtime: ClassRuntime, assignmentId: string, studentId: string): SubmissionView {
    return asServiceError(() => submission(runtime.storage.database, this.userId, assignmentId, studentId, Date.now()));
  }

  gradebook(runtime: ClassRuntime): Gradebook {
    return asServiceError(() => gradebook(runtime.storage.database, this.userId, Date.now()));
  }

  exportGradebook(runtime: ClassRuntime): { csv: string } {
    return asServiceError(() => ({ csv: gradebookCsv(runtime.storage.database, this.userId, Date.now()) }));
  }

  /** The laptops of the class's current teachers, from its replicated state. */
  static teacherLaptops(runtime: ClassRuntime): string[] {
    const rows = runtime.storage.database
      .prepare(
        `SELECT DISTINCT l.laptop_id FROM member_laptops l JOIN members m ON m.user_id = l.user_id
         WHERE m.role = 'teacher' AND m.removed_at IS NULL ORDER BY l.laptop_id`,
      )
      .pluck()
      .all() as string[];
    return rows;
  }

  /** Laptops of removed members that no current member uses: they leave the Raft group. */
  static removedLaptops(runtime: ClassRuntime): string[] {
    return runtime.storage.database
      .prepare(
        `SELECT DISTINCT l.laptop_id FROM member_laptops l JOIN members m ON m.user_id = l.user_id WHERE m.removed_at IS NOT NULL
         AND l.laptop_id NOT IN (SELECT l2.laptop_id FROM member_laptops l2 JOIN members m2 ON m2.user_id = l2.user_id WHERE m2.removed_at IS NULL)
         ORDER BY l.laptop_id`,
      )
      .pluck()
      .all() as string[];
  }

  static className(runtime: ClassRuntime): string | null {
    return (runtime.storage.database.prepare('SELECT name FROM class_info WHERE id = 1').pluck().get() as string | undefined) ?? null;
  }

  /** What applying our command did: from the apply itself, else from the tables (after a restart). */
  private resultOf(runtime: ClassRuntime, seq: number, commandId: string, command: ClassroomCommand): ClassroomResult {
    const result = runtime.takeResult(seq);
    if (result?.kind === 'classroom') {
      const { kind: _kind, ...classroom } = result;
      return classroom;
    }
    const refused = rejectionsFor(runtime.storage.database, this.userId).find((r) => r.commandId === commandId);
    if (refused) return { status: 'rejected', code: refused.code, reason: refused.reason, commandId, authorId: this.userId };
    return { status: 'applied', type: command.type, commandId, authorId: this.userId, at: Date.now() };
  }
}

/** A rule's refusal as the API's error: its code and its sentence. */
function asServiceError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof Rejection) throw new ServiceError(error.code, error.reason);
    throw error;
  }
}

/** The class's join code as people read it, or null when none is in use. */
function shownJoinCode(db: import('better-sqlite3').Database): string | null {
  const code = currentJoinCode(db);
  return code === null ? null : displayJoinCode(code);
}
