import type Database from 'better-sqlite3';

/**
 * The key-value table. A rowid table, not WITHOUT ROWID: values can be kilobytes, and a
 * WITHOUT ROWID row that large spills onto an overflow page of its own (a 10 MB state took 47 MB).
 */
export function migrate001KeyValue(db: Database.Database): void {
  db.exec(`
    CREATE TABLE kv (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `);
}
