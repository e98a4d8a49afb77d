// The gradebook of the open class: every student by every assignment for a teacher, a student's
// own row for a student. The teacher's screens also read each assignment's submissions from it.
import type { Gradebook, GradebookCell } from '../../../shared/classroom/views';
import { downloadText } from '../lib/download';
import { errorCode, explainError } from '../lib/errors';
import { session } from './session.svelte';

export class GradebookManager {
  book = $state<{ classId: string; gradebook: Gradebook } | null>(null);
  problem = $state<string | null>(null);
  exporting = $state(false);

  readonly current: Gradebook | null = $derived(this.book?.classId === session.selectedClassId ? this.book.gradebook : null);

  private readSeq = 0;

  constructor() {
    session.onClassChanged((classId) => {
      if (classId === session.selectedClassId) void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    const classId = session.selectedClassId;
    if (!classId || !session.ready) return;
    const seq = ++this.readSeq;
    try {
      const gradebook = await session.client.methods.gradebook({ classId });
      if (seq !== this.readSeq) return;
      this.book = { classId, gradebook };
      this.problem = null;
    } catch (error) {
      if (seq !== this.readSeq) return;
      // Not registered yet (still joining): nothing to show, and nothing wrong.
      this.problem = errorCode(error) === 'NOT_A_MEMBER' ? null : explainError(error);
    }
  }

  /** Each student's cell for one assignment. */
  cellsFor(assignmentId: string): { student: { userId: string; displayName: string }; cell: GradebookCell }[] {
    const book = this.current;
    if (!book) return [];
    const column = book.assignments.findIndex((a) => a.assignmentId === assignmentId);
    if (column < 0) return [];
    return book.rows.map((row) => ({ student: row.student, cell: row.cells[column]! }));
  }

  /** This student's (or, for a student, their own) cell for one assignment. */
  cellOf(assignmentId: string, studentId: string): GradebookCell | null {
    return this.cellsFor(assignmentId).find((entry) => entry.student.userId === studentId)?.cell ?? null;
  }

  /**
   * The assignment's own due date, which the gradebook carries even for a student with an
   * extension (their assignment view carries their own); undefined while not known.
   */
  assignmentDue(assignmentId: string): number | null | undefined {
    const column = this.current?.assignments.find((a) => a.assignmentId === assignmentId);
    return column === undefined ? undefined : column.dueAt;
  }

  /** Save the gradebook as a CSV file; resolves with a sentence on failure, null on success. */
  async exportCsv(className: string): Promise<string | null> {
    const classId = session.selectedClassId;
    if (!classId) return 'Open a class first.';
    this.exporting = true;
    try {
      const { csv } = await session.client.methods.exportGradebook({ classId });
      const safeName = className.replace(/[^\p{L}\p{N} _-]+/gu, '').trim() || 'class';
      downloadText(`${safeName} gradebook.csv`, csv);
      return null;
    } catch (error) {
      return explainError(error);
    } finally {
      this.exporting = false;
    }
  }
}

export const gradebook = new GradebookManager();
