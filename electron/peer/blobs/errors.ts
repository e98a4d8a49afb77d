// Errors of the blob layer. Each has a stable `code` to branch on and to send across IPC, HTTP
// and the wire (STYLE practice 7), and a message a teacher can read: what happened to which
// file, and what to do about it when there is something to do.

/** The codes of every error this folder throws. */
export type BlobErrorCode =
  | 'INVALID_HASH' // a fingerprint that is not 64 lowercase hex characters
  | 'TOO_LARGE' // a file over the size limit
  | 'NOT_FOUND' // this laptop does not hold the file
  | 'OUT_OF_RANGE' // a read past the end of the file
  | 'HASH_MISMATCH' // the bytes do not match the fingerprint
  | 'SIZE_MISMATCH' // more or fewer bytes than the file was declared to have
  | 'DISK_FULL' // the disk (or the user's quota) has no room left
  | 'UNAVAILABLE' // no laptop asked could provide the file
  | 'ABORTED'; // the caller cancelled a download

/** Base of every error the blob layer throws. */
export class BlobError extends Error {
  constructor(
    readonly code: BlobErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A fingerprint that is not exactly 64 lowercase hex characters; nothing was read or written. */
export class InvalidBlobHashError extends BlobError {
  constructor(readonly value: unknown) {
    // Echo a bounded, quoted form only: the value may come from a hostile peer.
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
    super('INVALID_HASH', `${shown} is not a valid file fingerprint (a SHA-256 written as 64 lowercase hex characters), so it was refused.`);
  }
}

/** A file larger than the laptop accepts; nothing was stored. */
export class BlobTooLargeError extends BlobError {
  constructor(
    readonly size: number,
    readonly limit: number,
    fileName?: string,
  ) {
    const what = fileName ? `The file "${fileName}"` : 'This file';
    // Rounded, a file a few bytes over the limit would read as the limit itself.
    const shown = describeSize(size) === describeSize(limit) ? `just over ${describeSize(limit)}` : describeSize(size);
    super(
      'TOO_LARGE',
      `${what} is ${shown}, but attachments can be at most ${describeSize(limit)}. ` +
        'Make the file smaller (for example by compressing it or splitting it into parts) and try again.',
    );
  }
}

/** This laptop does not hold the file. */
export class BlobNotFoundError extends BlobError {
  constructor(readonly sha256: string) {
    super('NOT_FOUND', `This laptop does not have the file with fingerprint ${shortHash(sha256)}.`);
  }
}

/** A read that starts past the end of the file, or asks for a negative or fractional range. */
export class BlobRangeError extends BlobError {
  constructor(
    readonly sha256: string,
    readonly offset: number,
    readonly length: number,
    readonly size: number,
  ) {
    super('OUT_OF_RANGE', `Cannot read ${length} bytes at offset ${offset} of the file ${shortHash(sha256)}, which has ${size} bytes.`);
  }
}

/** Bytes that do not hash to the fingerprint they were stored under; they were thrown away. */
export class BlobHashMismatchError extends BlobError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'HASH_MISMATCH',
      `A copy of the file ${shortHash(expected)} was damaged (its content does not match its fingerprint), so it was thrown away.`,
    );
  }
}

/** More or fewer bytes than the file was declared to have; the partial copy was thrown away. */
export class BlobSizeMismatchError extends BlobError {
  constructor(
    readonly sha256: string,
    readonly expected: number,
    readonly received: number,
  ) {
    super(
      'SIZE_MISMATCH',
      `A copy of the file ${shortHash(sha256)} had the wrong size (${received} bytes instead of ${expected}), so it was thrown away.`,
    );
  }
}

/** The disk had no room for the file; the partial copy was removed. */
export class BlobDiskFullError extends BlobError {
  constructor(cause: unknown) {
    super('DISK_FULL', "This laptop's disk is full, so the file could not be saved. Free some space and try again.", { cause });
  }
}

/** What one laptop did when asked for a file; kept on `BlobUnavailableError` for logs and support. */
export interface SourceAttempt {
  laptopId: string;
  outcome: SourceOutcome;
  /** A short technical reason, for logs, never shown as is. */
  detail: string;
}

/**
 * Why a laptop did not provide a file: it does not have it, it could not be reached or stopped
 * answering, it sent a copy that does not match the fingerprint, or it broke the protocol.
 */
export type SourceOutcome = 'missing' | 'unreachable' | 'damaged' | 'misbehaved';

/** No laptop asked could provide the file; nothing was stored. */
export class BlobUnavailableError extends BlobError {
  constructor(
    readonly sha256: string,
    readonly attempts: readonly SourceAttempt[],
    fileName?: string,
  ) {
    super('UNAVAILABLE', unavailableMessage(describeFile(sha256, fileName), attempts));
  }
}

/** The caller cancelled the download; the partial copy was removed. */
export class BlobFetchAbortedError extends BlobError {
  constructor(sha256: string, fileName?: string) {
    super('ABORTED', `The download of ${describeFile(sha256, fileName)} was cancelled.`);
  }
}

/** Sizes as people read them: binary multiples named KB and MB, as file managers show them. */
export function describeSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${trim(bytes / 1024)} KB`;
  if (bytes < 1024 ** 3) return `${trim(bytes / 1024 ** 2)} MB`;
  return `${trim(bytes / 1024 ** 3)} GB`;
}

function trim(value: number): string {
  return value >= 100 ? Math.round(value).toString() : (Math.round(value * 10) / 10).toString();
}

/** "the file "name"" when the name is known, else "the file <short fingerprint>". */
function describeFile(sha256: string, fileName: string | undefined): string {
  return fileName ? `the file "${fileName}"` : `the file ${shortHash(sha256)}`;
}

/** Enough of a fingerprint to recognise it in a message or a log. */
function shortHash(sha256: string): string {
  return `${sha256.slice(0, 12)}…`;
}

function unavailableMessage(what: string, attempts: readonly SourceAttempt[]): string {
  const subject = what.charAt(0).toUpperCase() + what.slice(1);
  if (attempts.length === 0) {
    return `${subject} could not be downloaded: no other laptop of this class is reachable right now. It will be downloaded when one is.`;
  }
  const laptops = new Set(attempts.map((attempt) => attempt.laptopId)).size;
  if (attempts.every((attempt) => attempt.outcome === 'missing')) {
    const nobody = laptops === 1 ? 'the one laptop asked does not have it' : `none of the ${laptops} laptops asked has it`;
    return `${subject} could not be downloaded: ${nobody}. It will be available when the laptop it was attached on, or a teacher's laptop, is back in class.`;
  }
  const asked = laptops === 1 ? 'the one laptop asked' : `the ${laptops} laptops asked`;
  const lied = attempts.some((attempt) => attempt.outcome === 'damaged' || attempt.outcome === 'misbehaved');
  const failed = lied ? 'did not answer in time or sent damaged copies' : 'did not answer in time';
  return `${subject} could not be downloaded: ${asked} ${failed}. Check that the laptops are on the same network and try again.`;
}
