// Schema migrations as numbered functions (STYLE.md practice 8). The Raft tables are versioned by
// `PRAGMA user_version`; each state machine by its row in `schema_versions`, so the classroom
// state machine can evolve without touching the Raft schema and vice versa.
import type Database from 'better-sqlite3';

/** One schema change. Its version is its position in its list plus one; it never changes once shipped. */
export type Migration = (db: Database.Database) => void;

/**
 * Run `migrations[from..]` and record the new version, all in one transaction: a crash or a
 * failing migration leaves the file exactly at version `from`.
 */
export function runMigrations(
  db: Database.Database,
  migrations: readonly Migration[],
  from: number,
  recordVersion: (version: number) => void,
): void {
  if (from >= migrations.length) return;
  db.transaction(() => {
    for (const migration of migrations.slice(from)) migration(db);
    recordVersion(migrations.length);
  })();
}

/** The version of `component` recorded in `schema_versions`, 0 if it has never been installed. */
export function componentVersion(db: Database.Database, component: string): number {
  const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').pluck().get(component) as number | undefined;
  return row ?? 0;
}

/** Record `component` at `version` (inside the caller's transaction). */
export function setComponentVersion(db: Database.Database, component: string, version: number): void {
  db.prepare(
    'INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version',
  ).run(component, version);
}
