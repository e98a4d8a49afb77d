// One student's work on one assignment, open on screen: a student's own (to write, save, turn in
// and unsubmit), or a student's as their teacher grades it. Kept live while open.
import type { FileRef } from '../../../shared/classroom/commands';
import type { SubmissionView } from '../../../shared/classroom/views';
import { explainError } from '../lib/errors';
import { newId } from '../lib/ids';
import { classroom, type SubmitOutcome } from './classroom.svelte';
import { session } from './session.svelte';

export class WorkManager {
  /** What is open: an assignment and a student of the open class. */
  open = $state<{ classId: string; assignmentId: string; studentId: string } | null>(null);
  view = $state<SubmissionView | null>(null);
  problem = $state<string | null>(null);

  private readSeq = 0;

  constructor() {
    session.onClassChanged((classId) => {
      if (classId === this.open?.classId) void this.refresh();
    });
  }

  /** Show `studentId`'s work on `assignmentId` (again, if it is already open: re-read). */
  show(assignmentId: string, studentId: string): void {
    const classId = session.selectedClassId;
    if (!classId) return;
    const same = this.open?.classId === classId && this.open.assignmentId === assignmentId && this.open.studentId === studentId;
    if (!same) {
      this.open = { classId, assignmentId, studentId };
      this.view = null;
      this.problem = null;
    }
    void this.refresh();
  }

  close(): void {
    this.open = null;
    this.view = null;
    this.readSeq++;
  }

  async refresh(): Promise<void> {
    const open = this.open;
    if (!open) return;
    const seq = ++this.readSeq;
    try {
      const view = await session.client.methods.submission(open);
      if (seq !== this.readSeq) return;
      this.view = view;
      this.problem = null;
    } catch (error) {
      if (seq === this.readSeq) this.problem = explainError(error);
    }
  }

  // ---- a student's own work ------------------------------------------------------------

  /** Save the text (and the files: those already attached unless given). */
  saveDraft(assignmentId: string, title: string, text: string, baseVersion: number, files?: FileRef[]): Promise<SubmitOutcome> {
    const attached = files ?? (this.view?.assignmentId === assignmentId ? this.view.files : []);
    return this.after(classroom.submit({ type: 'saveDraft', assignmentId, baseVersion, text, files: attached }, `Save your work on ${title}`));
  }

  turnIn(assignmentId: string, title: string): Promise<SubmitOutcome> {
    return this.after(classroom.submit({ type: 'turnIn', assignmentId }, `Turn in ${title}`));
  }

  unsubmit(assignmentId: string, title: string): Promise<SubmitOutcome> {
    return this.after(classroom.submit({ type: 'unsubmit', assignmentId }, `Unsubmit ${title}`));
  }

  // ---- a teacher grading ---------------------------------------------------------------

  grade(assignmentId: string, studentId: string, score: number | null, feedback: string, baseVersion: number, label: string): Promise<SubmitOutcome> {
    return this.after(classroom.submit({ type: 'grade', assignmentId, studentId, baseVersion, score, feedback }, `Grade ${label}`));
  }

  returnGrade(assignmentId: string, studentId: string, label: string): Promise<SubmitOutcome> {
    return this.after(classroom.submit({ type: 'returnGrade', assignmentId, studentId }, `Return the grade of ${label}`));
  }

  excuse(assignmentId: string, studentId: string, excused: boolean, label: string): Promise<SubmitOutcome> {
    return this.after(classroom.submit({ type: 'excuse', assignmentId, studentId, excused }, `${excused ? 'Excuse' : 'Stop excusing'} ${label}`));
  }

  /** Give one student their own due date (null: none), replacing the assignment's for them. */
  grantExtension(assignmentId: string, studentId: string, dueAt: number | null, label: string): Promise<SubmitOutcome> {
    return this.after(classroom.submit({ type: 'grantExtension', assignmentId, studentId, dueAt }, `Give ${label} an extension`));
  }

  // ---- the private thread (the student and the class's teachers) ------------------------

  comment(assignmentId: string, studentId: string, text: string): Promise<SubmitOutcome> {
    return this.after(classroom.submit({ type: 'comment', commentId: newId(), assignmentId, studentId, text }, 'Post a private comment'));
  }

  /** Re-read the open work once a change is answered, whatever the answer. */
  private async after(outcome: Promise<SubmitOutcome>): Promise<SubmitOutcome> {
    const result = await outcome;
    await this.refresh();
    return result;
  }
}

export const work = new WorkManager();
