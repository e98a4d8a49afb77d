// The classroom part of the API, for one laptop's user: commands signed with the user's key and
// sent through the class's router (exactly once, kept in the outbox while the class can't be
// reached), and reads of the local copy, filtered for what this user may see. A draft (with the
// files it attaches), a grade and a comment are sealed here, before signing, for the people
// entitled to read them; reads open them with this user's box key. A teacher's laptop passes the
// keys it holds on to a new teacher.
import { randomBytes } from 'node:crypto';
import type { ClassroomOverview, CommandOutcome } from '../../shared/api';
import type { ClassroomCommand, ClassroomResult, FileRef, LogCommand } from '../../shared/classroom/commands';
import type { Gradebook, SubmissionView } from '../../shared/classroom/views';
import {
  approvesJoins,
  assignments,
  BoxOpener,
  classRules,
  currentJoinCode,
  currentMember,
  gradebook,
  gradebookCsv,
  joinStanding,
  laptopsBehindOn,
  members,
  noteableRules,
  Rejection,
  rejectionsFor,
  sealCommand,
  SealingError,
  shareKeysBatches,
  signCommand,
  signerOf,
  statement,
  submission,
  type BoxKeyPair,
  openJoinRequests,
  type ItemOpener,
} from '../classroom';
import type { SealedAttachment } from '../classroom/sealing/attachments';
import { displayJoinCode } from '../../shared/join-code';
import type { ClassRuntime } from './class-runtime';
import { ServiceError } from './service';
import type { Identity } from './transport';

interface ClassInfoRow {
  name: string;
  subject: string;
}

/** Seals the files a draft attaches, on this laptop, which holds them (ClassFiles). */
export interface AttachmentSealer {
  /** The draft's files sealed, in order; throws SealingError when one cannot be. */
  sealAttachments(runtime: ClassRuntime, opener: ItemOpener, assignmentId: string, files: readonly FileRef[]): Promise<SealedAttachment[]>;
}

/** How often a teacher's laptop looks for items a new teacher is waiting for, when the class is opened. */
const SHARE_CHECK_MS = 10_000;

export class ClassroomApi {
  /** Opens the items sealed for this user under their own user id. */
  readonly opener: BoxOpener;
  /** Openers for the ids this user acts as in some class (re-admitted there as a student they were before). */
  private readonly openers = new Map<string, BoxOpener>();
  /** Classes whose keys this laptop is passing on now, and when it last looked. */
  private readonly sharing = new Map<string, { running: boolean; lastCheck: number }>();
  /** The steps this laptop takes of itself (followRules, registerOnceLetIn) sent in this run, by class and kind. */
  private readonly ownSteps = new Set<string>();

  constructor(
    /** This laptop's user: their key signs every command they make. */
    private readonly user: Identity,
    private readonly displayName: string,
    /** The user's box key: items are sealed for its public half and opened with its private half. */
    private readonly box: BoxKeyPair,
    /** Seals a draft's files before the draft is sealed. */
    private readonly attachments: AttachmentSealer,
  ) {
    this.opener = new BoxOpener(user.laptopId, box);
  }

  /** The id this user's key gives; in a class that re-admitted them, they act as another (userIdIn). */
  get userId(): string {
    return this.user.laptopId;
  }

  /**
   * Who this user is in the class: their own id, or the student a teacher re-admitted them as
   * (read each time, so the UI follows a re-admission without a restart).
   */
  userIdIn(runtime: ClassRuntime): string {
    return signerOf(runtime.storage.database, this.userId, this.publicKey).userId;
  }

  /**
   * Opens the items sealed for this user as they are known in the class. Throws on a laptop whose
   * key was replaced (lost, then its owner re-admitted on another): it is no one in the class.
   */
  openerIn(runtime: ClassRuntime): BoxOpener {
    const { userId, replaced } = signerOf(runtime.storage.database, this.userId, this.publicKey);
    if (replaced) {
      throw new ServiceError('NOT_A_MEMBER', 'This laptop’s key was replaced when a teacher re-admitted its owner on another laptop, so it no longer opens this class.');
    }
    return this.openerAs(userId);
  }

  /** Opens the items sealed for this user's box key under `userId`. */
  private openerAs(userId: string): BoxOpener {
    if (userId === this.userId) return this.opener;
    let opener = this.openers.get(userId);
    if (!opener) this.openers.set(userId, (opener = new BoxOpener(userId, this.box)));
    return opener;
  }

  private get publicKey(): string {
    return Buffer.from(this.user.publicKey).toString('base64url');
  }

  /** Seal `command` where it has private parts, sign it and send it; resolves once applied here, or `pending` after `waitMs`. */
  async submit(runtime: ClassRuntime, command: ClassroomCommand, waitMs = 5000): Promise<CommandOutcome> {
    const commandId = randomBytes(12).toString('base64url');
    let sealed: LogCommand;
    try {
      // Sent even from a laptop whose key was replaced: the class refuses it, and says why.
      const opener = this.openerAs(this.userIdIn(runtime));
      const attachments = command.type === 'saveDraft' ? await this.attachments.sealAttachments(runtime, opener, command.assignmentId, command.files) : undefined;
      const author = { userId: opener.userId, boxKey: this.box.publicKey, opener };
      sealed = sealCommand(runtime.storage.database, runtime.classId, commandId, author, command, attachments);
    } catch (error) {
      // Refused here, before anything was sent: the author reads why, as from the class.
      if (!(error instanceof SealingError)) throw error;
      return { status: 'applied', result: { status: 'rejected', code: error.code, reason: error.reason, commandId, authorId: this.userIdIn(runtime) } };
    }
    const outcome = await this.send(runtime, sealed, commandId, waitMs);
    // A new teacher, or a re-admitted student's new box key, waits for the keys this laptop holds.
    const waitsForKeys = command.type === 'addTeacher' || command.type === 'readmitStudent';
    if (outcome.status === 'applied' && waitsForKeys && outcome.result.status === 'applied') void this.shareKeys(runtime).catch(() => undefined);
    return outcome;
  }

  /**
   * Give every current member the keys they are waiting for that this user can open (a teacher
   * added since, a student re-admitted with a new box key). Runs on a teacher's laptop after
   * adding a teacher or re-admitting a student, and when the class is opened; one run per class
   * at a time.
   */
  async shareKeys(runtime: ClassRuntime): Promise<number> {
    const state = this.sharing.get(runtime.classId) ?? { running: false, lastCheck: 0 };
    this.sharing.set(runtime.classId, state);
    if (state.running) return 0;
    state.running = true;
    state.lastCheck = Date.now();
    let shared = 0;
    try {
      const db = runtime.storage.database;
      const opener = this.openerIn(runtime);
      if (currentMember(db, opener.userId)?.role !== 'teacher') return 0;
      for (const batch of shareKeysBatches(db, runtime.classId, opener)) {
        const outcome = await this.send(runtime, batch, randomBytes(12).toString('base64url'), 10_000);
        if (outcome.status === 'applied' && outcome.result.status === 'applied') shared += batch.keys.length;
      }
    } finally {
      state.running = false;
    }
    return shared;
  }

  /**
   * Tell the class which rules this laptop's Quorum knows, and on a teacher's laptop move the
   * class onto them once every laptop of the class knows them (shared/classroom/rules.ts).
   * Each step is sent once per run of this laptop; a step kept in the outbox is delivered later.
   */
  followRules(runtime: ClassRuntime, laptopId: string, knownRules: number): void {
    const db = runtime.storage.database;
    let step: LogCommand | null = null;
    if (noteableRules(db, laptopId, knownRules)) {
      step = { type: 'noteRules', laptopId, rules: knownRules };
    } else if (classRules(db) < knownRules && laptopsBehindOn(db, knownRules).length === 0) {
      const me = currentMember(db, this.userIdIn(runtime));
      if (me?.role === 'teacher') step = { type: 'adoptRules', rules: knownRules };
    }
    if (!step) return;
    const key = `${runtime.classId} ${step.type} ${knownRules}`;
    if (this.ownSteps.has(key)) return;
    this.ownSteps.add(key);
    void this.send(runtime, step, randomBytes(12).toString('base64url'), 0).catch(() => this.ownSteps.delete(key));
  }

  /**
   * A laptop let in with the code before a teacher turned approval on, whose user registered only
   * after, was asked for by that registration (see joinClass); once a teacher lets it in, its
   * user registers again, now as a student. Sent once per run of this laptop.
   */
  registerOnceLetIn(runtime: ClassRuntime, laptopId: string): void {
    const db = runtime.storage.database;
    if (currentMember(db, this.userIdIn(runtime))) return;
    const asked = statement(db, 'SELECT display_name, state, recorded_by FROM join_requests WHERE laptop_id = ?').get(laptopId) as
      | { display_name: string; state: string; recorded_by: string }
      | undefined;
    if (asked?.state !== 'approved' || asked.recorded_by !== this.userId) return;
    const key = `${runtime.classId} joinClass`;
    if (this.ownSteps.has(key)) return;
    this.ownSteps.add(key);
    void this.submit(runtime, { type: 'joinClass', displayName: asked.display_name, laptopId }, 0).catch(() => this.ownSteps.delete(key));
  }

  private async send(runtime: ClassRuntime, command: LogCommand, commandId: string, waitMs: number): Promise<CommandOutcome> {
    const signed = signCommand(this.user, runtime.classId, command, { commandId });
    const outcome = await runtime.router.write(new TextEncoder().encode(JSON.stringify(signed)), waitMs);
    if (outcome.status === 'pending') return { status: 'pending', commandId };
    return { status: 'applied', result: this.resultOf(runtime, outcome.seq, commandId, command) };
  }

  /** The class as this user may see it, on the laptop `laptopId`. */
  overview(runtime: ClassRuntime, laptopId: string): ClassroomOverview {
    const db = runtime.storage.database;
    const info = statement(db, 'SELECT name, subject FROM class_info WHERE id = 1').get() as ClassInfoRow | undefined;
    const signer = signerOf(db, this.userId, this.publicKey);
    const userId = signer.userId;
    // A laptop whose key was replaced (lost, then re-admitted elsewhere) is no one in the class.
    const me = signer.replaced ? undefined : currentMember(db, userId);
    const base = {
      classId: runtime.classId,
      name: info?.name ?? '',
      subject: info?.subject ?? '',
      approveJoins: approvesJoins(db),
      rejections: rejectionsFor(db, userId),
    };
    if (!me) {
      const standing = joinStanding(db, laptopId);
      const asking = standing === 'waiting' || standing === 'refused' ? { asking: standing } : {};
      return { ...base, joinCode: null, joinRequests: [], me: { userId, displayName: this.displayName, role: null, ...asking }, members: [], assignments: [] };
    }
    if (me.role === 'teacher' && Date.now() - (this.sharing.get(runtime.classId)?.lastCheck ?? 0) > SHARE_CHECK_MS) {
      void this.shareKeys(runtime).catch(() => undefined);
    }
    return {
      ...base,
      joinCode: me.role === 'teacher' ? shownJoinCode(db) : null,
      joinRequests: openJoinRequests(db, userId),
      me: { userId, displayName: me.display_name, role: me.role },
      members: members(db, userId),
      assignments: assignments(db, userId),
    };
  }

  submission(runtime: ClassRuntime, assignmentId: string, studentId: string): SubmissionView {
    return asServiceError(() => submission(runtime.storage.database, this.openerIn(runtime), assignmentId, studentId, Date.now()));
  }

  gradebook(runtime: ClassRuntime): Gradebook {
    return asServiceError(() => gradebook(runtime.storage.database, this.openerIn(runtime), Date.now()));
  }

  exportGradebook(runtime: ClassRuntime): { csv: string } {
    return asServiceError(() => ({ csv: gradebookCsv(runtime.storage.database, this.openerIn(runtime), Date.now()) }));
  }

  /** The laptops of the class's current teachers, from its replicated state. */
  static teacherLaptops(runtime: ClassRuntime): string[] {
    return statement(
      runtime.storage.database,
      `SELECT DISTINCT l.laptop_id FROM member_laptops l JOIN members m ON m.user_id = l.user_id
       WHERE m.role = 'teacher' AND m.removed_at IS NULL ORDER BY l.laptop_id`,
    )
      .pluck()
      .all() as string[];
  }

  /** Laptops of removed members, and laptops re-admitted students lost, that no current member uses: they leave the Raft group. */
  static removedLaptops(runtime: ClassRuntime): string[] {
    return statement(
      runtime.storage.database,
      `SELECT laptop_id FROM (SELECT l.laptop_id FROM member_laptops l JOIN members m ON m.user_id = l.user_id WHERE m.removed_at IS NOT NULL
         UNION SELECT laptop_id FROM lost_laptops)
       WHERE laptop_id NOT IN (SELECT l2.laptop_id FROM member_laptops l2 JOIN members m2 ON m2.user_id = l2.user_id WHERE m2.removed_at IS NULL)
       ORDER BY laptop_id`,
    )
      .pluck()
      .all() as string[];
  }

  static className(runtime: ClassRuntime): string | null {
    return (statement(runtime.storage.database, 'SELECT name FROM class_info WHERE id = 1').pluck().get() as string | undefined) ?? null;
  }

  /** What applying our command did: from the apply itself, else from the tables (after a restart). */
  private resultOf(runtime: ClassRuntime, seq: number, commandId: string, command: LogCommand): ClassroomResult {
    const result = runtime.takeResult(seq);
    if (result?.kind === 'classroom') {
      const { kind: _kind, ...classroom } = result;
      return classroom;
    }
    const userId = this.userIdIn(runtime);
    const refused = rejectionsFor(runtime.storage.database, userId).find((r) => r.commandId === commandId);
    if (refused) return { status: 'rejected', code: refused.code, reason: refused.reason, commandId, authorId: userId };
    return { status: 'applied', type: command.type, commandId, authorId: userId, at: Date.now() };
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
