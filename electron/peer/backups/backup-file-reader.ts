// Reads a backup file record by record, so a class with large files never sits in memory at
// once. The header is read without the passphrase (to list backups, and to name the class);
// every record is authenticated as it is read, and the reader insists on a final record at the
// very end, so a damaged, altered or cut-short file always ends in an error before the caller
// commits anything.
import { open, type FileHandle } from 'node:fs/promises';
import {
  BACKUP_MAGIC,
  decodeHeader,
  MAX_HEADER_BYTES,
  RECORD_FRAME_BYTES,
  RECORD_PAYLOAD_BYTES,
  TAG_BYTES,
  type BackupHeader,
} from './backup-format';
import { backupError, damagedBackup, shownPath } from './errors';
import { existingBackupKey } from './passphrase';
import { RecordOpener } from './record-cipher';

/** A record's largest sealed size: a payload, its kind byte and the tag. */
const MAX_SEALED_BYTES = RECORD_PAYLOAD_BYTES + 1 + TAG_BYTES;

export interface BackupRecord {
  kind: number;
  payload: Buffer;
}

export class BackupFileReader {
  private opener: RecordOpener | null = null;

  private constructor(
    /** The file, as the teacher named it. */
    readonly file: string,
    private readonly handle: FileHandle,
    readonly header: BackupHeader,
    private readonly headerBytes: Buffer,
    /** The file's size in bytes. */
    readonly size: number,
  ) {}

  /** Opens `file` and reads its header; throws a sentence when it is not a backup this version reads. */
  static async open(file: string): Promise<BackupFileReader> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'there is no such file (if it is on a USB stick, check that the stick is plugged in)' : `the computer refused (${code ?? 'unknown'})`;
      throw backupError('BACKUP_UNREADABLE', `The backup “${shownPath(file)}” could not be opened: ${why}.`, error);
    }
    try {
      const size = (await handle.stat()).size;
      const start = await readAt(handle, 0, BACKUP_MAGIC.byteLength + 4);
      if (start.byteLength < BACKUP_MAGIC.byteLength + 4 || !start.subarray(0, BACKUP_MAGIC.byteLength).equals(BACKUP_MAGIC)) {
        throw backupError('NOT_A_BACKUP', `The file “${shownPath(file)}” is not a Quorum class backup. Choose a file whose name ends in .quorum-backup.`);
      }
      const length = start.readUInt32BE(BACKUP_MAGIC.byteLength);
      if (length > MAX_HEADER_BYTES) throw damagedBackup(file);
      const json = await readAt(handle, start.byteLength, length);
      if (json.byteLength !== length) throw damagedBackup(file);
      const header = decodeHeader(json);
      if (header === 'too-new') {
        throw backupError('BACKUP_TOO_NEW', `The backup “${shownPath(file)}” was made by a newer version of Quorum. Update Quorum on this laptop, then restore it.`);
      }
      if (header === 'damaged') throw damagedBackup(file);
      return new BackupFileReader(file, handle, header, Buffer.concat([start, json]), size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Derives the key; throws WRONG_PASSPHRASE when the passphrase is not this backup's. */
  async unlock(passphrase: string): Promise<void> {
    const key = await existingBackupKey(passphrase, this.header.kdf);
    this.opener = new RecordOpener(key, Buffer.from(this.header.noncePrefix, 'base64url'), this.headerBytes);
  }

  /** Every record in order, the final one last; throws BACKUP_DAMAGED at the first sign of damage. */
  async *records(): AsyncGenerator<BackupRecord & { final: boolean; position: number }> {
    const opener = this.opener;
    if (!opener) throw new Error('unlock the backup before reading its records');
    let position = this.headerBytes.byteLength;
    for (;;) {
      const frame = await this.read(position, RECORD_FRAME_BYTES);
      if (frame.byteLength === 0) throw damagedBackup(this.file); // ended before its final record
      if (frame.byteLength < RECORD_FRAME_BYTES) throw damagedBackup(this.file);
      const length = frame.readUInt32BE(0);
      const flag = frame[4];
      if (length > MAX_SEALED_BYTES || (flag !== 0 && flag !== 1)) throw damagedBackup(this.file);
      const body = await this.read(position + RECORD_FRAME_BYTES, length);
      if (body.byteLength !== length) throw damagedBackup(this.file);
      let record: BackupRecord;
      try {
        record = opener.open(body, flag === 1);
      } catch (error) {
        throw damagedBackup(this.file, error);
      }
      position += RECORD_FRAME_BYTES + length;
      const final = flag === 1;
      yield { ...record, final, position };
      if (final) {
        if (position !== this.size) throw damagedBackup(this.file); // bytes after the end
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }

  private async read(position: number, length: number): Promise<Buffer> {
    try {
      return await readAt(this.handle, position, length);
    } catch (error) {
      throw backupError('BACKUP_UNREADABLE', `The backup “${shownPath(this.file)}” could not be read to the end (${(error as NodeJS.ErrnoException).code ?? 'unknown'}). Nothing was changed; if it is on a USB stick, check that it is plugged in.`, error);
    }
  }
}

/** Up to `length` bytes at `position`: fewer only at the end of the file. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
