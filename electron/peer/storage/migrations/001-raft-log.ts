import type Database from 'better-sqlite3';
import { QUORUM_APPLICATION_ID } from '../file-format';

/**
 * The Raft log and hard state. Marks the file as Quorum's (application_id) in the same
 * transaction, so a file is either empty or recognisably ours.
 */
export function migrate001RaftLog(db: Database.Database): void {
  db.pragma(`application_id = ${QUORUM_APPLICATION_ID}`);
  db.exec(`
    -- idx is the rowid: entries live in index order and range reads walk the table's own b-tree.
    -- size is entrySize(entry), kept so byte budgets (compaction) need no decoding.
    CREATE TABLE raft_log (
      idx  INTEGER PRIMARY KEY,
      term INTEGER NOT NULL,
      type INTEGER NOT NULL CHECK (type IN (0, 1)),
      data BLOB    NOT NULL,
      size INTEGER NOT NULL
    );
    -- Exactly one row: the term, vote and commit that must be durable before messages go out.
    CREATE TABLE raft_hard_state (
      id           INTEGER PRIMARY KEY CHECK (id = 1),
      term         INTEGER NOT NULL,
      vote         TEXT,
      commit_index INTEGER NOT NULL
    );
    INSERT INTO raft_hard_state (id, term, vote, commit_index) VALUES (1, 0, NULL, 0);
  `);
}
