// Assignments: created and edited by teachers, with per-student extensions. An edit names the
// version it was based on; one based on an older version is refused, never merged silently.
import type { LogCommand } from '../../../shared/classroom/commands';
import { requireAssignment, requireStudentMember, requireTeacher, type CommandContext, type Handler } from '../context';
import { refuse } from '../rejection';
import { statement } from '../statements';

type Command<T extends LogCommand['type']> = Extract<LogCommand, { type: T }>;
type AssignmentFields = Omit<Command<'createAssignment'>, 'type' | 'assignmentId'>;

export const createAssignment: Handler<Command<'createAssignment'>> = (context, command) => {
  const teacher = requireTeacher(context);
  const { db, now } = context;
  checkDates(command);
  if (statement(db, 'SELECT 1 FROM assignments WHERE assignment_id = ?').get(command.assignmentId)) {
    refuse('CONFLICT', 'An assignment with this id already exists.');
  }
  statement(
    db,
    `INSERT INTO assignments (assignment_id, title, instructions, points_possible, due_at, cut_off_at, published, materials,
       created_by, created_at, updated_at, version)
     VALUES (@assignmentId, @title, @instructions, @pointsPossible, @dueAt, @cutOffAt, @published, @materials, @createdBy, @now, @now, 1)`,
  ).run({ ...columns(command), assignmentId: command.assignmentId, createdBy: teacher.user_id, now });
};

export const editAssignment: Handler<Command<'editAssignment'>> = (context, command) => {
  requireTeacher(context);
  const { db, now } = context;
  const current = requireAssignment(db, command.assignmentId);
  if (command.baseVersion !== current.version) {
    refuse('STALE', `Someone changed this assignment since you opened it (now version ${current.version}); review their change and try again.`, current.version);
  }
  checkDates(command);
  statement(
    db,
    `UPDATE assignments SET title = @title, instructions = @instructions, points_possible = @pointsPossible, due_at = @dueAt,
       cut_off_at = @cutOffAt, published = @published, materials = @materials, updated_at = @now, version = version + 1
     WHERE assignment_id = @assignmentId`,
  ).run({ ...columns(command), assignmentId: command.assignmentId, now });
};

export const grantExtension: Handler<Command<'grantExtension'>> = (context, command) => {
  requireTeacher(context);
  const { db } = context;
  requireAssignment(db, command.assignmentId);
  requireStudentMember(db, command.studentId);
  statement(
    db,
    'INSERT INTO extensions (assignment_id, student_id, due_at) VALUES (?, ?, ?) ON CONFLICT (assignment_id, student_id) DO UPDATE SET due_at = excluded.due_at',
  ).run(command.assignmentId, command.studentId, command.dueAt);
};

function checkDates(fields: AssignmentFields): void {
  if (fields.cutOffAt !== null && fields.dueAt !== null && fields.cutOffAt < fields.dueAt) {
    refuse('NOT_ALLOWED', 'The cut-off must not come before the due date.');
  }
}

function columns(fields: AssignmentFields) {
  return {
    title: fields.title,
    instructions: fields.instructions,
    pointsPossible: fields.pointsPossible,
    dueAt: fields.dueAt,
    cutOffAt: fields.cutOffAt,
    published: fields.published ? 1 : 0,
    materials: JSON.stringify(fields.materials),
  };
}

export type { CommandContext };
