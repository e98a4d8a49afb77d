// Opening a class file: a new file is created and claimed; anything that is not a healthy Quorum
// file this version understands is refused with a named error, and left byte for byte as it was.
import { copyFileSync, existsSync, openSync, closeSync, writeFileSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { QUORUM_APPLICATION_ID, StorageOpenError, type StorageOpenErrorCode } from '../../../electron/peer/storage';
import { conf, fileHash, openKeyValue, put, useTempDir } from './helpers';

const dir = useTempDir();

/** A closed class file holding enough log and state to span many pages. */
function makeClassFile(name: string): string {
  const path = dir.path(name);
  const storage = openKeyValue(path);
  storage.bootstrap(['a']);
  const entries = Array.from({ length: 300 }, (_, i) => put(i + 2, 1, `key-${i}`, 'v'.repeat(200)));
  storage.persist({ entries, hardState: { term: 1, vote: 'a', commit: 301 } });
  storage.applyCommitted(storage.entries(1, 302), conf(['a']));
  storage.close();
  return path;
}

/** Opening must fail with `code`, name the file, and leave it untouched. */
function expectRefusal(path: string, code: StorageOpenErrorCode): StorageOpenError {
  const before = existsSync(path) ? fileHash(path) : null;
  let caught: unknown;
  try {
    openKeyValue(path);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StorageOpenError);
  const error = caught as StorageOpenError;
  expect(error.code).toBe(code);
  expect(error.path).toBe(path);
  expect(error.message).toContain(`"${path}"`);
  if (before !== null) expect(fileHash(path)).toBe(before);
  return error;
}

function overwrite(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

describe('opening a class file', () => {
  it('creates a new file, marked as Quorum’s, in WAL mode with full sync and foreign keys', () => {
    const storage = openKeyValue(dir.path('new.db'));
    const db = storage.database;
    expect(db.pragma('application_id', { simple: true })).toBe(QUORUM_APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.prepare("SELECT version FROM schema_versions WHERE component = 'key-value'").pluck().get()).toBe(1);
  });

  it('claims an empty file (as left by a crash before the first commit)', () => {
    writeFileSync(dir.path('empty.db'), '');
    expect(openKeyValue(dir.path('empty.db')).lastIndex()).toBe(0);
  });

  it('refuses a file that is not a database at all', () => {
    const path = dir.path('notes.db');
    writeFileSync(path, 'Dear class, remember the field trip on Friday.\n'.repeat(50));
    const error = expectRefusal(path, 'NOT_DATABASE');
    expect(error.message).toMatch(/not a Quorum class file/);
  });

  it('refuses a copy whose pages were overwritten with garbage', () => {
    const path = dir.path('garbled.db');
    copyFileSync(makeClassFile('class.db'), path);
    const garbage = new Uint8Array(4096 * 3).map((_, i) => (i * 131 + 7) % 256);
    overwrite(path, 4096 * 2, garbage);
    const error = expectRefusal(path, 'CORRUPT');
    expect(error.message).toMatch(/is damaged/);
  });

  it('refuses a copy whose schema page was overwritten with garbage', () => {
    const path = dir.path('garbled-schema.db');
    copyFileSync(makeClassFile('class.db'), path);
    overwrite(path, 100, new Uint8Array(2000).fill(0xa5));
    expectRefusal(path, 'CORRUPT');
  });

  it('refuses a database made by another program', () => {
    const path = dir.path('photos.db');
    const other = new Database(path);
    other.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('trip.jpg');");
    other.close();
    const error = expectRefusal(path, 'FOREIGN');
    expect(error.message).toMatch(/another program/);
  });

  it('refuses a database carrying another application id, even when empty', () => {
    const path = dir.path('other-app.db');
    const other = new Database(path);
    other.pragma('application_id = 1234');
    other.close();
    expectRefusal(path, 'FOREIGN');
  });

  it('refuses a file written by a newer Quorum (Raft schema)', () => {
    const path = makeClassFile('newer.db');
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    const error = expectRefusal(path, 'TOO_NEW');
    expect(error.message).toMatch(/newer version of Quorum/);
  });

  it('refuses a file whose state machine tables are newer than this code', () => {
    const path = makeClassFile('newer-state.db');
    const raw = new Database(path);
    raw.prepare("UPDATE schema_versions SET version = 7 WHERE component = 'key-value'").run();
    raw.close();
    expect(expectRefusal(path, 'TOO_NEW').message).toMatch(/key-value tables at version 7/);
  });

  it('refuses a file another copy of Quorum has open, even one that only read it', () => {
    const path = makeClassFile('busy.db');
    openKeyValue(path);
    expect(expectRefusal(path, 'LOCKED').message).toMatch(/already open in another copy/);
  });

  it('refuses a file in a folder that does not exist', () => {
    expectRefusal(dir.path('missing-folder/class.db'), 'UNREADABLE');
  });

  it('refuses a file whose log does not start right after its snapshot', () => {
    const path = makeClassFile('holed.db');
    const raw = new Database(path);
    raw.prepare('DELETE FROM raft_log WHERE idx <= 5').run();
    raw.close();
    expect(expectRefusal(path, 'CORRUPT').message).toMatch(/the log starts at 6, after a snapshot at 0/);
  });

  it('opens a healthy file again and again without changing it', () => {
    const path = makeClassFile('healthy.db');
    const before = fileHash(path);
    openKeyValue(path).close();
    openKeyValue(path).close();
    expect(fileHash(path)).toBe(before);
  });
});
