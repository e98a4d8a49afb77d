import type Database from 'better-sqlite3';

/**
 * "Approve each student": a class may ask a teacher to say yes to each new laptop before it is
 * given the class's secret. `approve_joins` turns that on (off for every class until a teacher
 * turns it on); `join_requests` holds who asked from which laptop (the laptop id the door laptop's
 * transport authenticated) and the teacher's answer. One row per laptop: a laptop asks once.
 */
export function migrate005JoinApproval(db: Database.Database): void {
  db.exec(`
    ALTER TABLE class_info ADD COLUMN approve_joins INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE join_requests (
      laptop_id     TEXT PRIMARY KEY,
      -- The name the asker gave at the door: theirs to choose, shown to the teacher as such.
      display_name  TEXT NOT NULL,
      -- The member whose laptop was the door, and when the class recorded the request.
      recorded_by   TEXT NOT NULL,
      asked_at      INTEGER NOT NULL,
      state         TEXT NOT NULL CHECK (state IN ('waiting', 'approved', 'refused')),
      answered_by   TEXT,
      answered_at   INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX join_requests_by_state ON join_requests (state, asked_at);
  `);
}
