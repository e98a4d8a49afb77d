// Small files written so that a crash never leaves half of one behind and a finished write
// survives a power cut: a temporary file (owner-only, fsynced), put in place in one step, then
// the directory fsynced so the new name is durable too.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** The file's bytes, or null when there is no such file. */
export function readIfExists(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Writes `path` unless it exists; a link never replaces a file, so of two writers racing the first wins. */
export function writeNewFile(path: string, bytes: Uint8Array): void {
  const temporary = writeTemporary(path, bytes);
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  syncDirectory(dirname(path));
}

/** Writes `path` in place of whatever was there: a reader sees the old bytes or the new, never half. */
export function replaceFile(path: string, bytes: Uint8Array): void {
  const temporary = writeTemporary(path, bytes);
  try {
    renameSync(temporary, path);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
  syncDirectory(dirname(path));
}

/** Removes `path` (gone already is fine) and makes the removal durable. */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  syncDirectory(dirname(path));
}

/** A temporary file beside `path` (mode 0600, fsynced), with a name unique even between calls in one process. */
function writeTemporary(path: string, bytes: Uint8Array): string {
  const temporary = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const descriptor = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(descriptor, bytes, written);
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(descriptor);
  return temporary;
}

function syncDirectory(directory: string): void {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const descriptor = openSync(directory, constants.O_RDONLY);
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}
