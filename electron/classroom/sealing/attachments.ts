// Files attached to a student's work, sealed: what of each file travels inside the sealed draft
// (its key, its real name, type, size and hash: for the student and the teachers only) and what
// stays in the clear beside it (the sealed copy's hash and size, which the rules, the laptops that
// keep copies and the backups need, under a name that says nothing). A reader finds a file's key
// by opening the draft or turned-in attempt that refers to it.
import type Database from 'better-sqlite3';
import type { FileRef } from '../../../shared/classroom/commands';
import { LIMITS } from '../../../shared/classroom/commands';
import { boundedText, list, matching, object, wholeNumber, type Infer } from '../../../shared/schema';
import { FILE_NONCE_BYTES, type FileSecret } from './file-cipher';
import type { ItemOpener } from './opener';
import { statement } from '../statements';

const sha256 = matching(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');
const base64url = (bytes: number) => matching(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`), `${bytes} bytes in base64url`);

/** One attached file as its readers see it, inside the sealed draft. */
export const sealedAttachment = object({
  /** The hash and size of the sealed copy: the blob the class refers to. */
  sha256,
  sealedSize: wholeNumber(0, LIMITS.fileBytes),
  /** The file itself. */
  name: boundedText(LIMITS.fileName),
  type: boundedText(100),
  size: wholeNumber(0, LIMITS.attachmentBytes),
  plainSha256: sha256,
  /** Its AES-256 key and its nonce (electron/classroom/sealing/file-cipher.ts). */
  key: base64url(32),
  nonce: base64url(FILE_NONCE_BYTES),
});
export type SealedAttachment = Infer<typeof sealedAttachment>;

const sealedAttachments = list(sealedAttachment, LIMITS.filesPerItem);

/** The type every sealed copy declares in the clear. */
const SEALED_TYPE = 'application/octet-stream';

/** The reference the log carries for the `index`th attached file: nothing of the file but its sealed copy's hash and size. */
export function clearReferenceOf(attachment: SealedAttachment, index: number): FileRef {
  return { sha256: attachment.sha256, name: `Attachment ${index + 1} (sealed)`, type: SEALED_TYPE, size: attachment.sealedSize };
}

/** The reference its readers are shown: the sealed copy's hash (what readFile asks for), the file's own name, type and size. */
export function shownReferenceOf(attachment: SealedAttachment): FileRef {
  return { sha256: attachment.sha256, name: attachment.name, type: attachment.type, size: attachment.size };
}

export function secretOf(attachment: SealedAttachment): FileSecret {
  return { key: Buffer.from(attachment.key, 'base64url'), nonce: Buffer.from(attachment.nonce, 'base64url') };
}

/**
 * The attachments inside an opened draft's content, or null when it has none listed (a draft
 * sealed before files were, whose files are in the clear) or they are not well formed (a
 * tampered laptop can seal anything: a reader shows what it cannot trust as locked).
 */
export function attachmentsIn(content: unknown): SealedAttachment[] | null {
  if (typeof content !== 'object' || content === null || !('files' in content)) return null;
  const files = (content as { files: unknown }).files;
  return sealedAttachments.check(files, 'files') === null ? (files as SealedAttachment[]) : null;
}

/** Where a reader stands with one file of the class. */
export type AttachmentAccess =
  /** Sealed, and this reader holds its key. */
  | { kind: 'sealed'; attachment: SealedAttachment }
  /** Stored as it is: an assignment's material, or a file attached before files were sealed. */
  | { kind: 'clear' }
  /** Attached to work this reader cannot open (yet). */
  | { kind: 'locked' };

interface WorkRow {
  item_id: string | null;
  files: string;
}

/** How `opener`'s user can read the file stored as `sha256` in this class. */
export function attachmentAccess(db: Database.Database, opener: ItemOpener, sha256: string): AttachmentAccess {
  const pattern = `%${sha256}%`;
  const works = [
    ...(statement(db, 'SELECT item_id, files FROM submissions WHERE files LIKE ?').all(pattern) as WorkRow[]),
    ...(statement(db, 'SELECT item_id, files FROM attempts WHERE files LIKE ?').all(pattern) as WorkRow[]),
  ].filter((row) => (JSON.parse(row.files) as FileRef[]).some((file) => file.sha256 === sha256));
  let clear = statement(db, 'SELECT 1 FROM assignments WHERE materials LIKE ?').get(pattern) !== undefined;
  for (const work of works) {
    if (work.item_id === null) {
      clear = true;
      continue;
    }
    const content = opener.open(db, work.item_id);
    if (content === null) continue;
    const attachments = attachmentsIn(content);
    const attachment = attachments?.find((candidate) => candidate.sha256 === sha256);
    if (attachment) return { kind: 'sealed', attachment };
    if (!(typeof content === 'object' && 'files' in content)) clear = true; // sealed before files were: its files are as they are
  }
  return clear ? { kind: 'clear' } : { kind: 'locked' };
}

/**
 * The sealed attachments of one student's work on one assignment (the draft and every turned-in
 * attempt) that `opener`'s user can open, by the hash of their sealed copy: a draft saved again
 * with a file it had keeps the file's key rather than sealing it anew.
 */
export function attachmentsOfWork(db: Database.Database, opener: ItemOpener, assignmentId: string, studentId: string): Map<string, SealedAttachment> {
  const itemIds = [
    ...(statement(db, 'SELECT item_id FROM submissions WHERE assignment_id = ? AND student_id = ? AND item_id IS NOT NULL').pluck().all(assignmentId, studentId) as string[]),
    ...(statement(db, 'SELECT item_id FROM attempts WHERE assignment_id = ? AND student_id = ? AND item_id IS NOT NULL ORDER BY attempt DESC')
      .pluck()
      .all(assignmentId, studentId) as string[]),
  ];
  const found = new Map<string, SealedAttachment>();
  for (const itemId of itemIds) {
    for (const attachment of attachmentsIn(opener.open(db, itemId)) ?? []) if (!found.has(attachment.sha256)) found.set(attachment.sha256, attachment);
  }
  return found;
}
