// How Raft entries and configurations are laid out in SQLite rows.
import { cloneConfState, entrySize } from '../../raft';
import type { ConfChange, ConfState, Entry } from '../../raft';

/** Values of `raft_log.type`. Numbers, not names, because they are written once per entry. */
export const ENTRY_TYPE = { normal: 0, confChange: 1 } as const;

/** A row of `raft_log` as read back. */
export interface EntryRow {
  idx: number;
  term: number;
  type: number;
  data: Uint8Array;
}

/** The columns written for one entry; `size` is `entrySize` so byte budgets need no decoding. */
export function encodeEntry(entry: Entry): { idx: number; term: number; type: number; data: Uint8Array; size: number } {
  const data = entry.type === 'normal' ? entry.data : Buffer.from(JSON.stringify(entry.change), 'utf8');
  return { idx: entry.index, term: entry.term, type: ENTRY_TYPE[entry.type], data, size: entrySize(entry) };
}

export function decodeEntry(row: EntryRow): Entry {
  if (row.type === ENTRY_TYPE.normal) return { index: row.idx, term: row.term, type: 'normal', data: plainBytes(row.data) };
  if (row.type === ENTRY_TYPE.confChange) {
    const change = JSON.parse(Buffer.from(row.data).toString('utf8')) as ConfChange;
    return { index: row.idx, term: row.term, type: 'confChange', change };
  }
  throw new Error(`raft_log entry ${row.idx} has unknown type ${row.type}`);
}

/**
 * better-sqlite3 returns blobs as Buffers; callers get a plain Uint8Array view of the same bytes
 * so stored and in-memory entries compare equal (a Buffer is a different class).
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeConfState(confState: ConfState): string {
  return JSON.stringify(confState);
}

export function decodeConfState(text: string): ConfState {
  return cloneConfState(JSON.parse(text) as ConfState);
}

