import type Database from 'better-sqlite3';

/**
 * Re-admissions: a student who lost their laptop joins again from a new one, as a new member with
 * new keys, and a teacher says who they are. From then on the new laptop's signing key acts as
 * the student (`readmissions`, by the user id that key gives), the lost signing key acts as
 * nobody, and the lost laptops are out of the class as a removed member's are (`lost_laptops`).
 * The lost box key is kept: what it wrapped before still opens for its readers, nothing new is
 * sealed for it.
 */
export function migrate006Readmissions(db: Database.Database): void {
  db.exec(`
    CREATE TABLE readmissions (
      -- The user id the new laptop's signing key gives: the member who joined from it, merged away.
      key_user_id      TEXT PRIMARY KEY,
      -- The student that key signs as now.
      user_id          TEXT NOT NULL,
      -- The signing key and the box key it replaced (the lost laptop's).
      lost_public_key  TEXT NOT NULL,
      lost_box_key     TEXT,
      teacher_id       TEXT NOT NULL,
      at               INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX readmissions_by_user ON readmissions (user_id);
    CREATE INDEX readmissions_by_lost_box_key ON readmissions (lost_box_key);
    CREATE TABLE lost_laptops (
      laptop_id  TEXT PRIMARY KEY,
      -- Whose laptop it was.
      user_id    TEXT NOT NULL,
      lost_at    INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
}
