// Statements prepared once per class file instead of on every command: every replica applies
// every command, and preparing its handful of statements again each time was a fifth of the work.
import type Database from 'better-sqlite3';

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * `sql` prepared on `db`, once. Handed out in the default mode (a caller that wants single values
 * calls `.pluck()` itself), so a shared statement never carries one caller's mode to another.
 */
export function statement(db: Database.Database, sql: string): Database.Statement {
  let forDb = cache.get(db);
  if (!forDb) cache.set(db, (forDb = new Map()));
  let prepared = forDb.get(sql);
  if (!prepared) forDb.set(sql, (prepared = db.prepare(sql)));
  else if (prepared.reader) prepared.pluck(false);
  return prepared;
}
