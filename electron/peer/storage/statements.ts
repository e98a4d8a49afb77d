// Every statement the storage runs on the Raft tables, prepared once per connection.
import type Database from 'better-sqlite3';
import type { EntryRow } from './entry-codec';

export interface HardStateRow {
  term: number;
  vote: string | null;
  commit_index: number;
}

export interface MetaRow {
  idx: number;
  term: number;
  conf_state: string;
}

/** The columns of one `raft_log` row, as `encodeEntry` produces them. */
export interface EntryColumns {
  idx: number;
  term: number;
  type: number;
  data: Uint8Array;
  size: number;
}

type Statement<Parameters extends unknown[], Row = unknown> = Database.Statement<Parameters, Row>;

export interface RaftStatements {
  entryRange: Statement<[lo: number, hi: number], EntryRow>;
  termAt: Statement<[index: number], number>;
  lastEntry: Statement<[], { idx: number; term: number }>;
  firstEntryIndex: Statement<[], number>;
  insertEntry: Statement<[EntryColumns]>;
  deleteFrom: Statement<[index: number]>;
  deleteThrough: Statement<[index: number]>;
  deleteAll: Statement<[]>;
  bytesThrough: Statement<[index: number], number>;
  readHardState: Statement<[], HardStateRow>;
  writeHardState: Statement<[term: number, vote: string | null, commit: number]>;
  readSnapshotMeta: Statement<[], MetaRow>;
  writeSnapshotMeta: Statement<[index: number, term: number, confState: string]>;
  readSnapshotData: Statement<[], Uint8Array>;
  writeSnapshotData: Statement<[data: Uint8Array]>;
  readApplied: Statement<[], Omit<MetaRow, 'term'>>;
  writeApplied: Statement<[index: number, confState: string]>;
}

export function prepareStatements(db: Database.Database): RaftStatements {
  return {
    entryRange: db.prepare('SELECT idx, term, type, data FROM raft_log WHERE idx >= ? AND idx < ? ORDER BY idx'),
    termAt: db.prepare<[number], number>('SELECT term FROM raft_log WHERE idx = ?').pluck(),
    lastEntry: db.prepare('SELECT idx, term FROM raft_log ORDER BY idx DESC LIMIT 1'),
    firstEntryIndex: db.prepare<[], number>('SELECT idx FROM raft_log ORDER BY idx LIMIT 1').pluck(),
    insertEntry: db.prepare('INSERT INTO raft_log (idx, term, type, data, size) VALUES (@idx, @term, @type, @data, @size)'),
    deleteFrom: db.prepare('DELETE FROM raft_log WHERE idx >= ?'),
    deleteThrough: db.prepare('DELETE FROM raft_log WHERE idx <= ?'),
    deleteAll: db.prepare('DELETE FROM raft_log'),
    bytesThrough: db.prepare<[number], number>('SELECT coalesce(sum(size), 0) FROM raft_log WHERE idx <= ?').pluck(),
    readHardState: db.prepare('SELECT term, vote, commit_index FROM raft_hard_state WHERE id = 1'),
    writeHardState: db.prepare('UPDATE raft_hard_state SET term = ?, vote = ?, commit_index = ? WHERE id = 1'),
    readSnapshotMeta: db.prepare('SELECT idx, term, conf_state FROM raft_snapshot WHERE id = 1'),
    writeSnapshotMeta: db.prepare('UPDATE raft_snapshot SET idx = ?, term = ?, conf_state = ? WHERE id = 1'),
    readSnapshotData: db.prepare<[], Uint8Array>('SELECT data FROM raft_snapshot_data WHERE id = 1').pluck(),
    writeSnapshotData: db.prepare('UPDATE raft_snapshot_data SET data = ? WHERE id = 1'),
    readApplied: db.prepare('SELECT idx, conf_state FROM raft_applied WHERE id = 1'),
    writeApplied: db.prepare('UPDATE raft_applied SET idx = ?, conf_state = ? WHERE id = 1'),
  };
}
