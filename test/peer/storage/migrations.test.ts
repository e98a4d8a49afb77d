// Each migration's own test (STYLE.md practice 8): bring a database to the version before it,
// put data in, run the migration, and check what it made of that data.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { QUORUM_APPLICATION_ID, raftMigrations } from '../../../electron/peer/storage';
import { runMigrations, type Migration } from '../../../electron/peer/storage/migrate';
import { migrate001RaftLog } from '../../../electron/peer/storage/migrations/001-raft-log';
import { migrate002Snapshot } from '../../../electron/peer/storage/migrations/002-snapshot';
import { migrate003AppliedIndex } from '../../../electron/peer/storage/migrations/003-applied-index';
import { migrate001KeyValue } from '../../../electron/peer/storage/key-value/migrations/001-key-value';
import { conf, openKeyValue, useTempDir } from './helpers';

const dir = useTempDir();

/** A raw database at Raft schema `version`, as an older Quorum would have left it. */
function databaseAt(name: string, version: number): Database.Database {
  const db = new Database(dir.path(name));
  runMigrations(db, raftMigrations.slice(0, version), 0, (next) => db.pragma(`user_version = ${next}`));
  return db;
}

const insertEntry = 'INSERT INTO raft_log (idx, term, type, data, size) VALUES (?, ?, 0, ?, ?)';

describe('the Raft migrations', () => {
  it('are listed in file order', () => {
    expect(raftMigrations).toEqual([migrate001RaftLog, migrate002Snapshot, migrate003AppliedIndex]);
  });

  it('001 creates the log and a zero hard state, and marks the file as Quorum’s', () => {
    const db = databaseAt('v0.db', 0);
    migrate001RaftLog(db);
    expect(db.pragma('application_id', { simple: true })).toBe(QUORUM_APPLICATION_ID);
    expect(db.prepare('SELECT term, vote, commit_index FROM raft_hard_state').all()).toEqual([{ term: 0, vote: null, commit_index: 0 }]);
    db.prepare(insertEntry).run(1, 1, Buffer.from('x'), 25);
    expect(() => db.prepare(insertEntry).run(1, 1, Buffer.from('y'), 25)).toThrow(/UNIQUE/);
    expect(() => db.prepare('INSERT INTO raft_hard_state (id, term, commit_index) VALUES (2, 0, 0)').run()).toThrow(/CHECK/);
    db.close();
  });

  it('002 adds an empty snapshot at index 0 and keeps the log', () => {
    const db = databaseAt('v1.db', 1);
    for (let index = 1; index <= 3; index++) db.prepare(insertEntry).run(index, 2, Buffer.from([index]), 25);
    db.prepare("UPDATE raft_hard_state SET term = 2, vote = 'a', commit_index = 2").run();
    migrate002Snapshot(db);
    const snapshot = db.prepare('SELECT idx, term, conf_state FROM raft_snapshot').get() as { idx: number; term: number; conf_state: string };
    expect({ ...snapshot, conf_state: JSON.parse(snapshot.conf_state) }).toEqual({ idx: 0, term: 0, conf_state: conf([]) });
    expect(db.prepare('SELECT length(data) FROM raft_snapshot_data').pluck().get()).toBe(0);
    expect(db.prepare('SELECT idx FROM raft_log ORDER BY idx').pluck().all()).toEqual([1, 2, 3]);
    expect(db.prepare('SELECT term, vote, commit_index FROM raft_hard_state').get()).toEqual({ term: 2, vote: 'a', commit_index: 2 });
    db.close();
  });

  it('003 starts the applied index at the snapshot, with its configuration, and adds schema_versions', () => {
    const db = databaseAt('v2.db', 2);
    const snapshotConf = JSON.stringify(conf(['a', 'b']));
    db.prepare('UPDATE raft_snapshot SET idx = 5, term = 2, conf_state = ?').run(snapshotConf);
    for (let index = 6; index <= 8; index++) db.prepare(insertEntry).run(index, 2, Buffer.from([index]), 25);
    migrate003AppliedIndex(db);
    expect(db.prepare('SELECT idx, conf_state FROM raft_applied').get()).toEqual({ idx: 5, conf_state: snapshotConf });
    expect(db.prepare('SELECT count(*) FROM schema_versions').pluck().get()).toBe(0);
    expect(db.prepare('SELECT idx FROM raft_log ORDER BY idx').pluck().all()).toEqual([6, 7, 8]);
    db.close();
  });

  it('bring a version 1 file with data up to date when it is opened', () => {
    const db = databaseAt('old.db', 1);
    const bootstrap = Buffer.from(JSON.stringify({ changes: [{ type: 'addVoter', nodeId: 'a' }] }));
    db.prepare('INSERT INTO raft_log (idx, term, type, data, size) VALUES (1, 1, 1, ?, 33)').run(bootstrap);
    db.prepare(insertEntry).run(2, 2, Buffer.from('hello'), 29);
    db.prepare("UPDATE raft_hard_state SET term = 2, vote = 'a', commit_index = 2").run();
    db.close();

    const storage = openKeyValue(dir.path('old.db'));
    expect(storage.database.pragma('user_version', { simple: true })).toBe(raftMigrations.length);
    expect(storage.initialState()).toEqual({ hardState: { term: 2, vote: 'a', commit: 2 }, confState: conf([]) });
    expect(storage.entries(1, 3)).toEqual([
      { index: 1, term: 1, type: 'confChange', change: { changes: [{ type: 'addVoter', nodeId: 'a' }] } },
      { index: 2, term: 2, type: 'normal', data: new Uint8Array(Buffer.from('hello')) },
    ]);
    expect(storage.appliedIndex()).toBe(0);
  });

  it('leave the file at its old version when one of them fails', () => {
    const db = databaseAt('failing.db', 1);
    db.prepare(insertEntry).run(1, 1, Buffer.from('x'), 25);
    const failing: Migration = () => {
      throw new Error('disk full, say');
    };
    const migrations = [...raftMigrations.slice(0, 2), failing];
    expect(() => runMigrations(db, migrations, 1, (next) => db.pragma(`user_version = ${next}`))).toThrow('disk full, say');
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'raft_snapshot'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM raft_log').pluck().get()).toBe(1);
    db.close();
  });
});

describe('the key-value migrations', () => {
  it('001 creates the kv table keyed by key', () => {
    const db = databaseAt('kv.db', raftMigrations.length);
    migrate001KeyValue(db);
    db.prepare("INSERT INTO kv VALUES ('a', '1')").run();
    expect(() => db.prepare("INSERT INTO kv VALUES ('a', '2')").run()).toThrow(/UNIQUE/);
    db.close();
  });

  it('are recorded in schema_versions, apart from the Raft version', () => {
    const storage = openKeyValue(dir.path('versions.db'));
    expect(storage.database.prepare('SELECT component, version FROM schema_versions').all()).toEqual([{ component: 'key-value', version: 1 }]);
  });
});
