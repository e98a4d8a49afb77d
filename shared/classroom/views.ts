// What the classroom shows, per viewer: the read side of the commands. A student's views hold
// only their own work and only returned grades. Runs anywhere.
import type { FileRef, RejectionCode } from './commands';

export type Role = 'teacher' | 'student';

/** Where one student stands on one assignment. */
export type SubmissionStatus = 'assigned' | 'turnedIn' | 'late' | 'missing' | 'graded' | 'returned' | 'excused';

export interface MemberView {
  userId: string;
  displayName: string;
  role: Role;
  laptops: string[];
}

export interface AssignmentView {
  assignmentId: string;
  title: string;
  instructions: string;
  pointsPossible: number | null;
  /** For a student: their own due date (an extension replaces the assignment's). */
  dueAt: number | null;
  cutOffAt: number | null;
  published: boolean;
  materials: FileRef[];
  version: number;
}

export interface GradeView {
  score: number | null;
  feedback: string;
  excused: boolean;
  /** When it was returned; null for a draft (only teachers ever see drafts). */
  returnedAt: number | null;
  version: number;
}

/** One message of the private thread between a student and the class's teachers about one assignment. */
export interface CommentView {
  commentId: string;
  authorId: string;
  authorName: string;
  text: string;
  at: number;
}

export interface SubmissionView {
  assignmentId: string;
  studentId: string;
  status: SubmissionStatus;
  text: string;
  /**
   * Attached files. A file sealed with the work shows its own name, type and size to those who
   * can open the work; its sha256 names its sealed copy, which is what readFile takes.
   */
  files: FileRef[];
  turnedIn: boolean;
  /** Committed time of the last turn-in (lateness follows this), and the student's own clock then. */
  turnedInAt: number | null;
  turnedInClientAt: number | null;
  attempts: number;
  /** This student's due date: their extension, else the assignment's. */
  dueAt: number | null;
  version: number;
  grade: GradeView | null;
  /** The private thread, oldest first (only in a single submission's view; empty in lists). */
  comments: CommentView[];
}

export interface GradebookCell {
  status: SubmissionStatus;
  score: number | null;
  /** This student's due date: their extension, else the assignment's. */
  dueAt: number | null;
  /** Whether the teacher gave this student their own due date (even one equal to the assignment's). */
  extended: boolean;
}

export interface Gradebook {
  assignments: { assignmentId: string; title: string; pointsPossible: number | null; dueAt: number | null }[];
  rows: { student: { userId: string; displayName: string }; cells: GradebookCell[] }[];
}

export interface RejectionView {
  commandId: string;
  type: string;
  /** The assignment the refused command was about, if any. */
  assignmentId: string | null;
  code: RejectionCode;
  reason: string;
  clientAt: number;
  at: number;
}

/** A laptop asking to join a class whose teacher approves each student: for teachers only. */
export interface JoinRequestView {
  /** The laptop, as the class's laptops authenticated it. */
  laptopId: string;
  /** The name the person asked as (theirs to choose). */
  displayName: string;
  /** When the class recorded the request (the class clock). */
  askedAt: number;
  /** Whose laptop was the door it asked at. */
  recordedByName: string;
  /** A teacher said no (another may let it in after all); else it waits for an answer. */
  refused: boolean;
}
