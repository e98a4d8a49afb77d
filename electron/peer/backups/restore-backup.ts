// Restoring a class from a backup file on a laptop that is not in it. The class starts again as a
// new Raft cluster whose only voter is this laptop: its storage holds the backup's state as an
// installed snapshot at the backup's applied index and term, with a committed configuration of
// this laptop alone and a hard state in the next term (as recovery rebuilds a class, raft/recovery.ts).
// The laptops that held the class before are deliberately not in that configuration: their logs
// may run past the backup, and a leader replicating to them would have to overwrite what they
// applied. Others join again with the class's join code.
//
// Nothing counts until the whole file has been read and authenticated and the installed state
// reproduces the digest the backup recorded: until then the class file is staged beside its
// place, and a failure removes it with every file the restore added to the store.
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { BlobError, type BlobWriter } from '../blobs';
import { syncDirectory } from '../blobs/files';
import type { ClassRuntime } from '../class-runtime';
import { laterSecretsFrom, type LaterSecret } from '../class-registry';
import { classTag } from '../discovery/class-tag';
import { ClassState } from '../routing/class-state';
import { InvalidSnapshotError, SqliteStorage } from '../storage';
import type { BackupContext } from './backup-context';
import { RecordKind, type BackupEnd, type BackupHeader, type BackupMeta, type BlobAnnouncement } from './backup-format';
import { BackupFileReader } from './backup-file-reader';
import { backupError, damagedBackup, shownPath } from './errors';
import { handClassToThisUser } from './teacher-handover';

const PROGRESS_EVERY_MS = 200;

/** Restore the backup in `file`; resolves once the class runs here with this laptop's user as a teacher. */
export async function restoreClassBackup(context: BackupContext, file: string, passphrase: string): Promise<{ classId: string }> {
  const reader = await BackupFileReader.open(file);
  let restored: { runtime: ClassRuntime; meta: BackupMeta; itemKeys: Map<string, Buffer> };
  try {
    const { header } = reader;
    if (context.findClass(header.classId) || context.classSecrets(header.classId)) {
      throw backupError(
        'CLASS_ALREADY_HERE',
        `This laptop already has the class “${shownPath(header.className)}”, so the backup was not restored. A backup is restored on a laptop that is not in the class.`,
      );
    }
    await reader.unlock(passphrase);
    const staged = new StagedRestore(context, header, file);
    try {
      const meta = await readAll(context, reader, staged);
      const secret = staged.secret(meta);
      const later = staged.laterSecrets(meta);
      staged.install(context.laptopId);
      restored = { runtime: context.adoptClass(header.className, secret, later), meta, itemKeys: staged.itemKeys };
    } catch (error) {
      await staged.discard();
      throw error;
    }
  } finally {
    await reader.close();
  }
  context.logger.warn('restored a class from a backup', { classId: reader.header.classId, appliedIndex: reader.header.appliedIndex, file });
  await handClassToThisUser(context, restored.runtime, restored.meta, restored.itemKeys);
  return { classId: reader.header.classId };
}

/** Every record into the staging: meta first, then state, then files, then the end that checks them. */
async function readAll(context: BackupContext, reader: BackupFileReader, staged: StagedRestore): Promise<BackupMeta> {
  const { header } = reader;
  let meta: BackupMeta | null = null;
  let end: BackupEnd | null = null;
  let reportedAt = 0;
  for await (const record of reader.records()) {
    if (meta === null && record.kind !== RecordKind.meta) throw damagedBackup(reader.file);
    switch (record.kind) {
      case RecordKind.meta:
        if (meta !== null) throw damagedBackup(reader.file);
        meta = parse<BackupMeta>(record.payload, reader.file);
        break;
      case RecordKind.itemKeys:
        staged.addItemKeys(parse<[string, string][]>(record.payload, reader.file));
        break;
      case RecordKind.state:
        staged.addState(record.payload);
        break;
      case RecordKind.blobStart:
        await staged.startBlob(parse<BlobAnnouncement>(record.payload, reader.file));
        break;
      case RecordKind.blobBytes:
        await staged.addBlobBytes(record.payload);
        break;
      case RecordKind.end:
        if (!record.final) throw damagedBackup(reader.file);
        end = parse<BackupEnd>(record.payload, reader.file);
        break;
      default:
        throw damagedBackup(reader.file);
    }
    if (record.final || Date.now() - reportedAt >= PROGRESS_EVERY_MS) {
      reportedAt = Date.now();
      context.onProgress({ classId: header.classId, operation: 'restore', doneBytes: record.position, totalBytes: reader.size });
    }
  }
  if (meta === null || end === null) throw damagedBackup(reader.file);
  await staged.finishBlob();
  if (end.stateBytes !== staged.stateBytes || end.blobs !== staged.blobCount || end.itemKeys !== staged.itemKeys.size) throw damagedBackup(reader.file);
  return meta;
}

/** The class being restored, until it is installed or discarded. */
class StagedRestore {
  private readonly stateParts: Buffer[] = [];
  stateBytes = 0;
  blobCount = 0;
  /** The exporting teacher's content keys, by item id. */
  readonly itemKeys = new Map<string, Buffer>();
  /** Files this restore put in the store: removed again if it fails. */
  private readonly addedBlobs: string[] = [];
  private blob: { announced: BlobAnnouncement; writer: BlobWriter | null; received: number } | null = null;
  private readonly finalPath: string;
  private readonly stagedPath: string;
  private installed = false;

  constructor(
    private readonly context: BackupContext,
    private readonly header: BackupHeader,
    private readonly file: string,
  ) {
    this.finalPath = context.classFile(header.classId);
    this.stagedPath = `${this.finalPath}.restoring`;
  }

  /** The class secret the backup carries; it must be the one that names this class. */
  secret(meta: BackupMeta): Uint8Array {
    const secret = new Uint8Array(Buffer.from(typeof meta.classSecret === 'string' ? meta.classSecret : '', 'base64url'));
    checkSecret(this.header, secret, this.file);
    return secret;
  }

  /** The secrets that replaced the first, as the backup carries them (every one, however many). */
  laterSecrets(meta: BackupMeta): LaterSecret[] {
    const later = laterSecretsFrom(meta.laterSecrets, Number.MAX_SAFE_INTEGER);
    if (later === null) throw damagedBackup(this.file);
    return later;
  }

  addItemKeys(pairs: [string, string][]): void {
    if (!Array.isArray(pairs) || this.stateBytes > 0) throw damagedBackup(this.file);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') throw damagedBackup(this.file);
      this.itemKeys.set(pair[0], Buffer.from(pair[1], 'base64url'));
    }
  }

  addState(piece: Buffer): void {
    if (this.blob !== null) throw damagedBackup(this.file);
    this.stateParts.push(piece);
    this.stateBytes += piece.byteLength;
  }

  async startBlob(announced: BlobAnnouncement): Promise<void> {
    await this.finishBlob();
    if (typeof announced?.sha256 !== 'string' || !Number.isSafeInteger(announced.size)) throw damagedBackup(this.file);
    this.blobCount++;
    try {
      // A file this laptop already has is read past, not written again.
      const writer = (await this.context.store.has(announced.sha256)) ? null : await this.context.store.writer(announced.sha256, announced.size);
      this.blob = { announced, writer, received: 0 };
    } catch (error) {
      throw this.blobFailure(error);
    }
  }

  async addBlobBytes(piece: Buffer): Promise<void> {
    const blob = this.blob;
    if (blob === null) throw damagedBackup(this.file);
    blob.received += piece.byteLength;
    if (blob.received > blob.announced.size) throw damagedBackup(this.file);
    try {
      await blob.writer?.append(piece);
    } catch (error) {
      throw this.blobFailure(error);
    }
  }

  async finishBlob(): Promise<void> {
    const blob = this.blob;
    if (blob === null) return;
    this.blob = null;
    if (blob.received !== blob.announced.size) {
      await blob.writer?.abort();
      throw damagedBackup(this.file);
    }
    if (!blob.writer) return;
    try {
      await blob.writer.finish();
    } catch (error) {
      throw this.blobFailure(error);
    }
    this.addedBlobs.push(blob.announced.sha256);
  }

  /**
   * Write the class file: the state as an installed snapshot, the cluster of this laptop alone in
   * a new term; check that it reproduces the backup's digest; then put it in its place.
   */
  install(laptopId: string): void {
    if (this.stateBytes === 0) throw damagedBackup(this.file);
    this.removeStaged();
    if (existsSync(this.finalPath)) {
      // A class file no registry entry points at (a restore that stopped halfway): kept aside, never opened.
      renameSync(this.finalPath, `${this.finalPath}.before-restore-${Date.now()}-${randomBytes(3).toString('hex')}`);
    }
    const { classId, appliedIndex, term, digest } = this.header;
    const storage = SqliteStorage.open(this.stagedPath, new ClassState(classId));
    try {
      storage.persist({
        snapshot: {
          meta: { index: appliedIndex, term, confState: { voters: [laptopId], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
          data: new Uint8Array(Buffer.concat(this.stateParts)),
        },
        entries: [],
        hardState: { term: term + 1, vote: laptopId, commit: appliedIndex },
      });
      if (storage.appliedIndex() !== appliedIndex || storage.digest() !== digest) throw damagedBackup(this.file);
    } catch (error) {
      storage.close();
      if (error instanceof InvalidSnapshotError) {
        throw backupError(
          'BACKUP_INCOMPATIBLE',
          'This backup was made by a version of Quorum whose class data this version cannot read. Nothing was changed; restore it with the same version of Quorum it was made with.',
          error,
        );
      }
      throw error;
    }
    storage.close();
    renameSync(this.stagedPath, this.finalPath);
    this.installed = true;
    void syncDirectory(dirname(this.finalPath)).catch(() => {});
  }

  /** Undo everything this restore wrote. */
  async discard(): Promise<void> {
    await this.blob?.writer?.abort();
    this.blob = null;
    for (const sha256 of this.addedBlobs) await this.context.store.delete(sha256).catch(() => false);
    this.removeStaged();
    if (this.installed) for (const suffix of ['', '-wal', '-shm']) rmSync(this.finalPath + suffix, { force: true });
  }

  private removeStaged(): void {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(this.stagedPath + suffix, { force: true });
  }

  private blobFailure(error: unknown): Error {
    if (error instanceof BlobError && (error.code === 'HASH_MISMATCH' || error.code === 'SIZE_MISMATCH' || error.code === 'INVALID_HASH' || error.code === 'TOO_LARGE')) {
      return damagedBackup(this.file, error);
    }
    if (error instanceof BlobError && error.code === 'DISK_FULL') {
      return backupError('BACKUP_WRITE_FAILED', 'This laptop’s disk is full, so the class’s files could not be restored. Nothing was changed; free some space and try again.', error);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

function parse<T>(payload: Buffer, file: string): T {
  try {
    return JSON.parse(payload.toString('utf8')) as T;
  } catch (error) {
    throw damagedBackup(file, error);
  }
}

/** A backup's secret must give the class id its header names. */
function checkSecret(header: BackupHeader, secret: Uint8Array, file: string): void {
  let tag: string;
  try {
    tag = classTag(secret);
  } catch (error) {
    throw damagedBackup(file, error);
  }
  if (tag !== header.classId) throw damagedBackup(file);
}
