// Opening sealed items for one reader: their box key unwraps their copy of an item's content key,
// which opens the item. The queries take an opener, so the views stay as they were while the
// tables hold only ciphertext; who keeps the private key (the peer, from its vault) hands it in.
import type Database from 'better-sqlite3';
import { PairwiseWrapper, type BoxKeyPair } from './box';
import { openContent, unwrapKeyFor, type ItemKind } from './items';
import { statement } from '../statements';

/** Opens the items sealed for one user. */
export interface ItemOpener {
  /** The user whose key this is. */
  readonly userId: string;
  /** This user's box key pair, to wrap content keys as them; null on a laptop that does not hold it. */
  readonly wrapper: PairwiseWrapper | null;
  /** The item's content key, or null when it was not sealed for this user (or its key does not open). */
  contentKey(db: Database.Database, itemId: string): Buffer | null;
  /** The item's content (parsed JSON), or null when this user cannot open it. */
  open(db: Database.Database, itemId: string): unknown;
}

interface ItemRow {
  item_id: string;
  kind: ItemKind;
  assignment_id: string;
  student_id: string;
  nonce: string;
  data: string;
  wrapped: string | null;
}

/** Unwrapped content keys kept in memory, so a view opened again costs no key agreement. */
const MAX_CACHED_KEYS = 50_000;
/** Opened contents kept in memory (as JSON text), in characters: a year's grades are well under a tenth of it. */
const MAX_CACHED_TEXT = 8 * 1024 * 1024;
/** Larger items (drafts with long texts) are opened each time, as only a single submission's view shows them. */
const MAX_CACHED_ITEM = 2048;

export class BoxOpener implements ItemOpener {
  readonly wrapper: PairwiseWrapper;
  private readonly keys = new Map<string, Buffer>();
  /** Opened contents by the exact row they were opened from (class, item, wrapped key, nonce, ciphertext): a row that changed is opened again. */
  private readonly texts = new Map<string, string>();
  private cachedText = 0;

  constructor(
    readonly userId: string,
    box: BoxKeyPair,
  ) {
    this.wrapper = new PairwiseWrapper(box);
  }

  contentKey(db: Database.Database, itemId: string): Buffer | null {
    const row = itemRow(db, itemId, this.userId);
    return row ? this.keyOf(db, row) : null;
  }

  open(db: Database.Database, itemId: string): unknown {
    const row = itemRow(db, itemId, this.userId);
    return row ? this.opened(db, row) : null;
  }

  /** The contents of `itemIds` this user can open, read in one query (and opened once); what does not open is left out. */
  openAll(db: Database.Database, itemIds: readonly string[]): Map<string, unknown> {
    const opened = new Map<string, unknown>();
    if (itemIds.length === 0) return opened;
    const rows = statement(
      db,
      `SELECT i.item_id, i.kind, i.assignment_id, i.student_id, i.nonce, i.data, k.wrapped FROM sealed_items i
       LEFT JOIN item_keys k ON k.item_id = i.item_id AND k.user_id = ? WHERE i.item_id IN (SELECT value FROM json_each(?))`,
    ).all(this.userId, JSON.stringify(itemIds)) as ItemRow[];
    for (const row of rows) {
      if (row.wrapped === null) continue;
      const rowKey = row.data.length <= MAX_CACHED_ITEM ? `${classIdOf(db)}\0${row.item_id}\0${row.wrapped}\0${row.nonce}\0${row.data}` : null;
      const text = rowKey === null ? undefined : this.texts.get(rowKey);
      if (text !== undefined) {
        opened.set(row.item_id, JSON.parse(text) as unknown);
        continue;
      }
      const content = this.opened(db, row);
      if (content === null) continue;
      opened.set(row.item_id, content);
      if (rowKey !== null) this.keepText(rowKey, JSON.stringify(content));
    }
    return opened;
  }

  private keepText(rowKey: string, text: string): void {
    // Parsed again on each use, so no view can change what another is shown.
    this.texts.set(rowKey, text);
    this.cachedText += rowKey.length + text.length;
    while (this.cachedText > MAX_CACHED_TEXT) {
      const [oldest, oldText] = this.texts.entries().next().value as [string, string];
      this.texts.delete(oldest);
      this.cachedText -= oldest.length + oldText.length;
    }
  }

  private opened(db: Database.Database, row: ItemRow): unknown {
    const key = this.keyOf(db, row);
    if (!key) return null;
    return openContent(
      { classId: classIdOf(db), kind: row.kind, assignmentId: row.assignment_id, studentId: row.student_id, itemId: row.item_id },
      key,
      row.nonce,
      row.data,
    );
  }

  private keyOf(db: Database.Database, row: ItemRow): Buffer | null {
    if (row.wrapped === null) return null;
    const classId = classIdOf(db);
    // By the wrapped key itself: a key replaced in the table is never answered from memory.
    const cacheKey = `${classId}\0${row.item_id}\0${row.wrapped}`;
    const cached = this.keys.get(cacheKey);
    if (cached) return cached;
    const key = unwrapKeyFor(row.wrapped, classId, row.item_id, this.userId, this.wrapper, (authorKey) => isRegisteredBoxKey(db, authorKey));
    if (key) {
      if (this.keys.size >= MAX_CACHED_KEYS) this.keys.delete(this.keys.keys().next().value as string);
      this.keys.set(cacheKey, key);
    }
    return key;
  }
}

/** An opener that opens nothing: for a viewer without a key on this laptop. */
export const NO_KEYS = (userId: string): ItemOpener => ({ userId, wrapper: null, contentKey: () => null, open: () => null });

/**
 * The contents of `itemIds` that `opener` opens, by item id: in one pass where it can (a
 * BoxOpener), one item at a time otherwise.
 */
export function openAll(db: Database.Database, opener: ItemOpener, itemIds: readonly string[]): Map<string, unknown> {
  if (opener instanceof BoxOpener) return opener.openAll(db, itemIds);
  const opened = new Map<string, unknown>();
  for (const itemId of itemIds) {
    const content = opener.open(db, itemId);
    if (content !== null) opened.set(itemId, content);
  }
  return opened;
}

/** `opener`, answering the items in `opened` from it (what openAll read) and any other as `opener` does. */
export function withOpened(opener: ItemOpener, opened: ReadonlyMap<string, unknown>): ItemOpener {
  return {
    userId: opener.userId,
    wrapper: opener.wrapper,
    contentKey: (db, itemId) => opener.contentKey(db, itemId),
    open: (db, itemId) => (opened.has(itemId) ? opened.get(itemId) : opener.open(db, itemId)),
  };
}

function itemRow(db: Database.Database, itemId: string, userId: string): ItemRow | undefined {
  return statement(
    db,
    `SELECT i.item_id, i.kind, i.assignment_id, i.student_id, i.nonce, i.data, k.wrapped FROM sealed_items i
       LEFT JOIN item_keys k ON k.item_id = i.item_id AND k.user_id = ? WHERE i.item_id = ?`,
  ).get(userId, itemId) as ItemRow | undefined;
}

/**
 * Box keys registered in each class file (members.box_key, and those a re-admitted student lost,
 * which wrapped keys before): the only keys a wrap is accepted from. Only keys found are
 * remembered, as a key once registered stays so.
 */
const registeredBoxKeys = new WeakMap<Database.Database, Set<string>>();
export function isRegisteredBoxKey(db: Database.Database, boxKey: string): boolean {
  if (registeredBoxKeys.get(db)?.has(boxKey)) return true;
  const keys = new Set(
    statement(db, 'SELECT box_key FROM members WHERE box_key IS NOT NULL UNION SELECT lost_box_key FROM readmissions WHERE lost_box_key IS NOT NULL')
      .pluck()
      .all() as string[],
  );
  registeredBoxKeys.set(db, keys);
  return keys.has(boxKey);
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
