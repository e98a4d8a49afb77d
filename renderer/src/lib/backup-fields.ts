// What a teacher types for a backup, checked before anything is sent: a sentence for the first
// thing that is wrong, or null. The peer checks the same again (electron/peer/backups); checking
// here too means a teacher hears about a short passphrase at once, not after a round trip.

import { MAX_EVERY_MINUTES, MAX_KEEP, MIN_PASSPHRASE_LENGTH } from '../../../shared/backup-limits';

export { MAX_EVERY_MINUTES, MAX_KEEP, MIN_PASSPHRASE_LENGTH };

/** A folder path as typed: only its surrounding spaces are dropped (a folder name may contain others). */
export function cleanPath(path: string): string {
  return path.trim();
}

/** Why `folder` can't be used, or null: it must be a full path, as there is no folder picker in a browser. */
export function folderProblem(folder: string, what = 'backup folder'): string | null {
  const path = cleanPath(folder);
  if (path === '') return `Type the full path of the ${what}.`;
  // "/media/usb", "E:\Backups" or "\\server\share": the peer refuses anything relative.
  if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path)) return `Type the full path of the ${what}, starting with / (or a drive letter such as E:\\ on Windows).`;
  return null;
}

/** Why a new backup passphrase can't be used, or null. Counted in characters as the peer counts them. */
export function newPassphraseProblem(passphrase: string, confirmation: string): string | null {
  const length = [...passphrase.normalize('NFC')].length;
  if (length === 0) return 'Choose a passphrase for the backup.';
  if (length < MIN_PASSPHRASE_LENGTH) {
    return `The passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters long (this one has ${length}): a backup holds the whole class. A few words in a row are easy to remember.`;
  }
  if (confirmation !== passphrase) return 'The two passphrases are not the same. Type the passphrase again in both fields.';
  return null;
}

/** Why the schedule's numbers can't be used, or null. */
export function scheduleProblem(everyMinutes: number | null, keep: number | null): string | null {
  if (everyMinutes === null || !Number.isInteger(everyMinutes) || everyMinutes < 1 || everyMinutes > MAX_EVERY_MINUTES) {
    return `Choose how often to back up: a whole number of minutes from 1 to ${MAX_EVERY_MINUTES} (a week).`;
  }
  if (keep === null || !Number.isInteger(keep) || keep < 1 || keep > MAX_KEEP) return `Choose how many backups to keep: a whole number from 1 to ${MAX_KEEP}.`;
  return null;
}

/** "every minute", "every 30 minutes", "every 2 hours", "every 90 minutes". */
export function formatEvery(minutes: number): string {
  if (minutes === 1) return 'every minute';
  if (minutes % 60 === 0) return minutes === 60 ? 'every hour' : `every ${minutes / 60} hours`;
  return `every ${minutes} minutes`;
}
