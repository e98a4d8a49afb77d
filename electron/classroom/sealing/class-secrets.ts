// The class's secret, replaced when a member is removed. The teacher's laptop that removes them
// makes a new secret and seals it in the removal itself, for the members who stay (a random
// content key, wrapped for each one's box key, as an item is): the removed member's laptop may
// still receive that entry, but cannot open it. Every replica checks that the removed member is
// not among its readers and keeps it as the class's next generation; each laptop of the class
// opens it with its user's key and proves the new secret from then on (electron/peer).
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { SealedItem } from '../../../shared/classroom/commands';
import type { CommandContext } from '../context';
import { refuse } from '../rejection';
import { statement } from '../statements';
import { decrypt, encrypt, newContentKey, type PairwiseWrapper } from './box';
import { unwrapKeyFor, wrapKeyFor, type Reader } from './items';
import { isRegisteredBoxKey, type ItemOpener } from './opener';

/** A class secret's length: what the class's laptops prove to each other (at least 16 bytes). */
export const CLASS_SECRET_BYTES = 20;

export interface ClassSecret {
  /** 1 for the first secret after the one the class was made with, and so on. */
  generation: number;
  secret: Uint8Array;
}

/** The associated data of a sealed class secret. */
function binding(classId: string, itemId: string): Uint8Array {
  return Buffer.from(`quorum-class-secret-v1\0${JSON.stringify({ classId, itemId })}`);
}

/** Who a class's next secret is for when `removedUserId` leaves: every other current member with a box key. */
export function secretReaders(db: Database.Database, removedUserId: string): Reader[] {
  const rows = statement(db, 'SELECT user_id, box_key FROM members WHERE removed_at IS NULL AND box_key IS NOT NULL AND user_id <> ? ORDER BY user_id').all(
    removedUserId,
  ) as { user_id: string; box_key: string }[];
  return rows.map((row) => ({ userId: row.user_id, boxKey: row.box_key }));
}

/** A new class secret, sealed by `author` for `readers` under the id of the command that carries it. */
export function sealClassSecret(classId: string, itemId: string, readers: readonly Reader[], author: PairwiseWrapper): SealedItem {
  const secret = randomBytes(CLASS_SECRET_BYTES);
  const contentKey = newContentKey();
  const { nonce, data } = encrypt(contentKey, secret, binding(classId, itemId));
  return {
    nonce: nonce.toString('base64url'),
    data: data.toString('base64url'),
    keys: readers.map((reader) => ({ userId: reader.userId, key: wrapKeyFor(contentKey, classId, itemId, reader, author) })),
  };
}

/**
 * Keep `sealed` as the class's next secret, carried by the command removing `removedUserId`
 * (already marked removed). Its readers must be current members, each once, and never the one
 * removed; a member left out (one who joined meanwhile) keeps using the earlier secret, which
 * the class's laptops accept from its own laptops.
 */
export function keepClassSecret(context: CommandContext, sealed: SealedItem, removedUserId: string): void {
  const { db, signed, authorId, now } = context;
  const allowed = new Set(secretReaders(db, removedUserId).map((reader) => reader.userId));
  const given = sealed.keys.map((key) => key.userId);
  if (new Set(given).size !== given.length || !given.every((userId) => allowed.has(userId))) {
    refuse('CONFLICT', 'The class’s new secret was not locked for the members who stay (they may have changed meanwhile); remove them again.');
  }
  if (Buffer.from(sealed.data, 'base64url').byteLength !== CLASS_SECRET_BYTES + 16) refuse('MALFORMED', 'A class secret has the wrong length.');
  const generation = classSecretGeneration(db) + 1;
  statement(db, 'INSERT INTO class_secrets (generation, item_id, author_id, nonce, data, made_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    generation,
    signed.commandId,
    authorId,
    sealed.nonce,
    sealed.data,
    now,
  );
  const insertKey = statement(db, 'INSERT INTO class_secret_keys (generation, user_id, wrapped) VALUES (?, ?, ?)');
  for (const key of sealed.keys) insertKey.run(generation, key.userId, key.key);
}

/** The newest generation of the class's secret: 0 while it still has the one it was made with. */
export function classSecretGeneration(db: Database.Database): number {
  return (statement(db, 'SELECT max(generation) FROM class_secrets').pluck().get() as number | null) ?? 0;
}

/**
 * The class's secrets after generation `after` that `opener`'s user can open, oldest first. One
 * sealed for someone else, or that does not open, is left out (its laptops keep the earlier one).
 */
export function openClassSecrets(db: Database.Database, classId: string, opener: ItemOpener, after: number): ClassSecret[] {
  const wrapper = opener.wrapper;
  if (wrapper === null) return [];
  const rows = statement(
    db,
    `SELECT s.generation, s.item_id, s.nonce, s.data, k.wrapped FROM class_secrets s
     JOIN class_secret_keys k ON k.generation = s.generation AND k.user_id = ? WHERE s.generation > ? ORDER BY s.generation`,
  ).all(opener.userId, after) as { generation: number; item_id: string; nonce: string; data: string; wrapped: string }[];
  const opened: ClassSecret[] = [];
  for (const row of rows) {
    const contentKey = unwrapKeyFor(row.wrapped, classId, row.item_id, opener.userId, wrapper, (authorKey) => isRegisteredBoxKey(db, authorKey));
    const secret = contentKey && decrypt(contentKey, Buffer.from(row.nonce, 'base64url'), Buffer.from(row.data, 'base64url'), binding(classId, row.item_id));
    if (secret && secret.byteLength === CLASS_SECRET_BYTES) opened.push({ generation: row.generation, secret: new Uint8Array(secret) });
  }
  return opened;
}
