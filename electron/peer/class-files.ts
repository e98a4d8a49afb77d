// Files of the classroom on this laptop: uploads from the UI into the content-addressed store,
// reads that pull a missing file from the laptops likely to hold it, and the two checks that
// keep files where they belong: who may be served a file, and that the leader holds a file
// before a command referring to it is proposed.
//
// A file a student attaches to their work is sealed here, on their laptop, when the draft that
// attaches it is sealed (an upload does not know yet whether it is a teacher's material, which
// stays as it is for the whole class, or a student's work): its sealed copy is a new blob, and
// only that blob leaves this laptop. Every other laptop moves, keeps and backs up the sealed copy
// as any blob; a reader's laptop opens it with the key it finds in the draft it can open.
import { randomBytes } from 'node:crypto';
import type { FileRef } from '../../shared/classroom/commands';
import { LIMITS } from '../../shared/classroom/commands';
import { BlobFetcher, BlobStore, likelyHolders, sha256Hex, type SendRequest } from './blobs';
import { decodeHoldReply, decodeHoldRequest, encodeHoldReply, encodeHoldRequest } from './blobs/hold-protocol';
import { currentMember, SealingError, statement, type ItemOpener } from '../classroom';
import { attachmentAccess, attachmentsOfWork, secretOf, type SealedAttachment } from '../classroom/sealing/attachments';
import { FileCipherError, newFileSecret, openFileRange, sealFile } from '../classroom/sealing/file-cipher';
import type { ClassRuntime } from './class-runtime';
import { ClassroomApi } from './classroom-api';
import { ServiceError } from './service';
import type { Logger } from './transport/types';

/** Uploads in progress at once, and how long one may sit unfinished. */
const MAX_UPLOADS = 8;
const UPLOAD_IDLE_MS = 10 * 60_000;
const HOLD_TIMEOUT_MS = 120_000;

interface Upload {
  name: string;
  type: string;
  size: number;
  chunks: Uint8Array[];
  received: number;
  touched: number;
}

/** Where a file is referred to in a class, and so who may read it. */
interface FileUse {
  /** An assignment's material: every member once published, teachers always. */
  material: { published: boolean } | null;
  /** Students whose work includes it. */
  owners: string[];
}

export class ClassFiles {
  private readonly uploads = new Map<string, Upload>();
  /**
   * The background pull of a file under way on this laptop, hurried, to wait for rather than
   * pull the file a second time; null when there is none (set by the peer: FileKeeper.hurry).
   */
  pullUnderWay: (sha256: string) => Promise<void> | null = () => null;

  constructor(
    readonly store: BlobStore,
    private readonly logger: Logger,
  ) {}

  // ---- uploads from this laptop's UI ------------------------------------------------------

  startUpload(name: string, type: string, size: number): { uploadId: string } {
    this.dropIdleUploads();
    // Not fileBytes: a file attached to work must still fit once sealed.
    if (size > LIMITS.attachmentBytes) {
      const [shown, limit] = megabytesApart(size, LIMITS.attachmentBytes);
      throw new ServiceError('FILE_TOO_LARGE', `This file is ${shown}; attachments can be at most ${limit}.`);
    }
    if (name.trim().length === 0 || name.length > LIMITS.fileName) throw new ServiceError('BAD_FILE_NAME', 'A file needs a name of 1 to 255 characters.');
    if (this.uploads.size >= MAX_UPLOADS) throw new ServiceError('BUSY', 'Too many files are being added at once; wait for one to finish.');
    const uploadId = randomBytes(12).toString('base64url');
    this.uploads.set(uploadId, { name: name.trim(), type: type.slice(0, 100), size, chunks: [], received: 0, touched: Date.now() });
    return { uploadId };
  }

  uploadChunk(uploadId: string, offset: number, data: string): { received: number } {
    const upload = this.upload(uploadId);
    const bytes = Buffer.from(data, 'base64');
    if (offset !== upload.received) throw new ServiceError('BAD_OFFSET', `The next part of this file starts at byte ${upload.received}.`);
    if (upload.received + bytes.byteLength > upload.size) throw new ServiceError('FILE_TOO_LARGE', 'This file is larger than announced.');
    upload.chunks.push(bytes);
    upload.received += bytes.byteLength;
    upload.touched = Date.now();
    return { received: upload.received };
  }

  async finishUpload(uploadId: string): Promise<FileRef> {
    const upload = this.upload(uploadId);
    this.uploads.delete(uploadId);
    if (upload.received !== upload.size) {
      throw new ServiceError('INCOMPLETE_UPLOAD', `Only ${upload.received} of the file's ${upload.size} bytes arrived; add the file again.`);
    }
    const bytes = Buffer.concat(upload.chunks);
    const sha256 = await this.store.put(bytes, sha256Hex(bytes));
    return { sha256, name: upload.name, type: upload.type || 'application/octet-stream', size: upload.size };
  }

  // ---- sealing a student's files --------------------------------------------------------------

  /**
   * The files of a draft `opener`'s user is about to save, sealed: a file the draft or an earlier
   * turn-in had keeps its key; a file uploaded here is sealed under a new key into a new blob.
   * Throws SealingError (a sentence; nothing was sent) when an uploaded file is not here.
   */
  async sealAttachments(runtime: ClassRuntime, opener: ItemOpener, assignmentId: string, files: readonly FileRef[]): Promise<SealedAttachment[]> {
    const earlier = attachmentsOfWork(runtime.storage.database, opener, assignmentId, opener.userId);
    const sealed: SealedAttachment[] = [];
    for (const file of files) sealed.push(earlier.get(file.sha256) ?? (await this.sealUpload(file)));
    return sealed;
  }

  private async sealUpload(file: FileRef): Promise<SealedAttachment> {
    const size = await this.store.checkedSize(file.sha256);
    if (size === null) throw new SealingError('NOT_FOUND', `“${file.name}” is no longer on this laptop; add the file again.`);
    if (size > LIMITS.attachmentBytes) {
      const [shown, limit] = megabytesApart(size, LIMITS.attachmentBytes);
      throw new SealingError('NOT_ALLOWED', `“${file.name}” is ${shown}; attachments can be at most ${limit}.`);
    }
    const plaintext = await this.store.read(file.sha256, 0, size);
    const secret = newFileSecret();
    const sealed = sealFile(plaintext, secret);
    const sha256 = await this.store.put(sealed);
    return {
      sha256,
      sealedSize: sealed.byteLength,
      name: file.name,
      type: file.type,
      size,
      plainSha256: file.sha256,
      key: Buffer.from(secret.key).toString('base64url'),
      nonce: Buffer.from(secret.nonce).toString('base64url'),
    };
  }

  // ---- reading ------------------------------------------------------------------------------

  /**
   * `length` bytes of a file of the class from `offset`, pulled from another laptop first if
   * needed, and opened with `opener`'s key where it is sealed. `size` is the file's own size.
   */
  async read(runtime: ClassRuntime, opener: ItemOpener, sha256: string, offset: number, length: number, request: SendRequest): Promise<{ data: string; size: number }> {
    const access = attachmentAccess(runtime.storage.database, opener, sha256);
    const mayOpen = this.mayFetch(runtime, opener.userId, sha256);
    if (mayOpen && access.kind === 'locked') {
      throw new ServiceError(
        'LOCKED_FILE',
        'This file cannot be opened on this laptop yet: its key has not been shared with you. It is, once a teacher who can read it opens the class.',
      );
    }
    await this.fetch(runtime, opener.userId, sha256, request);
    const size = (await this.store.size(sha256)) ?? 0;
    if (access.kind === 'sealed') {
      const { attachment } = access;
      try {
        const bytes = await openFileRange(secretOf(attachment), attachment.size, size, (at, count) => this.store.read(sha256, at, count), offset, length);
        return { data: bytes.toString('base64'), size: attachment.size };
      } catch (error) {
        if (error instanceof FileCipherError) throw new ServiceError('DAMAGED_FILE', error.message);
        throw error;
      }
    }
    const bytes = offset >= size ? new Uint8Array(0) : await this.store.read(sha256, offset, Math.min(length, size - offset));
    return { data: Buffer.from(bytes).toString('base64'), size };
  }

  /** True when `userId` may have this file of the class on their laptop (sealed or not). */
  private mayFetch(runtime: ClassRuntime, userId: string, sha256: string): boolean {
    return referenceOf(runtime, sha256) !== null && mayRead(runtime, userId, fileUse(runtime, sha256));
  }

  /**
   * Makes sure this laptop holds the file as the class stores it (sealed, for a student's work),
   * pulling it from the laptops likely to hold it: for reading, and for a teacher's backup.
   */
  async fetch(runtime: ClassRuntime, userId: string, sha256: string, request: SendRequest): Promise<void> {
    const use = fileUse(runtime, sha256);
    const reference = referenceOf(runtime, sha256);
    if (!reference || !mayRead(runtime, userId, use)) throw new ServiceError('NOT_FOUND', 'This file is not part of anything you can open in this class.');
    // Checked, not only present: a copy damaged on this disk is deleted and fetched again
    // instead of being handed to the UI (the check hashes the file once per run of the app).
    if ((await this.store.checkedSize(sha256)) === null) await this.pullUnderWay(sha256);
    if ((await this.store.checkedSize(sha256)) === null) {
      const status = runtime.group.status();
      const candidates = likelyHolders({
        voters: status.config.voters,
        teacherLaptops: ClassroomApi.teacherLaptops(runtime),
        ownerLaptops: laptopsOf(runtime, use.owners),
      }).filter((id) => id !== status.id);
      const fetched = await new BlobFetcher({ store: this.store, request }).fetch({ sha256, size: reference.size, name: reference.name }, candidates);
      if (fetched.damagedBy.length > 0) {
        this.logger.warn('a file arrived damaged from another laptop and was fetched again', {
          sha256,
          damagedBy: fetched.damagedBy,
          source: fetched.source,
          repairedChunks: fetched.repairedChunks,
        });
      }
    }
  }

  // ---- serving other laptops -----------------------------------------------------------------

  /**
   * Whether `laptopId` may be sent this file: the class refers to it and that laptop's user may
   * read it, or it is a voter (which keeps copies), or the file is in a command this laptop is
   * still delivering (the leader pulls it before the command is proposed).
   */
  mayServe(runtime: ClassRuntime, laptopId: string, sha256: string): boolean {
    if (outboxRefers(runtime, sha256)) return true;
    if (!referenceOf(runtime, sha256)) return false;
    const status = runtime.group.status();
    if (status.config.voters.includes(laptopId) || status.leader === laptopId) return true;
    const users = statement(runtime.storage.database, 'SELECT user_id FROM member_laptops WHERE laptop_id = ?').pluck().all(laptopId) as string[];
    const use = fileUse(runtime, sha256);
    return users.some((userId) => mayRead(runtime, userId, use));
  }

  /** The leader's side of "please hold this file": pull it from the laptop that asked. */
  async answerHold(runtime: ClassRuntime, from: string, payload: Uint8Array, request: SendRequest): Promise<Uint8Array> {
    const hold = decodeHoldRequest(payload);
    if (!hold) return encodeHoldReply({ ok: false, reason: 'the request could not be read' });
    const { voters, learners } = runtime.group.status().config;
    if (!voters.includes(from) && !learners.includes(from)) return encodeHoldReply({ ok: false, reason: 'not a laptop of this class' });
    try {
      await new BlobFetcher({ store: this.store, request }).fetch({ sha256: hold.sha256, size: hold.size, name: hold.name }, [from]);
      return encodeHoldReply({ ok: true });
    } catch (error) {
      this.logger.warn('could not hold a file for a laptop of the class', { from, sha256: hold.sha256, error: String(error) });
      return encodeHoldReply({ ok: false, reason: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * Before `command` goes to `leader`: make sure the leader holds every file it refers to.
   * Throws (the router retries later) when the leader could not get one.
   */
  async beforeDelivery(command: Uint8Array, leader: string, request: SendRequest): Promise<void> {
    for (const file of filesIn(command)) {
      const reply = decodeHoldReply(await request(leader, encodeHoldRequest({ sha256: file.sha256, size: file.size, name: file.name }), HOLD_TIMEOUT_MS));
      if (!reply?.ok) throw new Error(`the leader could not take the file "${file.name}": ${reply && !reply.ok ? reply.reason : 'no answer'}`);
    }
  }

  private upload(uploadId: string): Upload {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new ServiceError('UNKNOWN_UPLOAD', 'This file upload is not in progress any more; add the file again.');
    return upload;
  }

  private dropIdleUploads(): void {
    const now = Date.now();
    for (const [id, upload] of this.uploads) if (now - upload.touched > UPLOAD_IDLE_MS) this.uploads.delete(id);
  }
}

/** The files a classroom command (as JSON bytes) refers to. */
export function filesIn(command: Uint8Array): FileRef[] {
  try {
    const signed = JSON.parse(new TextDecoder().decode(command)) as { command?: { materials?: FileRef[]; files?: FileRef[] } };
    return [...(signed.command?.materials ?? []), ...(signed.command?.files ?? [])].filter((f) => typeof f?.sha256 === 'string');
  } catch {
    return [];
  }
}

function outboxRefers(runtime: ClassRuntime, sha256: string): boolean {
  for (const item of runtime.outbox.pending()) if (filesIn(item.command).some((f) => f.sha256 === sha256)) return true;
  return false;
}

/** One reference to the file in the class (its declared name and size), if any. */
function referenceOf(runtime: ClassRuntime, sha256: string): FileRef | null {
  const db = runtime.storage.database;
  const pattern = `%${sha256}%`;
  const lists = [
    ...(statement(db, 'SELECT materials FROM assignments WHERE materials LIKE ?').pluck().all(pattern) as string[]),
    ...(statement(db, 'SELECT files FROM submissions WHERE files LIKE ?').pluck().all(pattern) as string[]),
    ...(statement(db, 'SELECT files FROM attempts WHERE files LIKE ?').pluck().all(pattern) as string[]),
  ];
  for (const list of lists) {
    const found = (JSON.parse(list) as FileRef[]).find((f) => f.sha256 === sha256);
    if (found) return found;
  }
  return null;
}

function fileUse(runtime: ClassRuntime, sha256: string): FileUse {
  const db = runtime.storage.database;
  const pattern = `%${sha256}%`;
  const material = statement(db, 'SELECT max(published) FROM assignments WHERE materials LIKE ?').pluck().get(pattern) as number | null;
  const owners = [
    ...(statement(db, 'SELECT student_id FROM submissions WHERE files LIKE ?').pluck().all(pattern) as string[]),
    ...(statement(db, 'SELECT student_id FROM attempts WHERE files LIKE ?').pluck().all(pattern) as string[]),
  ];
  return { material: material === null ? null : { published: material === 1 }, owners: [...new Set(owners)] };
}

function mayRead(runtime: ClassRuntime, userId: string, use: FileUse): boolean {
  const member = currentMember(runtime.storage.database, userId);
  if (!member) return false;
  if (member.role === 'teacher') return true;
  return (use.material?.published ?? false) || use.owners.includes(userId);
}

function laptopsOf(runtime: ClassRuntime, userIds: string[]): string[] {
  if (userIds.length === 0) return [];
  const laptops = statement(runtime.storage.database, 'SELECT laptop_id FROM member_laptops WHERE user_id = ?').pluck();
  return userIds.flatMap((id) => laptops.all(id) as string[]);
}

/** Two sizes in megabytes, with as many decimals as it takes to show that they differ. */
function megabytesApart(bytes: number, limit: number): [string, string] {
  for (let digits = 1; digits < 6; digits++) {
    const [a, b] = [(bytes / 1_000_000).toFixed(digits), (limit / 1_000_000).toFixed(digits)];
    if (a !== b) return [`${a} MB`, `${b} MB`];
  }
  return [`${bytes} bytes`, `${limit} bytes`];
}
