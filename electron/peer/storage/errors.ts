// Errors the storage throws at its boundary. Open failures carry a `code` the UI can branch on
// and a message a teacher can read: it names the file and says that the file was left alone.

/** Why a class file could not be opened. */
export type StorageOpenErrorCode =
  /** The file is not an SQLite database at all. */
  | 'NOT_DATABASE'
  /** The file is a Quorum database but is damaged (failed `quick_check`, malformed pages, broken invariants). */
  | 'CORRUPT'
  /** The file is an SQLite database made by some other program. */
  | 'FOREIGN'
  /** The file was written by a newer Quorum whose schema this code does not know. */
  | 'TOO_NEW'
  /** Another connection (usually another running copy of Quorum) holds the file. */
  | 'LOCKED'
  /** The operating system refused to open or write the file (permissions, missing folder, disk error). */
  | 'UNREADABLE';

/** Opening a class file failed; the file has not been modified. */
export class StorageOpenError extends Error {
  constructor(
    readonly code: StorageOpenErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageOpenError';
  }
}

/** A received snapshot is not an image this replica can install; nothing was changed. */
export class InvalidSnapshotError extends Error {
  readonly code = 'INVALID_SNAPSHOT';

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`the snapshot was refused: ${reason}`, options);
    this.name = 'InvalidSnapshotError';
  }
}

/**
 * This laptop's Quorum is older than what the class now needs: the class moved onto rules it
 * cannot apply, or a laptop sent it a snapshot in a newer format. Nothing was applied or changed;
 * the same build stops at the same place every time, and an updated one carries on from there.
 */
export class NeedsNewerQuorumError extends Error {
  readonly code = 'NEEDS_NEWER_QUORUM';

  constructor(detail: string) {
    super(`this laptop's Quorum is too old for the class: ${detail}`);
    this.name = 'NeedsNewerQuorumError';
  }
}

/** The sentence shown for each open failure; `detail` adds what SQLite or the OS said, if useful. */
export function openErrorMessage(code: StorageOpenErrorCode, path: string, detail?: string): string {
  switch (code) {
    case 'NOT_DATABASE':
      return `The file "${path}" is not a Quorum class file (it is not a database at all). Quorum has left it untouched.`;
    case 'CORRUPT':
      return `The class data in "${path}" is damaged and cannot be used${detail ? ` (${detail})` : ''}. Quorum has left the file untouched; another laptop in the class can provide a fresh copy.`;
    case 'FOREIGN':
      return `The file "${path}" is a database made by another program, not a Quorum class file. Quorum has left it untouched.`;
    case 'TOO_NEW':
      return `The class data in "${path}" was written by a newer version of Quorum${detail ? ` (${detail})` : ''}. Update Quorum on this laptop to open it; the file has not been changed.`;
    case 'LOCKED':
      return `The class data in "${path}" is already open in another copy of Quorum on this laptop. Close the other copy and try again.`;
    case 'UNREADABLE':
      return `Quorum cannot open the class data in "${path}"${detail ? ` (${detail})` : ''}. Check that the file and its folder can be read and written.`;
  }
}

/** Shorthand: a `StorageOpenError` with the standard sentence for its code. */
export function openError(code: StorageOpenErrorCode, path: string, detail?: string, cause?: unknown): StorageOpenError {
  return new StorageOpenError(code, path, openErrorMessage(code, path, detail), cause === undefined ? undefined : { cause });
}
