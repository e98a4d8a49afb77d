// What a reader makes of a sealed item once opened: its fields checked (a laptop that was
// tampered with can seal anything), a score checked against the assignment's range, and a
// sentence in place of what cannot be opened. Never throws: a view always shows.
import type { ItemOpener } from './sealing/opener';
import type Database from 'better-sqlite3';
import type { FileRef } from '../../shared/classroom/commands';
import { attachmentsIn, shownReferenceOf } from './sealing/attachments';

/** Shown instead of text this reader cannot open. */
export const UNREADABLE_TEXT = '[This cannot be opened on this laptop: it has not been shared with you yet, or it was damaged on the way.]';
/** Shown instead of a grade this reader cannot open. */
export const UNREADABLE_GRADE = '[This grade cannot be opened on this laptop: it has not been shared with you yet, or it was damaged on the way.]';

/** The text of a draft or a comment: sealed in `itemId`, or the clear text of a row from before items were sealed. */
export function openedText(db: Database.Database, opener: ItemOpener, itemId: string | null, clearText: string): string {
  if (itemId === null) return clearText;
  const content = opener.open(db, itemId);
  return isRecord(content) && typeof content.text === 'string' ? content.text : UNREADABLE_TEXT;
}

/**
 * A draft's (or turned-in attempt's) text and files as the reader sees them: each sealed file
 * under its own name, type and size (its hash stays the sealed copy's, which is what is read);
 * a file the reader cannot open keeps the reference that names nothing of it.
 */
export function openedWork(db: Database.Database, opener: ItemOpener, itemId: string | null, clear: { text: string; files: FileRef[] }): { text: string; files: FileRef[] } {
  if (itemId === null) return clear;
  const content = opener.open(db, itemId);
  const text = isRecord(content) && typeof content.text === 'string' ? content.text : UNREADABLE_TEXT;
  const attachments = attachmentsIn(content);
  if (attachments === null) return { text, files: clear.files };
  const files = clear.files.map((file) => {
    const attachment = attachments.find((candidate) => candidate.sha256 === file.sha256);
    return attachment ? shownReferenceOf(attachment) : file;
  });
  return { text, files };
}

export interface OpenedGrade {
  score: number | null;
  feedback: string;
}

/** A grade's score and feedback, the score only if it fits `pointsPossible` (else a sentence says why it is not shown). */
export function openedGrade(
  db: Database.Database,
  opener: ItemOpener,
  itemId: string | null,
  clear: OpenedGrade,
  pointsPossible: number | null,
): OpenedGrade {
  if (itemId === null) return clear;
  const content = opener.open(db, itemId);
  if (!isRecord(content) || typeof content.feedback !== 'string' || (content.score !== null && typeof content.score !== 'number')) {
    return { score: null, feedback: UNREADABLE_GRADE };
  }
  const score = content.score as number | null;
  const problem = scoreProblem(score, pointsPossible);
  if (problem) return { score: null, feedback: `[${problem} So this grade’s score is not shown.]${content.feedback ? `\n\n${content.feedback}` : ''}` };
  return { score, feedback: content.feedback };
}

/** Why `score` does not fit an assignment of `pointsPossible` points, or null when it does. */
export function scoreProblem(score: number | null, pointsPossible: number | null): string | null {
  if (score === null) return null;
  if (pointsPossible === null) return 'This assignment is ungraded, so it takes feedback but no score.';
  if (Number.isFinite(score) && score > pointsPossible) return `The score can be at most ${pointsPossible} points.`;
  if (!Number.isFinite(score) || score < 0) return `The score must be a number from 0 to ${pointsPossible}.`;
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
