// Grading and the private thread per student and assignment. A grade is the teacher's draft
// until it is returned; the student sees only what was returned. Comments are between the
// class's teachers and the one student.
import type { ClassroomCommand } from '../../../shared/classroom/commands';
import { requireAssignment, requireStudentMember, requireTeacher, type CommandContext, type Handler } from '../context';
import { refuse } from '../rejection';

type Command<T extends ClassroomCommand['type']> = Extract<ClassroomCommand, { type: T }>;

interface GradeRow {
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
  if (command.score !== null) {
    if (assignment.points_possible === null) refuse('NOT_ALLOWED', 'This assignment is ungraded, so it takes feedback but no score.');
    if (command.score > assignment.points_possible) refuse('NOT_ALLOWED', `The score can be at most ${assignment.points_possible} points.`);
  }
  const current = gradeOf(context, command.assignmentId, command.studentId);
  const version = current?.version ?? 0;
  if (command.baseVersion !== version) {
    refuse('STALE', `Someone changed this grade since you opened it (now version ${version}); review it and try again.`, version);
  }
  upsertGrade(context, command.assignmentId, command.studentId, { score: command.score, feedback: command.feedback, excused: current?.excused ?? 0 }, now);
};

export const returnGrade: Handler<Command<'returnGrade'>> = (context, command) => {
  requireTeacher(context);
  const { db, now } = context;
  requireAssignment(db, command.assignmentId);
  requireStudentMember(db, command.studentId);
  const current = gradeOf(context, command.assignmentId, command.studentId);
  if (!current) refuse('NOT_FOUND', 'There is no grade or feedback to return yet.');
  db.prepare(
    `UPDATE grades SET returned_score = score, returned_feedback = feedback, returned_at = ?, updated_at = ?, version = version + 1
     WHERE assignment_id = ? AND student_id = ?`,
  ).run(now, now, command.assignmentId, command.studentId);
};

export const excuse: Handler<Command<'excuse'>> = (context, command) => {
  requireTeacher(context);
  const { db, now } = context;
  requireAssignment(db, command.assignmentId);
  requireStudentMember(db, command.studentId);
  const current = gradeOf(context, command.assignmentId, command.studentId);
  upsertGrade(context, command.assignmentId, command.studentId, { score: current?.score ?? null, feedback: current?.feedback ?? '', excused: command.excused ? 1 : 0 }, now);
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
  if (db.prepare('SELECT 1 FROM comments WHERE comment_id = ?').get(command.commentId)) refuse('CONFLICT', 'This comment was already posted.');
  db.prepare('INSERT INTO comments (comment_id, assignment_id, student_id, author_id, text, at) VALUES (?, ?, ?, ?, ?, ?)').run(
    command.commentId,
    command.assignmentId,
    command.studentId,
    author.user_id,
    command.text,
    now,
  );
};

function gradeOf({ db }: CommandContext, assignmentId: string, studentId: string): GradeRow | undefined {
  return db.prepare('SELECT score, feedback, excused, version FROM grades WHERE assignment_id = ? AND student_id = ?').get(assignmentId, studentId) as
    | GradeRow
    | undefined;
}

function upsertGrade(
  { db }: CommandContext,
  assignmentId: string,
  studentId: string,
  values: { score: number | null; feedback: string; excused: number },
  now: number,
): void {
  db.prepare(
    `INSERT INTO grades (assignment_id, student_id, score, feedback, excused, returned_score, returned_feedback, returned_at, updated_at, version)
     VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?, 1)
     ON CONFLICT (assignment_id, student_id) DO UPDATE SET score = excluded.score, feedback = excluded.feedback, excused = excluded.excused,
       updated_at = excluded.updated_at, version = version + 1`,
  ).run(assignmentId, studentId, values.score, values.feedback, values.excused, now);
}
