// Reading the classroom for one viewer. Every query takes the viewer's user id and shows only
// what they may see: a student their own work and returned grades, a teacher everything.
// Whole-class views read each table once and join in memory (a year is ~8,000 submissions).
// Drafts (with the names, types and sizes of their files), grades and comments are sealed: the
// views open them with the viewer's opener (their box key), so a view shows what the viewer can
// read and a sentence (or a file named for nothing) for what they cannot.
import type Database from 'better-sqlite3';
import type { FileRef, RejectionCode } from '../../shared/classroom/commands';
import type { AssignmentView, Gradebook, GradeView, MemberView, RejectionView, SubmissionView } from '../../shared/classroom/views';
import { memberOf, type AssignmentRow, type MemberRow } from './context';
import { openedGrade, openedText, openedWork, type OpenedGrade } from './opened';
import { openAll, withOpened, type ItemOpener } from './sealing/opener';
import { refuse } from './rejection';
import { statusOf } from './status';
import { statement } from './statements';

interface SubmissionRow {
  assignment_id: string;
  student_id: string;
  text: string;
  item_id: string | null;
  files: string;
  turned_in: number;
  turned_in_at: number | null;
  turned_in_client_at: number | null;
  attempts: number;
  version: number;
}

interface GradeRow {
  assignment_id: string;
  student_id: string;
  score: number | null;
  feedback: string;
  item_id: string | null;
  excused: number;
  returned_score: number | null;
  returned_feedback: string | null;
  returned_item_id: string | null;
  returned_at: number | null;
  version: number;
}

/** The viewer's side of a whole-class read: who they are, and their key to open items. */
interface Reading {
  db: Database.Database;
  opener: ItemOpener;
  viewer: MemberRow;
}

/** The viewer as a current member; anyone else sees nothing. */
export function viewerOf(db: Database.Database, userId: string): MemberRow {
  const member = memberOf(db, userId);
  if (!member || member.removed_at !== null) refuse('NOT_A_MEMBER', 'You are not a member of this class.');
  return member;
}

export function members(db: Database.Database, viewerId: string): MemberView[] {
  viewerOf(db, viewerId);
  const laptops = new Map<string, string[]>();
  for (const row of statement(db, 'SELECT user_id, laptop_id FROM member_laptops ORDER BY laptop_id').all() as { user_id: string; laptop_id: string }[]) {
    laptops.set(row.user_id, [...(laptops.get(row.user_id) ?? []), row.laptop_id]);
  }
  const rows = statement(db, 'SELECT * FROM members WHERE removed_at IS NULL ORDER BY role DESC, display_name, user_id').all() as MemberRow[];
  return rows.map((m) => ({ userId: m.user_id, displayName: m.display_name, role: m.role, laptops: laptops.get(m.user_id) ?? [] }));
}

export function assignments(db: Database.Database, viewerId: string): AssignmentView[] {
  const viewer = viewerOf(db, viewerId);
  const rows = statement(db, 'SELECT * FROM assignments ORDER BY coalesce(due_at, 9e15), created_at, assignment_id').all() as AssignmentRow[];
  const extensions = extensionsOf(db, viewer.role === 'student' ? viewer.user_id : null);
  return rows
    .filter((row) => viewer.role === 'teacher' || row.published)
    .map((row) => assignmentView(row, viewer.role === 'student' ? dueWithExtension(row, extensions.get(key(row.assignment_id, viewer.user_id))) : row.due_at));
}

/** One student's work on one assignment, opened for the opener's user; a student may only ask for their own. */
export function submission(db: Database.Database, opener: ItemOpener, assignmentId: string, studentId: string, now: number): SubmissionView {
  const viewer = viewerOf(db, opener.userId);
  if (viewer.role === 'student' && viewer.user_id !== studentId) refuse('NOT_ALLOWED', 'You can only see your own work.');
  const assignment = statement(db, 'SELECT * FROM assignments WHERE assignment_id = ?').get(assignmentId) as AssignmentRow | undefined;
  if (!assignment || (viewer.role === 'student' && !assignment.published)) refuse('NOT_FOUND', 'That assignment does not exist.');
  const row = statement(db, 'SELECT * FROM submissions WHERE assignment_id = ? AND student_id = ?').get(assignmentId, studentId) as SubmissionRow | undefined;
  const gradeRow = statement(db, 'SELECT * FROM grades WHERE assignment_id = ? AND student_id = ?').get(assignmentId, studentId) as GradeRow | undefined;
  const due = dueWithExtension(assignment, extensionsOf(db, studentId).get(key(assignmentId, studentId)));
  const comments = statement(
      db,
      `SELECT c.comment_id, c.author_id, coalesce(m.display_name, '') AS author_name, c.text, c.item_id, c.at FROM comments c
       LEFT JOIN members m ON m.user_id = c.author_id WHERE c.assignment_id = ? AND c.student_id = ? ORDER BY c.at, c.comment_id`,
    )
    .all(assignmentId, studentId) as { comment_id: string; author_id: string; author_name: string; text: string; item_id: string | null; at: number }[];
  const reading = { db, opener, viewer };
  return {
    ...submissionView(reading, assignment, studentId, row, gradeRow, due, now),
    ...(row ? openedWork(db, opener, row.item_id, { text: row.text, files: JSON.parse(row.files) as FileRef[] }) : { text: '', files: [] }),
    comments: comments.map((c) => ({
      commentId: c.comment_id,
      authorId: c.author_id,
      authorName: c.author_name,
      text: openedText(db, opener, c.item_id, c.text),
      at: c.at,
    })),
  };
}

/**
 * Students by assignments, opened for the opener's user. A teacher sees every student and draft
 * scores (opening every grade); a student only their own row and returned scores.
 */
export function gradebook(db: Database.Database, opener: ItemOpener, now: number): Gradebook {
  const viewer = viewerOf(db, opener.userId);
  const assignmentRows = (statement(db, 'SELECT * FROM assignments ORDER BY coalesce(due_at, 9e15), created_at, assignment_id').all() as AssignmentRow[]).filter(
    (a) => viewer.role === 'teacher' || a.published,
  );
  const students = (
    statement(db, "SELECT user_id, display_name FROM members WHERE role = 'student' AND removed_at IS NULL ORDER BY display_name, user_id").all() as {
      user_id: string;
      display_name: string;
    }[]
  ).filter((s) => viewer.role === 'teacher' || s.user_id === viewer.user_id);
  const only = viewer.role === 'student' ? viewer.user_id : null;
  const submissions = byKey(
    (only
      ? statement(db, 'SELECT * FROM submissions WHERE student_id = ?').all(only)
      : statement(db, 'SELECT * FROM submissions').all()) as SubmissionRow[],
  );
  const grades = byKey((only ? statement(db, 'SELECT * FROM grades WHERE student_id = ?').all(only) : statement(db, 'SELECT * FROM grades').all()) as GradeRow[]);
  const extensions = extensionsOf(db, only);
  // Every grade the view shows opened in one pass (a teacher's drafts, a student's returned grades), not one query each.
  const shown = [...grades.values()].map((g) => (viewer.role === 'teacher' ? g.item_id : g.returned_at === null ? null : g.returned_item_id));
  const itemIds = shown.filter((itemId): itemId is string => itemId !== null);
  const reading = { db, opener: withOpened(opener, openAll(db, opener, itemIds)), viewer };
  return {
    assignments: assignmentRows.map((a) => ({ assignmentId: a.assignment_id, title: a.title, pointsPossible: a.points_possible, dueAt: a.due_at })),
    rows: students.map((s) => ({
      student: { userId: s.user_id, displayName: s.display_name },
      cells: assignmentRows.map((a) => {
        const k = key(a.assignment_id, s.user_id);
        const extension = extensions.get(k);
        const dueAt = dueWithExtension(a, extension);
        const view = submissionView(reading, a, s.user_id, submissions.get(k), grades.get(k), dueAt, now);
        return { status: view.status, score: view.grade?.score ?? null, dueAt, extended: extension !== undefined };
      }),
    })),
  };
}

/** The author's refused commands, newest first: what did not happen, and why. */
export function rejectionsFor(db: Database.Database, authorId: string): RejectionView[] {
  const rows = statement(db, 'SELECT * FROM rejections WHERE author_id = ? ORDER BY at DESC, command_id').all(authorId) as {
    command_id: string;
    type: string;
    assignment_id: string | null;
    code: RejectionCode;
    reason: string;
    client_at: number;
    at: number;
  }[];
  return rows.map((r) => ({
    commandId: r.command_id,
    type: r.type,
    assignmentId: r.assignment_id,
    code: r.code,
    reason: r.reason,
    clientAt: r.client_at,
    at: r.at,
  }));
}

/** Everything but the text and the comments (which only a single submission's view opens). */
function submissionView(
  reading: Reading,
  assignment: AssignmentRow,
  studentId: string,
  row: SubmissionRow | undefined,
  gradeRow: GradeRow | undefined,
  dueAt: number | null,
  now: number,
): SubmissionView {
  const viewer = reading.viewer.role;
  const assignmentId = assignment.assignment_id;
  const draft = viewer === 'teacher' && gradeRow ? openedDraft(reading, gradeRow, assignment) : null;
  const grade = gradeView(reading, assignment, gradeRow, draft);
  return {
    assignmentId,
    studentId,
    status: statusOf({
      viewer,
      dueAt,
      turnedIn: row?.turned_in === 1,
      turnedInAt: row?.turned_in_at ?? null,
      draftGraded: draft !== null && (draft.score !== null || draft.feedback !== ''),
      returned: gradeRow?.returned_at != null,
      excused: gradeRow?.excused === 1,
      now,
    }),
    text: '',
    files: row ? (JSON.parse(row.files) as FileRef[]) : [],
    turnedIn: row?.turned_in === 1,
    turnedInAt: row?.turned_in_at ?? null,
    turnedInClientAt: row?.turned_in_client_at ?? null,
    attempts: row?.attempts ?? 0,
    dueAt,
    version: row?.version ?? 0,
    grade,
    comments: [],
  };
}

/** The teacher's draft grade, opened. */
function openedDraft({ db, opener }: Reading, row: GradeRow, assignment: AssignmentRow): OpenedGrade {
  return openedGrade(db, opener, row.item_id, { score: row.score, feedback: row.feedback }, assignment.points_possible);
}

/** The grade as the viewer may see it: a teacher the draft (opened already), a student only what was returned. */
function gradeView(reading: Reading, assignment: AssignmentRow, row: GradeRow | undefined, draft: OpenedGrade | null): GradeView | null {
  if (!row) return null;
  if (draft) return { ...draft, excused: row.excused === 1, returnedAt: row.returned_at, version: row.version };
  if (row.returned_at === null && row.excused !== 1) return null;
  const returned =
    row.returned_at === null
      ? { score: null, feedback: '' }
      : openedGrade(reading.db, reading.opener, row.returned_item_id, { score: row.returned_score, feedback: row.returned_feedback ?? '' }, assignment.points_possible);
  return { ...returned, excused: row.excused === 1, returnedAt: row.returned_at, version: row.version };
}

function assignmentView(row: AssignmentRow, dueAt: number | null): AssignmentView {
  return {
    assignmentId: row.assignment_id,
    title: row.title,
    instructions: row.instructions,
    pointsPossible: row.points_possible,
    dueAt,
    cutOffAt: row.cut_off_at,
    published: row.published === 1,
    materials: JSON.parse(row.materials) as FileRef[],
    version: row.version,
  };
}

const key = (assignmentId: string, studentId: string) => `${assignmentId}\u0000${studentId}`;

function byKey<R extends { assignment_id: string; student_id: string }>(rows: R[]): Map<string, R> {
  return new Map(rows.map((r) => [key(r.assignment_id, r.student_id), r]));
}

/** Extensions by (assignment, student), for one student or all. undefined inside: no extension. */
function extensionsOf(db: Database.Database, studentId: string | null): Map<string, { due_at: number | null }> {
  const rows = (studentId
    ? statement(db, 'SELECT * FROM extensions WHERE student_id = ?').all(studentId)
    : statement(db, 'SELECT * FROM extensions').all()) as { assignment_id: string; student_id: string; due_at: number | null }[];
  return new Map(rows.map((r) => [key(r.assignment_id, r.student_id), r]));
}

function dueWithExtension(row: AssignmentRow, extension: { due_at: number | null } | undefined): number | null {
  return extension ? extension.due_at : row.due_at;
}

/** The class's current join code (canonical form), or null when none is in use or the class is not created yet. */
export function currentJoinCode(db: Database.Database): string | null {
  return (statement(db, 'SELECT join_code FROM class_info WHERE id = 1').pluck().get() as string | null | undefined) ?? null;
}

/** A file the class refers to, and the laptops of the users who attached it. */
export interface ClassFile {
  sha256: string;
  /** The declared name and size of its first reference (materials, then drafts, then turn-ins). */
  name: string;
  size: number;
  /** Laptops of a material's teacher or a submission's student, sorted. */
  ownerLaptops: string[];
}

/**
 * Every file the class refers to (materials, drafts, turned-in attempts), once, sorted by hash,
 * with its owners' laptops: the peer's list of what the laptops that keep copies must hold
 * (electron/peer/kept-files.ts), not a viewer's read.
 */
export function classFiles(db: Database.Database): ClassFile[] {
  const lists = [
    ...(statement(db, `SELECT created_by AS owner, materials AS files FROM assignments WHERE materials <> '[]' ORDER BY assignment_id`).all() as OwnedFiles[]),
    ...(statement(db, `SELECT student_id AS owner, files FROM submissions WHERE files <> '[]' ORDER BY assignment_id, student_id`).all() as OwnedFiles[]),
    ...(statement(db, `SELECT student_id AS owner, files FROM attempts WHERE files <> '[]' ORDER BY assignment_id, student_id, attempt`).all() as OwnedFiles[]),
  ];
  const laptops = new Map<string, string[]>();
  for (const row of statement(db, 'SELECT user_id, laptop_id FROM member_laptops ORDER BY laptop_id').all() as { user_id: string; laptop_id: string }[]) {
    laptops.set(row.user_id, [...(laptops.get(row.user_id) ?? []), row.laptop_id]);
  }
  const found = new Map<string, { file: FileRef; owners: Set<string> }>();
  for (const { owner, files } of lists) {
    for (const file of JSON.parse(files) as FileRef[]) {
      const entry = found.get(file.sha256) ?? { file, owners: new Set<string>() };
      entry.owners.add(owner);
      found.set(file.sha256, entry);
    }
  }
  return [...found.values()]
    .sort((a, b) => (a.file.sha256 < b.file.sha256 ? -1 : a.file.sha256 > b.file.sha256 ? 1 : 0))
    .map(({ file, owners }) => ({
      sha256: file.sha256,
      name: file.name,
      size: file.size,
      ownerLaptops: [...new Set([...owners].flatMap((owner) => laptops.get(owner) ?? []))].sort(),
    }));
}

interface OwnedFiles {
  owner: string;
  files: string;
}
