import type Database from 'better-sqlite3';

/**
 * Sealed items: the private parts of the class (a draft's text, a grade's score and feedback, a
 * comment) are kept only as ciphertext, readable by the people they were sealed for. Each member
 * gets a box key (X25519 public key, null for members who joined before this), every item its
 * ciphertext and one wrapped content key per reader, and the rows that used to hold the text
 * point at their item instead. Rows written before keep their text (nothing here can seal it).
 */
export function migrate003SealedItems(db: Database.Database): void {
  db.exec(`
    ALTER TABLE members ADD COLUMN box_key TEXT;
    CREATE TABLE sealed_items (
      -- The id of the command that carried it: bound into the ciphertext's associated data.
      item_id        TEXT PRIMARY KEY,
      kind           TEXT NOT NULL CHECK (kind IN ('submission', 'grade', 'comment')),
      assignment_id  TEXT NOT NULL,
      student_id     TEXT NOT NULL,
      author_id      TEXT NOT NULL,
      nonce          TEXT NOT NULL,
      -- AES-256-GCM ciphertext with its tag, base64url.
      data           TEXT NOT NULL
    );
    CREATE TABLE item_keys (
      item_id  TEXT NOT NULL REFERENCES sealed_items (item_id) ON DELETE CASCADE,
      user_id  TEXT NOT NULL,
      wrapped  TEXT NOT NULL,
      PRIMARY KEY (item_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX item_keys_by_user ON item_keys (user_id);
    ALTER TABLE submissions ADD COLUMN item_id TEXT;
    ALTER TABLE attempts ADD COLUMN item_id TEXT;
    -- The teacher's draft, and what was returned to the student.
    ALTER TABLE grades ADD COLUMN item_id TEXT;
    ALTER TABLE grades ADD COLUMN returned_item_id TEXT;
    ALTER TABLE comments ADD COLUMN item_id TEXT;
    -- Whether anything still refers to an item, asked on every save over one.
    CREATE INDEX submissions_by_item ON submissions (item_id);
    CREATE INDEX attempts_by_item ON attempts (item_id);
    CREATE INDEX grades_by_item ON grades (item_id);
    CREATE INDEX grades_by_returned_item ON grades (returned_item_id);
    CREATE INDEX comments_by_item ON comments (item_id);
  `);
}
