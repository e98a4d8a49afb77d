// What a command handler sees: the class file, the author (checked), the class clock, and
// lookups every rule needs. Handlers read through these and throw a Rejection to refuse.
import type Database from 'better-sqlite3';
import type { LogCommand, SignedCommand } from '../../shared/classroom/commands';
import { refuse } from './rejection';
import { statement } from './statements';

export interface MemberRow {
  user_id: string;
  public_key: string;
  display_name: string;
  role: 'teacher' | 'student';
  joined_at: number;
  removed_at: number | null;
  /** Their X25519 public key, what items are sealed for; null for members who joined before items were sealed. */
  box_key: string | null;
}

export interface AssignmentRow {
  assignment_id: string;
  title: string;
  instructions: string;
  points_possible: number | null;
  due_at: number | null;
  cut_off_at: number | null;
  published: number;
  materials: string;
  created_by: string;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface CommandContext {
  db: Database.Database;
  signed: SignedCommand;
  /** Derived from the verified signature. */
  authorId: string;
  /** The author as a current member, or null (only createClass and joinClass accept that). */
  author: MemberRow | null;
  /** The committed time of this command by the class clock. */
  now: number;
  /** The newest class rules this build applies (shared/classroom/rules.ts). */
  knownRules: number;
}

export type Handler<C extends LogCommand> = (context: CommandContext, command: C) => void;

export function memberOf(db: Database.Database, userId: string): MemberRow | undefined {
  return statement(db, 'SELECT * FROM members WHERE user_id = ?').get(userId) as MemberRow | undefined;
}

/** `userId` as a member of the class now (not removed), or undefined. */
export function currentMember(db: Database.Database, userId: string): MemberRow | undefined {
  const member = memberOf(db, userId);
  return member && member.removed_at === null ? member : undefined;
}

export function requireTeacher(context: CommandContext): MemberRow {
  const { author } = context;
  if (!author) refuse('NOT_A_MEMBER', 'Only members of the class can do this.');
  if (author.role !== 'teacher') refuse('NOT_ALLOWED', 'Only a teacher can do this.');
  return author;
}

export function requireStudent(context: CommandContext): MemberRow {
  const { author } = context;
  if (!author) refuse('NOT_A_MEMBER', 'Only members of the class can do this.');
  if (author.role !== 'student') refuse('NOT_ALLOWED', 'Only a student can do this, for their own work.');
  return author;
}

/** A current student of the class (for a teacher acting on a student's work). */
export function requireStudentMember(db: Database.Database, studentId: string): MemberRow {
  const student = memberOf(db, studentId);
  if (!student || student.removed_at !== null || student.role !== 'student') refuse('NOT_FOUND', 'That student is not in the class.');
  return student;
}

export function requireAssignment(db: Database.Database, assignmentId: string): AssignmentRow {
  const row = statement(db, 'SELECT * FROM assignments WHERE assignment_id = ?').get(assignmentId) as AssignmentRow | undefined;
  if (!row) refuse('NOT_FOUND', 'That assignment does not exist.');
  return row;
}

/** An assignment a student may see and work on: published. */
export function requirePublishedAssignment(db: Database.Database, assignmentId: string): AssignmentRow {
  const row = requireAssignment(db, assignmentId);
  if (!row.published) refuse('NOT_FOUND', 'That assignment does not exist.');
  return row;
}
