import type Database from 'better-sqlite3';

/**
 * The classroom's tables. Times are milliseconds since 1970 by the class clock (the committed
 * time of the command that set them), except `*_client_at`, the author's own clock. Versions
 * start at 1 and grow by one with every change: an edit names the version it was based on.
 */
export function migrate001Classroom(db: Database.Database): void {
  db.exec(`
    CREATE TABLE class_info (
      id          INTEGER PRIMARY KEY CHECK (id = 1),
      class_id    TEXT NOT NULL,
      name        TEXT NOT NULL,
      subject     TEXT NOT NULL,
      created_at  INTEGER NOT NULL,
      -- The class clock: the latest committed time, never going back.
      clock       INTEGER NOT NULL
    );
    CREATE TABLE members (
      user_id       TEXT PRIMARY KEY,
      public_key    TEXT NOT NULL,
      display_name  TEXT NOT NULL,
      role          TEXT NOT NULL CHECK (role IN ('teacher', 'student')),
      joined_at     INTEGER NOT NULL,
      removed_at    INTEGER
    );
    CREATE TABLE member_laptops (
      user_id    TEXT NOT NULL REFERENCES members (user_id),
      laptop_id  TEXT NOT NULL,
      PRIMARY KEY (user_id, laptop_id)
    ) WITHOUT ROWID;
    CREATE TABLE assignments (
      assignment_id    TEXT PRIMARY KEY,
      title            TEXT NOT NULL,
      instructions     TEXT NOT NULL,
      points_possible  REAL,
      due_at           INTEGER,
      cut_off_at       INTEGER,
      published        INTEGER NOT NULL,
      materials        TEXT NOT NULL,
      created_by       TEXT NOT NULL,
      created_at       INTEGER NOT NULL,
      updated_at       INTEGER NOT NULL,
      version          INTEGER NOT NULL
    );
    CREATE TABLE extensions (
      assignment_id  TEXT NOT NULL REFERENCES assignments (assignment_id),
      student_id     TEXT NOT NULL REFERENCES members (user_id),
      due_at         INTEGER,
      PRIMARY KEY (assignment_id, student_id)
    ) WITHOUT ROWID;
    CREATE TABLE submissions (
      assignment_id        TEXT NOT NULL REFERENCES assignments (assignment_id),
      student_id           TEXT NOT NULL REFERENCES members (user_id),
      text                 TEXT NOT NULL,
      files                TEXT NOT NULL,
      turned_in            INTEGER NOT NULL,
      turned_in_at         INTEGER,
      turned_in_client_at  INTEGER,
      attempts             INTEGER NOT NULL,
      updated_at           INTEGER NOT NULL,
      version              INTEGER NOT NULL,
      PRIMARY KEY (assignment_id, student_id)
    );
    CREATE INDEX submissions_by_student ON submissions (student_id);
    -- Every turn-in is kept.
    CREATE TABLE attempts (
      assignment_id        TEXT NOT NULL,
      student_id           TEXT NOT NULL,
      attempt              INTEGER NOT NULL,
      text                 TEXT NOT NULL,
      files                TEXT NOT NULL,
      turned_in_at         INTEGER NOT NULL,
      turned_in_client_at  INTEGER NOT NULL,
      PRIMARY KEY (assignment_id, student_id, attempt),
      FOREIGN KEY (assignment_id, student_id) REFERENCES submissions (assignment_id, student_id)
    );
    CREATE TABLE grades (
      assignment_id      TEXT NOT NULL REFERENCES assignments (assignment_id),
      student_id         TEXT NOT NULL REFERENCES members (user_id),
      -- The teacher's draft.
      score              REAL,
      feedback           TEXT NOT NULL,
      excused            INTEGER NOT NULL,
      -- What the student sees: set when the teacher returns it.
      returned_score     REAL,
      returned_feedback  TEXT,
      returned_at        INTEGER,
      updated_at         INTEGER NOT NULL,
      version            INTEGER NOT NULL,
      PRIMARY KEY (assignment_id, student_id)
    );
    CREATE INDEX grades_by_student ON grades (student_id);
    CREATE TABLE comments (
      comment_id     TEXT PRIMARY KEY,
      assignment_id  TEXT NOT NULL REFERENCES assignments (assignment_id),
      student_id     TEXT NOT NULL REFERENCES members (user_id),
      author_id      TEXT NOT NULL REFERENCES members (user_id),
      text           TEXT NOT NULL,
      at             INTEGER NOT NULL
    );
    CREATE INDEX comments_by_thread ON comments (assignment_id, student_id, at);
    -- Every command applied or refused, by author: a replay of one is refused.
    CREATE TABLE seen_commands (
      author_id   TEXT NOT NULL,
      command_id  TEXT NOT NULL,
      PRIMARY KEY (author_id, command_id)
    ) WITHOUT ROWID;
    -- Refused commands, listed for their authors with the reason.
    CREATE TABLE rejections (
      author_id   TEXT NOT NULL,
      command_id  TEXT NOT NULL,
      type        TEXT NOT NULL,
      assignment_id TEXT,
      code        TEXT NOT NULL,
      reason      TEXT NOT NULL,
      client_at   INTEGER NOT NULL,
      at          INTEGER NOT NULL,
      PRIMARY KEY (author_id, command_id)
    ) WITHOUT ROWID;
  `);
}
