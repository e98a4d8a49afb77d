// Which students have their own due date for one assignment, for the list of its submissions a
// teacher has open. The gradebook does not carry a student's due date; each student's
// submission view does (their extension, else the assignment's), so those are read, again
// whenever the class changes while the list is open.
import { session } from './session.svelte';

/** Reads at once: a class of thirty is read in four rounds, without flooding the service. */
const PARALLEL_READS = 8;

interface Watched {
  classId: string;
  assignmentId: string;
  /** The students to read, as the page knows them when a read starts. */
  students: () => string[];
}

export class ExtensionManager {
  /** Each student's due date for the watched assignment, as last read. */
  dueDates = $state<{ classId: string; assignmentId: string; byStudent: Record<string, number | null> } | null>(null);

  private watched: Watched | null = null;
  private readSeq = 0;

  constructor() {
    session.onClassChanged((classId) => {
      if (classId === this.watched?.classId) void this.refresh();
    });
  }

  /** Keep the due dates of `students` for `assignmentId` of the open class, until stop(). */
  watch(assignmentId: string, students: () => string[]): void {
    const classId = session.selectedClassId;
    if (!classId) return;
    this.watched = { classId, assignmentId, students };
    if (this.dueDates?.classId !== classId || this.dueDates.assignmentId !== assignmentId) this.dueDates = null;
    void this.refresh();
  }

  stop(): void {
    this.watched = null;
    this.readSeq++;
  }

  /**
   * The student's own due date when it is not the assignment's (`assignmentDue`), so an
   * extension; undefined when they have none, or it is not known yet.
   */
  extensionOf(assignmentId: string, studentId: string, assignmentDue: number | null): number | null | undefined {
    const dates = this.dueDates;
    if (dates?.classId !== session.selectedClassId || dates.assignmentId !== assignmentId || !(studentId in dates.byStudent)) return undefined;
    const own = dates.byStudent[studentId]!;
    return own === assignmentDue ? undefined : own;
  }

  async refresh(): Promise<void> {
    const watched = this.watched;
    if (!watched || !session.ready) return;
    const seq = ++this.readSeq;
    const { classId, assignmentId } = watched;
    const students = watched.students();
    const byStudent: Record<string, number | null> = {};
    try {
      for (let i = 0; i < students.length; i += PARALLEL_READS) {
        const views = await Promise.all(
          students.slice(i, i + PARALLEL_READS).map((studentId) => session.client.methods.submission({ classId, assignmentId, studentId })),
        );
        if (seq !== this.readSeq) return;
        for (const view of views) byStudent[view.studentId] = view.dueAt;
      }
    } catch {
      // A student removed meanwhile, or the service busy: the next change reads again, and
      // until then the list shows what it knew (the grading panel shows the student's own date).
      return;
    }
    if (seq === this.readSeq) this.dueDates = { classId, assignmentId, byStudent };
  }
}

export const extensions = new ExtensionManager();
