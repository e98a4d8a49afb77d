// Writes a backup file so that the folder only ever shows a whole one: the bytes go to a hidden
// temporary file beside it, which is fsynced, renamed into place and made durable by an fsync of
// the folder. A failure (the USB stick pulled out halfway) leaves at most the temporary file,
// which the next attempt's clean-up or the teacher can remove; never a half backup under a
// backup's name.
import { randomBytes } from 'node:crypto';
import { access, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeAll } from '../blobs/files';
import { BACKUP_EXTENSION } from './backup-format';
import { folderError } from './errors';

export class BackupFileWriter {
  private written = 0;

  private constructor(
    private readonly folder: string,
    private readonly finalPath: string,
    private readonly tempPath: string,
    private readonly handle: FileHandle,
  ) {}

  /** A new file named `fileName` (or "name (2)…" when taken) in `folder`; throws a sentence when the folder can't take it. */
  static async create(folder: string, fileName: string): Promise<BackupFileWriter> {
    const finalPath = await freePath(folder, fileName);
    const tempPath = join(folder, `.${fileName}.${randomBytes(6).toString('hex')}.part`);
    try {
      return new BackupFileWriter(folder, finalPath, tempPath, await open(tempPath, 'wx', 0o600));
    } catch (error) {
      throw folderError(folder, error);
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    try {
      await writeAll(this.handle, bytes);
      this.written += bytes.byteLength;
    } catch (error) {
      throw folderError(this.folder, error);
    }
  }

  /** Makes the file durable and visible under its name; returns where it is and its size. */
  async finish(): Promise<{ file: string; bytes: number }> {
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.tempPath, this.finalPath);
      await syncDirectory(this.folder);
    } catch (error) {
      await rm(this.tempPath, { force: true }).catch(() => {});
      throw folderError(this.folder, error);
    }
    return { file: this.finalPath, bytes: this.written };
  }

  /** Removes what was written; never throws (the folder may be gone with its stick). */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.tempPath, { force: true }).catch(() => {});
  }
}

/** `folder/fileName`, or `folder/<name> (n).quorum-backup` for the first n not taken. */
async function freePath(folder: string, fileName: string): Promise<string> {
  const stem = fileName.endsWith(BACKUP_EXTENSION) ? fileName.slice(0, -BACKUP_EXTENSION.length) : fileName;
  for (let n = 1; n < 1000; n++) {
    const candidate = join(folder, n === 1 ? fileName : `${stem} (${n})${BACKUP_EXTENSION}`);
    try {
      await access(candidate);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return candidate;
      throw folderError(folder, error);
    }
  }
  throw folderError(folder, new Error('too many backups with the same name'));
}
