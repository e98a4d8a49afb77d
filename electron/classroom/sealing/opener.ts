// Opening sealed items for one reader: their box key unwraps their copy of an item's content key,
// which opens the item. The queries take an opener, so the views stay as they were while the
// tables hold only ciphertext; who keeps the private key (the peer, from its vault) hands it in.
import type Database from 'better-sqlite3';
import type { BoxKeyPair } from './box';
import { openContent, unwrapKeyFor, type ItemKind } from './items';
import { statement } from '../statements';

/** Opens the items sealed for one user. */
export interface ItemOpener {
  /** The user whose key this is. */
  readonly userId: string;
  /** The item's content key, or null when it was not sealed for this user (or its key does not open). */
  contentKey(db: Database.Database, itemId: string): Buffer | null;
  /** The item's content (parsed JSON), or null when this user cannot open it. */
  open(db: Database.Database, itemId: string): unknown;
}

interface ItemRow {
  kind: ItemKind;
  assignment_id: string;
  student_id: string;
  nonce: string;
  data: string;
  wrapped: string | null;
}

/** Unwrapped content keys kept in memory, so a view opened again costs no key agreement. */
const MAX_CACHED_KEYS = 50_000;

export class BoxOpener implements ItemOpener {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    readonly userId: string,
    private readonly box: BoxKeyPair,
  ) {}

  contentKey(db: Database.Database, itemId: string): Buffer | null {
    const row = itemRow(db, itemId, this.userId);
    return row ? this.keyOf(db, itemId, row) : null;
  }

  open(db: Database.Database, itemId: string): unknown {
    const row = itemRow(db, itemId, this.userId);
    if (!row) return null;
    const key = this.keyOf(db, itemId, row);
    if (!key) return null;
    return openContent(
      { classId: classIdOf(db), kind: row.kind, assignmentId: row.assignment_id, studentId: row.student_id, itemId },
      key,
      row.nonce,
      row.data,
    );
  }

  private keyOf(db: Database.Database, itemId: string, row: ItemRow): Buffer | null {
    if (row.wrapped === null) return null;
    const classId = classIdOf(db);
    // By the wrapped key itself: a key replaced in the table is never answered from memory.
    const cacheKey = `${classId}\0${itemId}\0${row.wrapped}`;
    const cached = this.keys.get(cacheKey);
    if (cached) return cached;
    const key = unwrapKeyFor(row.wrapped, classId, itemId, this.userId, this.box);
    if (key) {
      if (this.keys.size >= MAX_CACHED_KEYS) this.keys.delete(this.keys.keys().next().value as string);
      this.keys.set(cacheKey, key);
    }
    return key;
  }
}

/** An opener that opens nothing: for a viewer without a key on this laptop. */
export const NO_KEYS = (userId: string): ItemOpener => ({ userId, contentKey: () => null, open: () => null });

function itemRow(db: Database.Database, itemId: string, userId: string): ItemRow | undefined {
  return statement(
    db,
      `SELECT i.kind, i.assignment_id, i.student_id, i.nonce, i.data, k.wrapped FROM sealed_items i
       LEFT JOIN item_keys k ON k.item_id = i.item_id AND k.user_id = ? WHERE i.item_id = ?`,
  ).get(userId, itemId) as ItemRow | undefined;
}

/** A class file's class id, which never changes once the class is created. */
const classIds = new WeakMap<Database.Database, string>();
function classIdOf(db: Database.Database): string {
  const known = classIds.get(db);
  if (known !== undefined) return known;
  const classId = (statement(db, 'SELECT class_id FROM class_info WHERE id = 1').pluck().get() as string | undefined) ?? '';
  if (classId !== '') classIds.set(db, classId);
  return classId;
}
