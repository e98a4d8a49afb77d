// The author's side of sealing: a command as a person asked for it (what the UI sends) turned
// into the command that is signed and carried in the log, on the author's laptop, from the
// author's copy of the class. The private parts are sealed for their readers as that copy names
// them (every replica checks the same list when it applies the command); what only a reader can
// check, such as a score's range, is checked here before anything is sent.
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { JOIN_CODE_BYTES, newJoinCode } from '../../../shared/join-code';
import { currentJoinCode } from '../queries';
import { sealClassSecret, secretReaders } from './class-secrets';
import type { ClassroomCommand, LogCommand, RejectionCode, SealedItem } from '../../../shared/classroom/commands';
import { LIMITS } from '../../../shared/classroom/commands';
import { scoreProblem } from '../opened';
import { clearReferenceOf, type SealedAttachment } from './attachments';
import { sealItem, wrapKeyFor, type ItemAddress, type Reader } from './items';
import { readersOf } from './item-rules';
import type { ItemOpener } from './opener';
import type { PairwiseWrapper } from './box';
import { statement } from '../statements';

/** Why a command could not be sealed here; nothing was sent. `reason` is a sentence for the author. */
export class SealingError extends Error {
  constructor(
    readonly code: RejectionCode,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SealingError';
  }
}

/** The author as sealing needs them: their id, their box key, and their opener (which wraps keys as them, and opens the keys they pass on). */
export interface SealingAuthor {
  userId: string;
  boxKey: string;
  opener: ItemOpener;
}

/**
 * `command` as it is signed: sealed where it has private parts. `commandId` is the id it will be
 * signed with. For a draft, `attachments` are its files already sealed on this laptop (the peer
 * does that, as it holds the files): their keys go into the sealed draft and only their sealed
 * copies' references stay in the clear. Without them, a draft's files are carried as given.
 */
export function sealCommand(
  db: Database.Database,
  classId: string,
  commandId: string,
  author: SealingAuthor,
  command: ClassroomCommand,
  attachments?: readonly SealedAttachment[],
): LogCommand {
  const address = (kind: ItemAddress['kind'], assignmentId: string, studentId: string): ItemAddress => ({ classId, kind, assignmentId, studentId, itemId: commandId });
  const wrapper = () => wrapperOf(author.opener);
  switch (command.type) {
    case 'createClass':
    case 'joinClass':
      return { ...command, boxKey: author.boxKey };
    case 'saveDraft': {
      const { text, ...clear } = command;
      const readers = readersOf(db, author.userId, true);
      const draftAddress = address('submission', command.assignmentId, author.userId);
      if (attachments === undefined) return { ...clear, sealed: sealItem(draftAddress, { text }, readers, wrapper()).sealed };
      if (attachments.length !== command.files.length) throw new Error('every file of a draft is sealed before the draft is');
      const files = attachments.map((attachment, index) => clearReferenceOf(attachment, index));
      return { ...clear, files, sealed: sealItem(draftAddress, { text, files: attachments }, readers, wrapper()).sealed };
    }
    case 'grade': {
      const { score, feedback, ...clear } = command;
      const pointsPossible = statement(db, 'SELECT points_possible FROM assignments WHERE assignment_id = ?').pluck().get(command.assignmentId) as
        | number
        | null
        | undefined;
      // An unknown assignment is refused by the rules; a score is checked against a known one.
      const problem = pointsPossible === undefined ? null : scoreProblem(score, pointsPossible);
      if (problem) throw new SealingError('NOT_ALLOWED', problem);
      const readers = readersOf(db, command.studentId, false);
      return { ...clear, scored: score !== null, sealed: sealItem(address('grade', command.assignmentId, command.studentId), { score, feedback }, readers, wrapper()).sealed };
    }
    case 'comment': {
      const { text, ...clear } = command;
      const readers = readersOf(db, command.studentId, true);
      return { ...clear, sealed: sealItem(address('comment', command.assignmentId, command.studentId), { text }, readers, wrapper()).sealed };
    }
    case 'returnGrade':
      return { ...command, ...studentKeyOf(db, classId, author, command.assignmentId, command.studentId) };
    case 'removeMember':
      return { ...command, ...nextSecrets(db, classId, commandId, author, secretReaders(db, command.userId)) };
    case 'readmitStudent': {
      // The student reads the new secret with the key of the laptop they are re-admitted on.
      const newKey = statement(db, 'SELECT box_key FROM members WHERE user_id = ?').pluck().get(command.newMemberId) as string | null | undefined;
      const readers = secretReaders(db, command.newMemberId).flatMap((reader) =>
        reader.userId !== command.studentId ? [reader] : newKey ? [{ userId: reader.userId, boxKey: newKey }] : [],
      );
      return { ...command, ...nextSecrets(db, classId, commandId, author, readers) };
    }
    default:
      return command;
  }
}

/**
 * A new class secret sealed for `readers`, and a new join code if joining is on: what a command
 * taking someone's laptop out of the class carries, as they knew both. A laptop without the
 * teacher's box key still sends the command; the class keeps its secret then.
 */
function nextSecrets(
  db: Database.Database,
  classId: string,
  commandId: string,
  author: SealingAuthor,
  readers: readonly Reader[],
): { classSecret?: SealedItem; joinCode?: string } {
  const wrapper = author.opener.wrapper;
  return {
    ...(wrapper ? { classSecret: sealClassSecret(classId, commandId, readers, wrapper) } : {}),
    ...(currentJoinCode(db) === null ? {} : { joinCode: newJoinCode(randomBytes(JOIN_CODE_BYTES)) }),
  };
}

/** The draft being returned, and its content key wrapped for the student. */
function studentKeyOf(
  db: Database.Database,
  classId: string,
  author: SealingAuthor,
  assignmentId: string,
  studentId: string,
): { itemId: string | null; studentKey: string | null } {
  const itemId = (statement(db, 'SELECT item_id FROM grades WHERE assignment_id = ? AND student_id = ?').pluck().get(assignmentId, studentId) as string | null | undefined) ?? null;
  if (itemId === null) return { itemId, studentKey: null };
  const boxKey = statement(db, 'SELECT box_key FROM members WHERE user_id = ?').pluck().get(studentId) as string | null | undefined;
  if (boxKey == null) return { itemId, studentKey: null };
  const contentKey = author.opener.contentKey(db, itemId);
  if (!contentKey) {
    throw new SealingError(
      'NOT_ALLOWED',
      'This grade cannot be opened on this laptop yet, so it cannot be returned from here. It is shared with you once a teacher who can read it opens the class.',
    );
  }
  return { itemId, studentKey: wrapKeyFor(contentKey, classId, itemId, { userId: studentId, boxKey }, wrapperOf(author.opener)) };
}

/** The box key pair `opener`'s user wraps keys with; without it on this laptop, nothing private can be sent. */
function wrapperOf(opener: ItemOpener): PairwiseWrapper {
  if (opener.wrapper) return opener.wrapper;
  throw new SealingError('NOT_ALLOWED', 'Your key for locking work is not on this laptop, so this cannot be sent from here.');
}

/**
 * Items a current member is waiting for, that `opener`'s user can open: every item a teacher has
 * no key for (a teacher added since), and a student's own items they have no key for (re-admitted
 * with a new box key: their own work and comments, and their returned grades, never a draft grade).
 */
export function itemsToShare(db: Database.Database, opener: ItemOpener): { userId: string; boxKey: string; itemId: string }[] {
  return statement(
      db,
      `SELECT t.user_id AS userId, t.box_key AS boxKey, i.item_id AS itemId FROM members t
       JOIN item_keys mine ON mine.user_id = @me
       JOIN sealed_items i ON i.item_id = mine.item_id
       WHERE t.role = 'teacher' AND t.removed_at IS NULL AND t.box_key IS NOT NULL AND t.user_id <> @me
         AND NOT EXISTS (SELECT 1 FROM item_keys k WHERE k.item_id = i.item_id AND k.user_id = t.user_id)
       UNION ALL
       SELECT s.user_id, s.box_key, i.item_id FROM members s
       JOIN sealed_items i ON i.student_id = s.user_id
       JOIN item_keys mine ON mine.item_id = i.item_id AND mine.user_id = @me
       WHERE s.role = 'student' AND s.removed_at IS NULL AND s.box_key IS NOT NULL AND s.user_id <> @me
         AND (i.kind <> 'grade' OR EXISTS (SELECT 1 FROM grades g WHERE g.student_id = s.user_id AND g.returned_item_id = i.item_id AND g.returned_at IS NOT NULL))
         AND NOT EXISTS (SELECT 1 FROM item_keys k WHERE k.item_id = i.item_id AND k.user_id = s.user_id)
       ORDER BY 1, 3`,
    )
    .all({ me: opener.userId }) as { userId: string; boxKey: string; itemId: string }[];
}

/** shareKeys commands that give every current member waiting for keys (itemsToShare) those this user can pass on, in batches a command may carry; none where this laptop cannot wrap keys as this user. */
export function shareKeysBatches(db: Database.Database, classId: string, opener: ItemOpener): Extract<LogCommand, { type: 'shareKeys' }>[] {
  const byTeacher = new Map<string, { boxKey: string; keys: { itemId: string; key: string }[] }>();
  const wrapper = opener.wrapper;
  if (!wrapper) return [];
  for (const missing of itemsToShare(db, opener)) {
    const contentKey = opener.contentKey(db, missing.itemId);
    if (!contentKey) continue; // ours does not open (damaged): another teacher may share it
    let entry = byTeacher.get(missing.userId);
    if (!entry) byTeacher.set(missing.userId, (entry = { boxKey: missing.boxKey, keys: [] }));
    entry.keys.push({ itemId: missing.itemId, key: wrapKeyFor(contentKey, classId, missing.itemId, { userId: missing.userId, boxKey: missing.boxKey }, wrapper) });
  }
  const batches: Extract<LogCommand, { type: 'shareKeys' }>[] = [];
  for (const [userId, { keys }] of byTeacher) {
    for (let i = 0; i < keys.length; i += LIMITS.sharedKeys) batches.push({ type: 'shareKeys', userId, keys: keys.slice(i, i + LIMITS.sharedKeys) });
  }
  return batches;
}
