// Grading and the private thread per student and assignment. A grade is the teacher's draft
// until it is returned; the student sees only what was returned. Comments are between the
// class's teachers and the one student. Scores, feedback and comments are sealed: a draft grade
// for the teachers only, opened to the student when it is returned; a comment for the student and
// the teachers. The range of a score is checked where it can be read: on the teacher's laptop
// before signing, and by every reader (see electron/classroom/opened.ts).
import type { LogCommand } from '../../../shared/classroom/commands';
import { memberOf, requireAssignment, requireStudentMember, requireTeacher, type CommandContext, type Handler } from '../context';
import { refuse } from '../rejection';
import { addItemKey, dropIfUnused, keepSealedItem } from '../sealing/item-rules';
import { statement } from '../statements';

type Command<T extends LogCommand['type']> = Extract<LogCommand, { type: T }>;

interface GradeRow {
  item_id: string | null;
  returned_item_id: string | null;
  score: number | null;
  feedback: string;
  excused: number;
  version: number;
}

export const grade: Handler<Command<'grade'>> = (context, command) => {
  requireTeacher(context);
  const { db, now } = context;
  const assignment = requireAssignment(db, command.assignmentId);
  requireStudentMember(db, command.studentId);
  if (command.scored && assignment.points_possible === null) refuse('NOT_ALLOWED', 'This assignment is ungraded, so it takes feedback but no score.');
  const current = gradeOf(context, command.assignmentId, command.studentId);
  const version = current?.version ?? 0;
  if (command.baseVersion !== version) {
    refuse('STALE', `Someone changed this grade since you opened it (now version ${version}); review it and try again.`, version);
  }
  const itemId = keepSealedItem(context, { kind: 'grade', assignmentId: command.assignmentId, studentId: command.studentId, sealed: command.sealed, withStudent: false });
  upsertGrade(context, command.assignmentId, command.studentId, { itemId, excused: current?.excused ?? 0 }, now);
  dropIfUnused(db, current?.item_id ?? null);
};

export const returnGrade: Handler<Command<'returnGrade'>> = (context, command) => {
  requireTeacher(context);
  const { db, now } = context;
  requireAssignment(db, command.assignmentId);
  requireStudentMember(db, command.studentId);
  const current = gradeOf(context, command.assignmentId, command.studentId);
  if (!current) refuse('NOT_FOUND', 'There is no grade or feedback to return yet.');
  if (command.itemId !== current.item_id) {
    refuse('STALE', `Someone changed this grade since you opened it (now version ${current.version}); review it and return it again.`, current.version);
  }
  if (current.item_id !== null) {
    // The draft was sealed for the teachers; returning it gives the student its key.
    const student = memberOf(db, command.studentId);
    if (command.studentKey === null && student?.box_key != null) refuse('NOT_ALLOWED', 'The grade must be unlocked for the student when it is returned.');
    if (command.studentKey !== null) addItemKey(db, current.item_id, command.studentId, command.studentKey);
  }
  statement(
    db,
    `UPDATE grades SET returned_score = score, returned_feedback = feedback, returned_item_id = item_id, returned_at = ?, updated_at = ?,
       version = version + 1 WHERE assignment_id = ? AND student_id = ?`,
  ).run(now, now, command.assignmentId, command.studentId);
  if (current.returned_item_id !== current.item_id) dropIfUnused(db, current.returned_item_id);
};

export const excuse: Handler<Command<'excuse'>> = (context, command) => {
  requireTeacher(context);
  const { db, now } = context;
  requireAssignment(db, command.assignmentId);
  requireStudentMember(db, command.studentId);
  const current = gradeOf(context, command.assignmentId, command.studentId);
  upsertGrade(context, command.assignmentId, command.studentId, { itemId: current?.item_id ?? null, excused: command.excused ? 1 : 0 }, now);
};

export const comment: Handler<Command<'comment'>> = (context, command) => {
  const { db, author, now } = context;
  if (!author) refuse('NOT_A_MEMBER', 'Only members of the class can comment.');
  const assignment = requireAssignment(db, command.assignmentId);
  requireStudentMember(db, command.studentId);
  // A student writes only in their own thread, and only on work they can see.
  if (author.role === 'student' && (author.user_id !== command.studentId || !assignment.published)) {
    refuse('NOT_ALLOWED', 'You can only comment on your own work.');
  }
  if (statement(db, 'SELECT 1 FROM comments WHERE comment_id = ?').get(command.commentId)) refuse('CONFLICT', 'This comment was already posted.');
  const itemId = keepSealedItem(context, { kind: 'comment', assignmentId: command.assignmentId, studentId: command.studentId, sealed: command.sealed, withStudent: true });
  statement(db, "INSERT INTO comments (comment_id, assignment_id, student_id, author_id, text, item_id, at) VALUES (?, ?, ?, ?, '', ?, ?)").run(
    command.commentId,
    command.assignmentId,
    command.studentId,
    author.user_id,
    itemId,
    now,
  );
};

function gradeOf({ db }: CommandContext, assignmentId: string, studentId: string): GradeRow | undefined {
  return statement(db, 'SELECT item_id, returned_item_id, score, feedback, excused, version FROM grades WHERE assignment_id = ? AND student_id = ?').get(assignmentId, studentId) as
    | GradeRow
    | undefined;
}

function upsertGrade(
  { db }: CommandContext,
  assignmentId: string,
  studentId: string,
  values: { itemId: string | null; excused: number },
  now: number,
): void {
  // The clear score and feedback columns hold only grades from before items were sealed: a new
  // sealed draft clears them, an excuse keeps them.
  statement(
    db,
    `INSERT INTO grades (assignment_id, student_id, score, feedback, item_id, excused, returned_score, returned_feedback, returned_at, updated_at, version)
     VALUES (?, ?, NULL, '', ?, ?, NULL, NULL, NULL, ?, 1)
     ON CONFLICT (assignment_id, student_id) DO UPDATE SET
       score = CASE WHEN excluded.item_id IS grades.item_id THEN grades.score ELSE NULL END,
       feedback = CASE WHEN excluded.item_id IS grades.item_id THEN grades.feedback ELSE '' END,
       item_id = excluded.item_id, excused = excluded.excused, updated_at = excluded.updated_at, version = version + 1`,
  ).run(assignmentId, studentId, values.itemId, values.excused, now);
}
