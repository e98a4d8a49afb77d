// Why a backup could not be made or restored, as sentences a teacher understands: what
// happened, that nothing was changed where that is so, and what to do. Thrown as ServiceError so
// they cross IPC and HTTP as `{code, message}` like every other refusal of the API.
import { ServiceError } from '../service';

export type BackupErrorCode =
  /** The passphrase is shorter than MIN_PASSPHRASE_LENGTH. */
  | 'PASSPHRASE_TOO_SHORT'
  /** The passphrase is not the one the backup was made with. */
  | 'WRONG_PASSPHRASE'
  /** The file is not a Quorum backup at all. */
  | 'NOT_A_BACKUP'
  /** The file was cut short, changed or damaged after it was written. */
  | 'BACKUP_DAMAGED'
  /** A backup in a format this version of Quorum does not know (a newer one). */
  | 'BACKUP_TOO_NEW'
  /** The class's data in the backup does not fit this version's tables. */
  | 'BACKUP_INCOMPATIBLE'
  /** This laptop already has the class the backup holds. */
  | 'CLASS_ALREADY_HERE'
  /** The backup file could not be read. */
  | 'BACKUP_UNREADABLE'
  /** The folder to write backups in is missing (a USB stick taken out). */
  | 'FOLDER_MISSING'
  /** The folder refused the write (read-only, permissions). */
  | 'FOLDER_NOT_WRITABLE'
  /** The folder's disk has no room left. */
  | 'FOLDER_FULL'
  /** Writing the backup failed for another reason of the disk. */
  | 'BACKUP_WRITE_FAILED'
  /** A file of the class is on no laptop that could be reached. */
  | 'FILE_UNAVAILABLE'
  /** Only a teacher of the class may back it up or set its backups. */
  | 'NOT_ALLOWED'
  /** A schedule that makes no sense (how often, how many to keep). */
  | 'BAD_SCHEDULE'
  /** The class was restored, but this laptop's user could not be made its teacher. */
  | 'HANDOVER_FAILED';

export function backupError(code: BackupErrorCode, message: string, cause?: unknown): ServiceError {
  const error = new ServiceError(code, message);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** A failure of the file system while writing into the backup folder, as a sentence. */
export function folderError(folder: string, error: unknown): ServiceError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return backupError(
      'FOLDER_MISSING',
      `The backup folder “${shownPath(folder)}” can’t be found. If it is on a USB stick, check that the stick is plugged in, then try again.`,
      error,
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return backupError('FOLDER_NOT_WRITABLE', `Quorum may not write in the backup folder “${shownPath(folder)}”. Choose another folder, or check that the USB stick is not locked.`, error);
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return backupError('FOLDER_FULL', `There is no room left in the backup folder “${shownPath(folder)}”. Free some space, or choose another folder.`, error);
  }
  return backupError(
    'BACKUP_WRITE_FAILED',
    `The backup could not be written in “${shownPath(folder)}” (${code ?? "the computer gave no reason"}). Nothing was saved there; try again or choose another folder.`,
    error,
  );
}

export function damagedBackup(file: string, cause?: unknown): ServiceError {
  return backupError(
    'BACKUP_DAMAGED',
    `The backup “${shownPath(file)}” is damaged or incomplete (it was cut short or changed after it was made), so it was not restored. Nothing was changed on this laptop; try another copy of the backup.`,
    cause,
  );
}

/**
 * A path or name as a sentence may quote it: without characters that would break or reorder the
 * line (controls, bidirectional overrides), and, when long, its end (where the file name is).
 */
export function shownPath(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > 80 ? `…${clean.slice(-79)}` : clean;
}
