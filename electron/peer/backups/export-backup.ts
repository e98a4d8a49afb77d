// Writing one backup of a class: capture it (class-contents.ts), make sure every file it refers
// to is on this laptop, then stream header, secrets, state and files through the record cipher
// into a file that appears whole or not at all (backup-file-writer.ts).
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { signCommand } from '../../classroom';
import type { ClassRuntime } from '../class-runtime';
import type { LaterSecret } from '../class-registry';
import { identityFromPrivateKey } from '../transport';
import type { BackupContext } from './backup-context';
import {
  backupFileName,
  BACKUP_FORMAT,
  encodeHeader,
  NONCE_PREFIX_BYTES,
  ITEM_KEYS_PER_RECORD,
  RecordKind,
  RECORD_PAYLOAD_BYTES,
  type BackupEnd,
  type BackupHeader,
  type BackupMeta,
  type BlobAnnouncement,
} from './backup-format';
import { BackupFileWriter } from './backup-file-writer';
import { captureClass, roleIn, type ClassContents } from './class-contents';
import { backupError, folderError, shownPath } from './errors';
import { checkNewPassphrase, newBackupKey } from './passphrase';
import { RecordSealer } from './record-cipher';

/** Progress is reported at most this often. */
const PROGRESS_EVERY_MS = 200;

/** Refuses anyone but a current teacher of the class, with a sentence. */
export function requireTeacher(context: BackupContext, runtime: ClassRuntime, what: string): void {
  if (roleIn(runtime, context.user.laptopId) !== 'teacher') throw backupError('NOT_ALLOWED', `Only a teacher of the class can ${what}.`);
}

/** Refuses a folder that is not there (a USB stick taken out) or not a folder, with a sentence. */
export async function checkFolder(folder: string): Promise<void> {
  if (!isAbsolute(folder)) throw backupError('FOLDER_MISSING', `“${shownPath(folder)}” is not a full folder path; choose the folder again.`);
  let isFolder: boolean;
  try {
    isFolder = (await stat(folder)).isDirectory();
  } catch (error) {
    throw folderError(folder, error);
  }
  if (!isFolder) throw backupError('FOLDER_MISSING', `“${shownPath(folder)}” is a file, not a folder; choose a folder to keep the backups in.`);
}

/** Back the class up into `folder`; the caller has checked the teacher and the passphrase. */
export async function writeClassBackup(context: BackupContext, runtime: ClassRuntime, folder: string, passphrase: string): Promise<{ file: string; bytes: number }> {
  checkNewPassphrase(passphrase);
  await checkFolder(folder);
  const contents = captureClass(runtime);
  const secrets = context.classSecrets(runtime.classId);
  if (!secrets) throw new Error(`no secret for class ${runtime.classId}`);
  for (const file of contents.files) {
    try {
      await context.fetchBlob(runtime, file.sha256);
    } catch (error) {
      throw backupError(
        'FILE_UNAVAILABLE',
        `The file “${shownPath(file.name)}” of the class is not on this laptop, and no laptop that has it could be reached, so the backup was not made. Try again when more of the class's laptops are on.`,
        error,
      );
    }
  }
  const { key, derivation } = await newBackupKey(passphrase);
  const createdAt = Date.now();
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    classId: contents.classId,
    className: contents.className,
    createdAt,
    appliedIndex: contents.appliedIndex,
    term: contents.term,
    digest: contents.digest,
    kdf: derivation,
    noncePrefix: randomBytes(NONCE_PREFIX_BYTES).toString('base64url'),
  };
  const headerBytes = encodeHeader(header);
  const sealer = new RecordSealer(key, Buffer.from(header.noncePrefix, 'base64url'), headerBytes);
  const writer = await BackupFileWriter.create(folder, backupFileName(contents.className, new Date(createdAt)));
  const progress = progressReporter(context, contents);
  try {
    await writer.write(headerBytes);
    await writer.write(sealer.seal(RecordKind.meta, json(handoverMeta(context, runtime, secrets))));
    const itemKeys = openableItemKeys(context, runtime);
    for (let i = 0; i < itemKeys.length; i += ITEM_KEYS_PER_RECORD) {
      await writer.write(sealer.seal(RecordKind.itemKeys, json(itemKeys.slice(i, i + ITEM_KEYS_PER_RECORD))));
    }
    for (let offset = 0; offset < contents.image.byteLength; offset += RECORD_PAYLOAD_BYTES) {
      const piece = contents.image.subarray(offset, offset + RECORD_PAYLOAD_BYTES);
      await writer.write(sealer.seal(RecordKind.state, piece));
      progress.add(piece.byteLength);
    }
    for (const file of contents.files) await writeBlob(context, writer, sealer, file, progress.add);
    const end: BackupEnd = { stateBytes: contents.image.byteLength, blobs: contents.files.length, itemKeys: itemKeys.length };
    await writer.write(sealer.seal(RecordKind.end, json(end), true));
    const written = await writer.finish();
    progress.done();
    return written;
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * The class secret and the hand-over: a key made for this backup, and this teacher's signed grant
 * making that key a teacher of this class (and of no other), so the laptop that restores the
 * backup can make its own user a teacher without ever holding this teacher's key.
 */
function handoverMeta(context: BackupContext, runtime: ClassRuntime, secrets: { secret: Uint8Array; later: LaterSecret[] }): BackupMeta {
  const { privateKey } = generateKeyPairSync('ed25519');
  const handoverKey = identityFromPrivateKey(privateKey);
  const grant = signCommand(context.user, runtime.classId, { type: 'addTeacher', userId: handoverKey.laptopId });
  const teacherName = runtime.storage.database.prepare('SELECT display_name FROM members WHERE user_id = ?').pluck().get(context.user.laptopId) as string | undefined;
  return {
    classSecret: Buffer.from(secrets.secret).toString('base64url'),
    laterSecrets: secrets.later,
    handover: { keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), grant },
    teacherName: teacherName ?? 'Teacher',
    teacherId: context.user.laptopId,
  };
}

/** The content keys of the sealed items this teacher can open, as [itemId, base64url key]. */
function openableItemKeys(context: BackupContext, runtime: ClassRuntime): [string, string][] {
  const db = runtime.storage.database;
  const items = db.prepare('SELECT item_id FROM item_keys WHERE user_id = ? ORDER BY item_id').pluck().all(context.user.laptopId) as string[];
  const keys: [string, string][] = [];
  for (const itemId of items) {
    const key = context.opener.contentKey(db, itemId);
    if (key) keys.push([itemId, key.toString('base64url')]);
  }
  return keys;
}

/** One file: its announcement, then its bytes in records, checked against its hash as they are read. */
async function writeBlob(
  context: BackupContext,
  writer: BackupFileWriter,
  sealer: RecordSealer,
  file: BlobAnnouncement & { name: string },
  onBytes: (bytes: number) => void,
): Promise<void> {
  await writer.write(sealer.seal(RecordKind.blobStart, json({ sha256: file.sha256, size: file.size } satisfies BlobAnnouncement)));
  const hash = createHash('sha256');
  for (let offset = 0; offset < file.size; ) {
    let piece: Uint8Array;
    try {
      piece = await context.store.read(file.sha256, offset, Math.min(RECORD_PAYLOAD_BYTES, file.size - offset));
    } catch (error) {
      throw backupError('FILE_UNAVAILABLE', `The file “${shownPath(file.name)}” could not be read on this laptop, so the backup was not made. Try again.`, error);
    }
    if (piece.byteLength === 0) break;
    hash.update(piece);
    await writer.write(sealer.seal(RecordKind.blobBytes, piece));
    offset += piece.byteLength;
    onBytes(piece.byteLength);
  }
  if (hash.digest('hex') !== file.sha256) {
    // A copy that went bad on this disk since it was checked: better no backup than a wrong one.
    await context.store.delete(file.sha256).catch(() => false);
    throw backupError('FILE_UNAVAILABLE', `The copy of “${shownPath(file.name)}” on this laptop is damaged, so the backup was not made. Try again: Quorum fetches a good copy from another laptop.`);
  }
}

function progressReporter(context: BackupContext, contents: ClassContents): { add: (bytes: number) => void; done: () => void } {
  const totalBytes = contents.image.byteLength + contents.files.reduce((sum, file) => sum + file.size, 0);
  let doneBytes = 0;
  let reportedAt = 0;
  const report = () => context.onProgress({ classId: contents.classId, operation: 'export', doneBytes, totalBytes });
  return {
    add: (bytes) => {
      doneBytes += bytes;
      if (Date.now() - reportedAt >= PROGRESS_EVERY_MS) {
        reportedAt = Date.now();
        report();
      }
    },
    done: () => {
      doneBytes = totalBytes;
      report();
    },
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
