// What every replica checks and keeps of a sealed item. It cannot read the item, so it checks
// what it can see: that the item was sealed for exactly the people entitled to read it (the
// class's current teachers, and the student concerned where they may read it), each once. It
// keeps the ciphertext and the wrapped keys; a wrapped key it cannot check (only its holder can
// open it) is the author's word, as the text itself is.
import type Database from 'better-sqlite3';
import type { SealedItem } from '../../../shared/classroom/commands';
import type { CommandContext } from '../context';
import { refuse } from '../rejection';
import type { ItemKind, Reader } from './items';
import { statement } from '../statements';

/** The members an item about `studentId` must be sealed for: every current teacher with a box key, and the student when `withStudent`. */
export function readersOf(db: Database.Database, studentId: string, withStudent: boolean): Reader[] {
  const rows = statement(
      db,
      `SELECT user_id, box_key FROM members WHERE removed_at IS NULL AND box_key IS NOT NULL
         AND (role = 'teacher' OR (? = 1 AND user_id = ?)) ORDER BY user_id`,
    )
    .all(withStudent ? 1 : 0, studentId) as { user_id: string; box_key: string }[];
  return rows.map((row) => ({ userId: row.user_id, boxKey: row.box_key }));
}

/**
 * Check `sealed`'s readers and keep it as the item of this command (its id is the command's).
 * Returns the item id.
 */
export function keepSealedItem(
  context: CommandContext,
  item: { kind: ItemKind; assignmentId: string; studentId: string; sealed: SealedItem; withStudent: boolean },
): string {
  const { db, signed, authorId } = context;
  const itemId = signed.commandId;
  const expected = readersOf(db, item.studentId, item.withStudent).map((reader) => reader.userId);
  const given = item.sealed.keys.map((key) => key.userId);
  const same = given.length === expected.length && new Set(given).size === given.length && expected.every((id) => given.includes(id));
  if (!same) {
    refuse(
      'CONFLICT',
      item.withStudent
        ? 'This was not locked for exactly the student and the class’s teachers (the teachers may have changed meanwhile); send it again.'
        : 'This grade was not locked for exactly the class’s teachers (they may have changed meanwhile); send it again.',
    );
  }
  if (statement(db, 'SELECT 1 FROM sealed_items WHERE item_id = ?').get(itemId)) refuse('CONFLICT', 'This was already saved once.');
  statement(db, 'INSERT INTO sealed_items (item_id, kind, assignment_id, student_id, author_id, nonce, data) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    itemId,
    item.kind,
    item.assignmentId,
    item.studentId,
    authorId,
    item.sealed.nonce,
    item.sealed.data,
  );
  const insertKey = statement(db, 'INSERT INTO item_keys (item_id, user_id, wrapped) VALUES (?, ?, ?)');
  for (const key of item.sealed.keys) insertKey.run(itemId, key.userId, key.key);
  return itemId;
}

/** Give `userId` a wrapped key of an existing item, unless they have one (two teachers sharing at once is fine). */
export function addItemKey(db: Database.Database, itemId: string, userId: string, wrapped: string): void {
  statement(db, 'INSERT OR IGNORE INTO item_keys (item_id, user_id, wrapped) VALUES (?, ?, ?)').run(itemId, userId, wrapped);
}

/** Forget an item nothing refers to any more (a draft saved over, a grade changed), so the file does not grow with every save. */
export function dropIfUnused(db: Database.Database, itemId: string | null): void {
  if (itemId === null) return;
  const used = statement(
      db,
      `SELECT 1 FROM submissions WHERE item_id = @id UNION ALL SELECT 1 FROM attempts WHERE item_id = @id
       UNION ALL SELECT 1 FROM grades WHERE item_id = @id OR returned_item_id = @id UNION ALL SELECT 1 FROM comments WHERE item_id = @id LIMIT 1`,
    )
    .get({ id: itemId });
  if (used) return;
  statement(db, 'DELETE FROM item_keys WHERE item_id = ?').run(itemId);
  statement(db, 'DELETE FROM sealed_items WHERE item_id = ?').run(itemId);
}
