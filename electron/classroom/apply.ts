// Applying one classroom command, identically on every laptop: check its shape, its signature,
// its class, that it was not seen before, and its author's right to do it; then change the
// tables, or change nothing and record why it was refused. Deterministic: the same command on
// the same tables at the same committed time gives the same tables everywhere.
import type Database from 'better-sqlite3';
import { signedCommand, type ClassroomResult, type LogCommand, type SignedCommand } from '../../shared/classroom/commands';
import { memberOf, type CommandContext, type Handler } from './context';
import { addTeacher, createClass, joinClass, removeMember, setJoinCode } from './handlers/members';
import { createAssignment, editAssignment, grantExtension } from './handlers/assignments';
import { saveDraft, turnIn, unsubmit } from './handlers/submissions';
import { comment, excuse, grade, returnGrade } from './handlers/grading';
import { shareKeys } from './handlers/keys';
import { answerJoinRequest, requestToJoin, setJoinApproval } from './handlers/join-approval';
import { readmitStudent } from './handlers/readmission';
import { adoptRules, noteRules } from './handlers/rules';
import { CLASS_RULES } from '../../shared/classroom/rules';
import { classRules, requireKnownRules } from './class-rules';
import { Rejection } from './rejection';
import { signerOf } from './signers';
import { verifyCommand } from './signing';
import { statement } from './statements';

const handlers: { [T in LogCommand['type']]: Handler<Extract<LogCommand, { type: T }>> } = {
  createClass,
  setJoinCode,
  joinClass,
  addTeacher,
  removeMember,
  readmitStudent,
  createAssignment,
  editAssignment,
  grantExtension,
  saveDraft,
  turnIn,
  unsubmit,
  grade,
  returnGrade,
  excuse,
  comment,
  shareKeys,
  setJoinApproval,
  requestToJoin,
  answerJoinRequest,
  noteRules,
  adoptRules,
};

/** Commands someone outside the class may send: creating it, and joining it with the code. */
const OPEN_TO_NON_MEMBERS = new Set<LogCommand['type']>(['createClass', 'joinClass']);

/**
 * Apply `input` (a signed command parsed from the log) to the class `classId` at `committedAt`
 * (the leader's clock when it was proposed; the class clock never goes back), by rules up to
 * `knownRules`. Never throws for a bad command: the result says why it was refused. Throws
 * NeedsNewerQuorumError, changing nothing, where the class needs newer rules than it knows.
 * Must run inside the caller's transaction.
 */
export function applyClassroomCommand(
  db: Database.Database,
  classId: string,
  input: unknown,
  committedAt: number,
  knownRules: number = CLASS_RULES,
): ClassroomResult {
  // Before anything is read by rules this build might not share with the class (a snapshot may have brought newer ones).
  requireKnownRules(classRules(db), knownRules);
  const shape = signedCommand.check(input, 'command');
  if (shape) return rejected('MALFORMED', `The command could not be read: ${shape}.`, null, null);
  const signed = input as SignedCommand;
  const keyUserId = verifyCommand(signed);
  if (!keyUserId) return rejected('BAD_SIGNATURE', 'The command’s signature does not match its author.', signed.commandId, null);
  if (signed.classId !== classId) return rejected('WRONG_CLASS', 'The command was signed for another class.', signed.commandId, keyUserId);

  // Seen by the key that signed it: a re-admitted student's commands from before and after keep apart.
  const seen = statement(db, 'INSERT OR IGNORE INTO seen_commands (author_id, command_id) VALUES (?, ?)').run(keyUserId, signed.commandId);
  if (seen.changes === 0) return rejected('REPLAYED', 'This command was already received once.', signed.commandId, keyUserId);

  const now = advanceClock(db, committedAt);
  const signer = signerOf(db, keyUserId, signed.publicKey);
  const authorId = signer.userId;
  const member = signer.replaced ? undefined : memberOf(db, authorId);
  const author = member && member.removed_at === null ? member : null;
  const { command } = signed;
  const context: CommandContext = { db, signed, authorId, author, now, knownRules };
  try {
    if (signer.replaced) {
      throw new Rejection('NOT_A_MEMBER', 'This was signed with the key of a laptop its owner lost: a teacher re-admitted them on a new laptop, so this key no longer acts in the class.');
    }
    if (!author && !OPEN_TO_NON_MEMBERS.has(command.type)) {
      throw new Rejection('NOT_A_MEMBER', member ? 'You are no longer a member of this class.' : 'Only members of the class can do this.');
    }
    // A savepoint: whatever the handler wrote before refusing is undone.
    db.transaction(() => (handlers[command.type] as Handler<LogCommand>)(context, command))();
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    const assignmentId = 'assignmentId' in command ? command.assignmentId : null;
    // OR IGNORE: a re-admitted student's two keys could, at worst, have used the same command id.
    statement(
      db,
      'INSERT OR IGNORE INTO rejections (author_id, command_id, type, assignment_id, code, reason, client_at, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(authorId, signed.commandId, command.type, assignmentId, error.code, error.reason, signed.clientTime, now);
    return rejected(error.code, error.reason, signed.commandId, authorId, error.currentVersion);
  }
  return { status: 'applied', type: command.type, commandId: signed.commandId, authorId, at: now };
}

/** The class clock after a command committed at `committedAt`: it never goes back. */
function advanceClock(db: Database.Database, committedAt: number): number {
  const clock = statement(db, 'SELECT clock FROM class_info WHERE id = 1').pluck().get() as number | undefined;
  if (clock === undefined) return committedAt;
  const now = Math.max(clock, committedAt);
  if (now !== clock) statement(db, 'UPDATE class_info SET clock = ? WHERE id = 1').run(now);
  return now;
}

function rejected(
  code: Extract<ClassroomResult, { status: 'rejected' }>['code'],
  reason: string,
  commandId: string | null,
  authorId: string | null,
  currentVersion?: number,
): ClassroomResult {
  return currentVersion === undefined
    ? { status: 'rejected', code, reason, commandId, authorId }
    : { status: 'rejected', code, reason, commandId, authorId, currentVersion };
}
