// How times, statuses and laptops read on screen. Pure.
import type { SubmissionStatus } from '../../../shared/classroom/views';

const dateTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const dateTimeWithYear = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** "Tue 14 Jan, 09:00" (with the year when it is not this year), or the fallback for no date. */
export function formatWhen(ms: number | null, none = 'No due date'): string {
  if (ms === null) return none;
  const date = new Date(ms);
  return (date.getFullYear() === new Date().getFullYear() ? dateTime : dateTimeWithYear).format(date);
}

/** "Due Tue 14 Jan, 09:00" or "No due date". */
export function formatDue(ms: number | null): string {
  return ms === null ? 'No due date' : `Due ${formatWhen(ms)}`;
}

/** The value of an <input type="datetime-local"> for `ms`, in this laptop's time zone. */
export function toDateTimeInput(ms: number | null): string {
  if (ms === null) return '';
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Milliseconds for the value of an <input type="datetime-local">, or null when it is empty or unreadable. */
export function fromDateTimeInput(value: string): number | null {
  if (value.trim() === '') return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

export const STATUS_LABELS: Record<SubmissionStatus, string> = {
  assigned: 'Assigned',
  turnedIn: 'Turned in',
  late: 'Turned in late',
  missing: 'Missing',
  graded: 'Graded, not returned',
  returned: 'Returned',
  excused: 'Excused',
};

/** "8 / 10 points", "8 points", "Ungraded". */
export function formatScore(score: number | null, pointsPossible: number | null): string {
  if (score === null) return pointsPossible === null ? 'Ungraded' : 'No score';
  return pointsPossible === null ? `${score} points` : `${score} / ${pointsPossible}`;
}

/** "512 bytes", "48 KB", "3.2 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  return bytes < 1_000_000 ? `${Math.round(bytes / 1000)} KB` : `${(bytes / 1_000_000).toFixed(1)} MB`;
}

const names = new Intl.ListFormat('en-GB', { style: 'long', type: 'conjunction' });

/** "Ana", "Ana and Ben", "Ana, Ben and Cleo". */
export function formatList(items: string[]): string {
  return names.format(items);
}

/** "1 change" / "3 changes". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "just now", "12 seconds ago", "3 minutes ago", "never". */
export function formatAgo(ms: number | null): string {
  if (ms === null) return 'never';
  if (ms < 2000) return 'just now';
  if (ms < 60_000) return `${Math.round(ms / 1000)} seconds ago`;
  if (ms < 3_600_000) return plural(Math.round(ms / 60_000), 'minute') + ' ago';
  return plural(Math.round(ms / 3_600_000), 'hour') + ' ago';
}

/** The first characters of a laptop id, enough to tell laptops apart on screen. */
export function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}
