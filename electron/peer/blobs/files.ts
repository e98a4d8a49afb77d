// The few file-system steps that make a blob durable and atomically visible, shared by the
// store and its writer.
import { open, type FileHandle } from 'node:fs/promises';
import { BlobDiskFullError } from './errors';

/**
 * Writes all of `bytes` (one write may take fewer bytes): at the handle's current position, or
 * at `position` without moving it.
 */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position?: number): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const at = position === undefined ? null : position + offset;
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset, at);
    offset += bytesWritten;
  }
}

/**
 * Flushes a directory's entries, so a rename into it survives a power cut. Windows cannot open
 * a directory for this (and NTFS journals the rename's metadata anyway), so there it does nothing.
 */
export async function syncDirectory(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A full disk as a BlobDiskFullError a teacher can act on; any other error as it is. */
export function diskError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new BlobDiskFullError(error) : error;
}

/** True for the error the file system gives for a path that does not exist. */
export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
