import type Database from 'better-sqlite3';

/**
 * The last snapshot: its metadata, and its image in a table of its own so that reading the
 * metadata on every open never touches the (possibly large) image. A database from before
 * snapshots existed has an uncompacted log, which is a snapshot at index 0.
 */
export function migrate002Snapshot(db: Database.Database): void {
  db.exec(`
    CREATE TABLE raft_snapshot (
      id         INTEGER PRIMARY KEY CHECK (id = 1),
      idx        INTEGER NOT NULL,
      term       INTEGER NOT NULL,
      conf_state TEXT    NOT NULL
    );
    CREATE TABLE raft_snapshot_data (
      id   INTEGER PRIMARY KEY CHECK (id = 1),
      data BLOB    NOT NULL
    );
    INSERT INTO raft_snapshot (id, idx, term, conf_state)
      VALUES (1, 0, 0, '{"voters":[],"learners":[],"votersOutgoing":[],"learnersNext":[],"autoLeave":false}');
    INSERT INTO raft_snapshot_data (id, data) VALUES (1, x'');
  `);
}
