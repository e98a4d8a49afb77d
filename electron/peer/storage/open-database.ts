// Opening a class file: recognise it, check it, configure it, migrate it. Every refusal happens
// before the first write, so a file that is not ours, damaged or too new is never changed.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openError, StorageOpenError } from './errors';
import { QUORUM_APPLICATION_ID, SQLITE_HEADER } from './file-format';
import { componentVersion, runMigrations, setComponentVersion } from './migrate';
import { raftMigrations } from './migrations';
import type { StateMachine } from './state-machine';

/** Open (creating if missing) the class file at `path` with the Raft schema and `stateMachine`'s tables current. */
export function openClassDatabase(path: string, stateMachine: StateMachine<unknown>): Database.Database {
  checkHeader(path);
  let db: Database.Database;
  try {
    // No busy wait: the only other holder of the lock is another running copy of Quorum.
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw classifyFailure(path, error) ?? openError('UNREADABLE', path, messageOf(error), error);
  }
  try {
    // Exclusive locking before the first read: a second process (two Quorums on one class file
    // would be two Raft nodes with one identity) is refused, and WAL then needs no -shm file.
    db.pragma('locking_mode = EXCLUSIVE');
    const version = checkIdentity(db, path);
    checkIntegrity(db, path);
    configure(db, path);
    runMigrations(db, raftMigrations, version, (next) => db.pragma(`user_version = ${next}`));
    migrateStateMachine(db, path, stateMachine);
    // Take the write lock now, so a second copy of Quorum fails here rather than mid-run.
    db.exec('BEGIN IMMEDIATE; COMMIT');
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StorageOpenError) throw error;
    throw classifyFailure(path, error) ?? error;
  }
}

/** Refuse a non-empty file that does not start like an SQLite database, before SQLite touches it. */
function checkHeader(path: string): void {
  if (!existsSync(path)) return;
  let header = Buffer.alloc(0);
  try {
    if (statSync(path).size === 0) return;
    const fd = openSync(path, 'r');
    try {
      header = Buffer.alloc(SQLITE_HEADER.length);
      header = header.subarray(0, readSync(fd, header, 0, header.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw openError('UNREADABLE', path, messageOf(error), error);
  }
  if (!header.equals(SQLITE_HEADER)) throw openError('NOT_DATABASE', path);
}

/** The file's Raft schema version; 0 for a brand-new file. Throws FOREIGN or TOO_NEW. */
function checkIdentity(db: Database.Database, path: string): number {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const objects = db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number;
  // A file we created but never committed a migration to is still empty: claim it.
  if (applicationId === 0 && version === 0 && objects === 0) return 0;
  if (applicationId !== QUORUM_APPLICATION_ID) throw openError('FOREIGN', path);
  if (version > raftMigrations.length) {
    throw openError('TOO_NEW', path, `storage format ${version}; this version of Quorum knows up to ${raftMigrations.length}`);
  }
  return version;
}

function checkIntegrity(db: Database.Database, path: string): void {
  const problems = db.pragma('quick_check') as Array<{ quick_check: string }>;
  const first = problems[0]?.quick_check;
  if (first !== 'ok') throw openError('CORRUPT', path, `SQLite reports: ${first ?? 'no answer to quick_check'}`);
}

function configure(db: Database.Database, path: string): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw openError('UNREADABLE', path, `cannot switch to write-ahead logging (mode is ${String(mode)})`);
  // FULL: a commit is on disk when it returns, so an applied write survives a power cut too.
  db.pragma('synchronous = FULL');
  // After a big transaction (a snapshot) the -wal file would otherwise stay at its peak size.
  db.pragma(`journal_size_limit = ${32 * 1024 * 1024}`);
  db.pragma('foreign_keys = ON');
}

function migrateStateMachine(db: Database.Database, path: string, stateMachine: StateMachine<unknown>): void {
  const version = componentVersion(db, stateMachine.name);
  if (version > stateMachine.migrations.length) {
    throw openError(
      'TOO_NEW',
      path,
      `${stateMachine.name} tables at version ${version}; this version of Quorum knows up to ${stateMachine.migrations.length}`,
    );
  }
  runMigrations(db, stateMachine.migrations, version, (next) => setComponentVersion(db, stateMachine.name, next));
  for (const table of stateMachine.tables) {
    const found = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(table);
    // A programming error, not a property of the file: the state machine names a table it never creates.
    if (found !== 1) throw new Error(`state machine ${stateMachine.name} lists table ${table}, which its migrations do not create`);
  }
}

/** Map SQLite's failures while opening to the codes the UI understands; null for anything else. */
function classifyFailure(path: string, error: unknown): StorageOpenError | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return null;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return openError('CORRUPT', path, messageOf(error), error);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return openError('LOCKED', path, undefined, error);
  const systemCodes = ['SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_AUTH'];
  if (systemCodes.some((prefix) => code.startsWith(prefix))) return openError('UNREADABLE', path, messageOf(error), error);
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
