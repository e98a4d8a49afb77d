// The gradebook as CSV for a spreadsheet: teachers only. One row per student, one column per
// assignment; a cell is the score, or the status when there is no score.
import type Database from 'better-sqlite3';
import { gradebook, viewerOf } from './queries';
import type { ItemOpener } from './sealing/opener';
import { refuse } from './rejection';

export function gradebookCsv(db: Database.Database, opener: ItemOpener, now: number): string {
  if (viewerOf(db, opener.userId).role !== 'teacher') refuse('NOT_ALLOWED', 'Only a teacher can export the gradebook.');
  const book = gradebook(db, opener, now);
  const header = ['Student', ...book.assignments.map((a) => (a.pointsPossible === null ? a.title : `${a.title} (${a.pointsPossible})`))];
  const rows = book.rows.map((row) => [row.student.displayName, ...row.cells.map((cell) => (cell.score !== null ? String(cell.score) : cell.status))]);
  return [header, ...rows].map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180 quoting, and a leading quote for text a spreadsheet would run as a formula. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
