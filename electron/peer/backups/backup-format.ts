// The backup file, one per class and moment:
//
//   "QUORUMBK" | u32 header length | header (JSON, readable without the passphrase)
//   then records, each: u32 sealed length | u8 final | AES-256-GCM(kind u8 | payload) | tag (16)
//
// The header says what the file is (class, when, the applied index, term and state digest it
// reflects, how the key is derived) so a folder of backups can be listed without a passphrase;
// it is authenticated as every record's associated data, so changing it breaks them all. Each
// record's nonce is the header's random prefix, the record's position and its final flag, so
// records can be neither reordered, dropped nor cut short unnoticed: the last must say final.
import { isClassTag } from '../discovery/class-tag';
import { isAcceptableDerivation, type KeyDerivation } from './passphrase';
import type { LaterSecret } from '../class-registry';

export const BACKUP_MAGIC = Buffer.from('QUORUMBK', 'ascii');
/** The format this version writes and reads. */
export const BACKUP_FORMAT = 1;
/** Backup files end with this. */
export const BACKUP_EXTENSION = '.quorum-backup';
export const MAX_HEADER_BYTES = 64 * 1024;
/** Plaintext bytes per record at most: a large class streams through in pieces of this size. */
export const RECORD_PAYLOAD_BYTES = 1024 * 1024;
export const NONCE_PREFIX_BYTES = 7;
export const TAG_BYTES = 16;
/** u32 sealed length + u8 final. */
export const RECORD_FRAME_BYTES = 5;

/** What a backup is of, readable without the passphrase. */
export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  classId: string;
  className: string;
  /** When the backup was taken (ms since 1970). */
  createdAt: number;
  /** The class's applied index and the term of that entry, which the state reflects. */
  appliedIndex: number;
  term: number;
  /** The state digest at `appliedIndex` (SqliteStorage.digest): what a restore must reproduce. */
  digest: string;
  kdf: KeyDerivation;
  /** base64url, NONCE_PREFIX_BYTES random bytes. */
  noncePrefix: string;
}

/** The kinds of record, in the order they appear: meta, item keys…, state…, (blob start, blob bytes…)…, end. */
export const RecordKind = { meta: 1, state: 2, blobStart: 3, blobBytes: 4, end: 5, itemKeys: 6 } as const;
/** Content keys per itemKeys record: [itemId, base64url key] pairs, well under a record's size. */
export const ITEM_KEYS_PER_RECORD = 4000;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** The first record: the secrets that make the class this class, and the teacher's hand-over. */
export interface BackupMeta {
  /** base64url of the class secret: the restored class is the same class, with the same id. */
  classSecret: string;
  /** The secrets that replaced it as members were removed, oldest first (absent in older backups). */
  laterSecrets?: LaterSecret[];
  /**
   * A key made for this backup (PKCS#8 PEM) and the exporting teacher's signed command making it
   * a teacher: whoever restores with the passphrase can hand the class to their own user.
   */
  handover: { keyPem: string; grant: unknown };
  /** The name the exporting teacher goes by in the class. */
  teacherName: string;
  /**
   * The exporting teacher's user id. The content keys of the sealed items (drafts, grades,
   * comments) they could open follow in itemKeys records, so the restoring laptop can pass them
   * on to its own user once a teacher, as a teacher's laptop does for a new teacher.
   */
  teacherId: string;
}

/** A blob record's announcement: the bytes that follow in blobBytes records. */
export interface BlobAnnouncement {
  sha256: string;
  size: number;
}

/** The last record: what the reader must have seen. */
export interface BackupEnd {
  stateBytes: number;
  blobs: number;
  itemKeys: number;
}

export function encodeHeader(header: BackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.byteLength);
  return Buffer.concat([BACKUP_MAGIC, length, json]);
}

/** The header as written, or why it is not one: 'not-backup', 'too-new' or 'damaged'. */
export function decodeHeader(json: Buffer): BackupHeader | 'too-new' | 'damaged' {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    return 'damaged';
  }
  const h = value as Partial<BackupHeader> | null;
  if (typeof h !== 'object' || h === null) return 'damaged';
  if (typeof h.format === 'number' && h.format > BACKUP_FORMAT) return 'too-new';
  const ok =
    h.format === BACKUP_FORMAT &&
    isClassTag(h.classId) &&
    typeof h.className === 'string' &&
    Number.isSafeInteger(h.createdAt) &&
    Number.isSafeInteger(h.appliedIndex) &&
    h.appliedIndex! > 0 &&
    Number.isSafeInteger(h.term) &&
    h.term! > 0 &&
    typeof h.digest === 'string' &&
    typeof h.noncePrefix === 'string' &&
    Buffer.from(h.noncePrefix, 'base64url').byteLength === NONCE_PREFIX_BYTES &&
    isAcceptableDerivation(h.kdf);
  return ok ? (h as BackupHeader) : 'damaged';
}

/** The nonce of record `index`: the header's prefix, the position, the final flag. */
export function recordNonce(prefix: Buffer, index: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(NONCE_PREFIX_BYTES + 5);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  nonce[NONCE_PREFIX_BYTES + 4] = final ? 1 : 0;
  return nonce;
}

/** `<class name> <date>.quorum-backup`, with characters no file system accepts replaced. */
export function backupFileName(className: string, at: Date): string {
  const safe = className.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '-').replace(/^[.\s]+|[.\s]+$/g, '').slice(0, 80) || 'Class';
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}-${pad(at.getMinutes())}-${pad(at.getSeconds())}`;
  return `${safe} ${date}${BACKUP_EXTENSION}`;
}
