import type Database from 'better-sqlite3';

/**
 * The applied index and the configuration as of it, written in the same transaction as the
 * state machine's changes (exactly-once apply); and `schema_versions`, where each state machine
 * records the version of its own tables. A database from before this had applied nothing
 * beyond its snapshot, so applied starts at the snapshot.
 */
export function migrate003AppliedIndex(db: Database.Database): void {
  db.exec(`
    CREATE TABLE raft_applied (
      id         INTEGER PRIMARY KEY CHECK (id = 1),
      idx        INTEGER NOT NULL,
      conf_state TEXT    NOT NULL
    );
    INSERT INTO raft_applied (id, idx, conf_state) SELECT 1, idx, conf_state FROM raft_snapshot;
    CREATE TABLE schema_versions (
      component TEXT    PRIMARY KEY,
      version   INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
}
