// One student's status on one assignment, from the facts the tables hold. Pure.
import type { Role, SubmissionStatus } from '../../shared/classroom/views';

export interface StatusFacts {
  viewer: Role;
  /** The student's due date (extension included), or null for none. */
  dueAt: number | null;
  turnedIn: boolean;
  turnedInAt: number | null;
  /** A teacher's draft score or feedback exists. */
  draftGraded: boolean;
  returned: boolean;
  excused: boolean;
  /** The class clock (or the viewer's time) for "missing". */
  now: number;
}

export function statusOf(facts: StatusFacts): SubmissionStatus {
  if (facts.excused) return 'excused';
  if (facts.returned) return 'returned';
  // A draft grade is the teacher's business until it is returned.
  if (facts.viewer === 'teacher' && facts.draftGraded && facts.turnedIn) return 'graded';
  if (facts.turnedIn) return facts.dueAt !== null && facts.turnedInAt !== null && facts.turnedInAt > facts.dueAt ? 'late' : 'turnedIn';
  return facts.dueAt !== null && facts.now > facts.dueAt ? 'missing' : 'assigned';
}
