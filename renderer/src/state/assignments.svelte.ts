// Creating and editing assignments (teachers). An edit names the version it started from; when
// someone else saved in between, the class refuses it as stale, and the editor shows both.
import type { AssignmentView } from '../../../shared/classroom/views';
import { newId } from '../lib/ids';
import { classroom, type SubmitOutcome } from './classroom.svelte';

/** What the editor's form holds: the assignment's own fields, its materials' references among them (their bytes travel apart). */
export type AssignmentFields = Pick<AssignmentView, 'title' | 'instructions' | 'pointsPossible' | 'dueAt' | 'cutOffAt' | 'published' | 'materials'>;

export class AssignmentManager {
  /** The open class's assignment `assignmentId`, or null. */
  find(assignmentId: string): AssignmentView | null {
    return classroom.current?.assignments.find((a) => a.assignmentId === assignmentId) ?? null;
  }

  /** New assignments not yet saved by the class, to list beside the saved ones. */
  pendingNew(): { assignmentId: string; title: string; dueAt: number | null; state: 'sending' | 'waiting' }[] {
    return classroom.pendingHere.flatMap((p) =>
      p.command.type === 'createAssignment' ? [{ assignmentId: p.command.assignmentId, title: p.command.title, dueAt: p.command.dueAt, state: p.state }] : [],
    );
  }

  /** Whether an edit of `assignmentId` is waiting to be saved. */
  editPending(assignmentId: string): boolean {
    return classroom.pendingHere.some((p) => p.command.type === 'editAssignment' && p.command.assignmentId === assignmentId);
  }

  /** Create a new assignment; resolves with its id and what became of it. */
  async create(fields: AssignmentFields): Promise<{ assignmentId: string; outcome: SubmitOutcome }> {
    const assignmentId = newId();
    const outcome = await classroom.submit({ type: 'createAssignment', assignmentId, ...fields }, `Create “${fields.title}”`);
    return { assignmentId, outcome };
  }

  /** Save an edit made from version `baseVersion` of `existing`. */
  edit(existing: AssignmentView, fields: AssignmentFields, baseVersion: number): Promise<SubmitOutcome> {
    return classroom.submit(
      { type: 'editAssignment', assignmentId: existing.assignmentId, baseVersion, ...fields },
      `Edit “${fields.title}”`,
    );
  }
}

export const assignments = new AssignmentManager();
