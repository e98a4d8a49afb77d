// A student's work on an assignment: a private draft, turned in (every turn-in kept as an
// attempt), unsubmitted and turned in again until the grade is returned or the cut-off passes.
// Lateness is decided later from the committed turn-in time; the student's own clock is kept
// beside it for the teacher to see, never used for a rule. The text is sealed for the student and
// the class's teachers; the tables keep only its item.
import type { LogCommand } from '../../../shared/classroom/commands';
import { requirePublishedAssignment, requireStudent, type AssignmentRow, type CommandContext, type Handler } from '../context';
import { refuse } from '../rejection';
import { dropIfUnused, keepSealedItem } from '../sealing/item-rules';
import { statement } from '../statements';

type Command<T extends LogCommand['type']> = Extract<LogCommand, { type: T }>;

interface SubmissionRow {
  item_id: string | null;
  files: string;
  turned_in: number;
  attempts: number;
  version: number;
}

export const saveDraft: Handler<Command<'saveDraft'>> = (context, command) => {
  const student = requireStudent(context);
  const { db, now } = context;
  const assignment = requirePublishedAssignment(db, command.assignmentId);
  checkOpen(context, assignment);
  const current = submissionOf(context, command.assignmentId, student.user_id);
  const version = current?.version ?? 0;
  if (command.baseVersion !== version) {
    refuse('STALE', `This work was changed elsewhere since you opened it (now version ${version}); reload it and try again.`, version);
  }
  if (current?.turned_in) refuse('NOT_ALLOWED', 'Unsubmit the work before changing it.');
  const itemId = keepSealedItem(context, { kind: 'submission', assignmentId: command.assignmentId, studentId: student.user_id, sealed: command.sealed, withStudent: true });
  statement(
    db,
    `INSERT INTO submissions (assignment_id, student_id, text, item_id, files, turned_in, turned_in_at, turned_in_client_at, attempts, updated_at, version)
     VALUES (?, ?, '', ?, ?, 0, NULL, NULL, 0, ?, 1)
     ON CONFLICT (assignment_id, student_id) DO UPDATE SET text = '', item_id = excluded.item_id, files = excluded.files,
       updated_at = excluded.updated_at, version = version + 1`,
  ).run(command.assignmentId, student.user_id, itemId, JSON.stringify(command.files), now);
  dropIfUnused(db, current?.item_id ?? null);
};

export const turnIn: Handler<Command<'turnIn'>> = (context, command) => {
  const student = requireStudent(context);
  const { db, now, signed } = context;
  const assignment = requirePublishedAssignment(db, command.assignmentId);
  checkOpen(context, assignment);
  checkNotReturned(context, command.assignmentId, student.user_id);
  const current = submissionOf(context, command.assignmentId, student.user_id);
  if (current?.turned_in) refuse('CONFLICT', 'This work is already turned in.');
  const attempt = (current?.attempts ?? 0) + 1;
  statement(
    db,
    `INSERT INTO submissions (assignment_id, student_id, text, files, turned_in, turned_in_at, turned_in_client_at, attempts, updated_at, version)
     VALUES (?, ?, '', '[]', 1, ?, ?, 1, ?, 1)
     ON CONFLICT (assignment_id, student_id) DO UPDATE SET turned_in = 1, turned_in_at = excluded.turned_in_at,
       turned_in_client_at = excluded.turned_in_client_at, attempts = attempts + 1, updated_at = excluded.updated_at, version = version + 1`,
  ).run(command.assignmentId, student.user_id, now, signed.clientTime, now);
  statement(
    db,
    `INSERT INTO attempts (assignment_id, student_id, attempt, text, item_id, files, turned_in_at, turned_in_client_at)
     SELECT assignment_id, student_id, ?, text, item_id, files, turned_in_at, turned_in_client_at FROM submissions WHERE assignment_id = ? AND student_id = ?`,
  ).run(attempt, command.assignmentId, student.user_id);
};

export const unsubmit: Handler<Command<'unsubmit'>> = (context, command) => {
  const student = requireStudent(context);
  const { db, now } = context;
  const assignment = requirePublishedAssignment(db, command.assignmentId);
  checkOpen(context, assignment);
  checkNotReturned(context, command.assignmentId, student.user_id);
  const current = submissionOf(context, command.assignmentId, student.user_id);
  if (!current?.turned_in) refuse('CONFLICT', 'This work is not turned in.');
  statement(db, 'UPDATE submissions SET turned_in = 0, updated_at = ?, version = version + 1 WHERE assignment_id = ? AND student_id = ?').run(
    now,
    command.assignmentId,
    student.user_id,
  );
};

function submissionOf({ db }: CommandContext, assignmentId: string, studentId: string): SubmissionRow | undefined {
  return statement(db, 'SELECT item_id, files, turned_in, attempts, version FROM submissions WHERE assignment_id = ? AND student_id = ?')
    .get(assignmentId, studentId) as SubmissionRow | undefined;
}

/** Nothing is accepted after the cut-off, by the class clock. */
function checkOpen({ now }: CommandContext, assignment: AssignmentRow): void {
  if (assignment.cut_off_at !== null && now > assignment.cut_off_at) refuse('CLOSED', 'This assignment no longer accepts work: its cut-off has passed.');
}

/** Once the grade is returned, the work stays as it was graded. */
function checkNotReturned({ db }: CommandContext, assignmentId: string, studentId: string): void {
  const returned = statement(db, 'SELECT returned_at FROM grades WHERE assignment_id = ? AND student_id = ?').pluck().get(assignmentId, studentId);
  if (returned !== undefined && returned !== null) refuse('CLOSED', 'This work has been graded and returned, so it can no longer change.');
}
