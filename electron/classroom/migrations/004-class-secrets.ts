import type Database from 'better-sqlite3';

/**
 * The class's secrets after its first: when a member is removed the class gets a new secret
 * (what its laptops prove to each other), sealed for the members who stay, so the one removed
 * can no longer connect to a laptop that knows it. Generation 0 is the secret the class was made
 * with, never in the log; each later one is kept here with its key wrapped for each reader.
 */
export function migrate004ClassSecrets(db: Database.Database): void {
  db.exec(`
    CREATE TABLE class_secrets (
      generation  INTEGER PRIMARY KEY CHECK (generation >= 1),
      -- The id of the command that carried it: bound into the ciphertext and its wrapped keys.
      item_id     TEXT NOT NULL UNIQUE,
      author_id   TEXT NOT NULL,
      nonce       TEXT NOT NULL,
      data        TEXT NOT NULL,
      made_at     INTEGER NOT NULL
    );
    CREATE TABLE class_secret_keys (
      generation  INTEGER NOT NULL REFERENCES class_secrets (generation),
      user_id     TEXT NOT NULL,
      wrapped     TEXT NOT NULL,
      PRIMARY KEY (generation, user_id)
    ) WITHOUT ROWID;
  `);
}
