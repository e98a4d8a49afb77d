// Snapshots: an image of the state tables taken at the applied index, installed elsewhere to
// give the same digest; compaction by size; and images that cannot be installed refused.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { InvalidSnapshotError, KeyValueStateMachine, NeedsNewerQuorumError, SqliteStorage, type StateMachine } from '../../../electron/peer/storage';
import { InvalidArgumentError, SnapshotOutOfDateError, type Snapshot } from '../../../electron/raft';
import { addVoter, conf, openKeyValue, put, remove, useTempDir } from './helpers';

const dir = useTempDir();
const kv = new KeyValueStateMachine();

/** A replica that bootstrapped, then committed and applied `count` puts (entries 2..count+1). */
function replicaWithWrites(name: string, count: number): SqliteStorage {
  const storage = openKeyValue(dir.path(name));
  storage.bootstrap(['a']);
  const writes = Array.from({ length: count }, (_, i) => put(i + 2, 1, `key-${i % 50}`, `value-${i}`));
  storage.persist({ entries: writes, hardState: { term: 1, vote: 'a', commit: count + 1 } });
  storage.applyCommitted(storage.entries(1, count + 2), conf(['a']));
  return storage;
}

/** Persist a received snapshot as the Ready loop would: with the hard state committing it. */
function install(storage: SqliteStorage, snapshot: Snapshot): void {
  storage.persist({ entries: [], snapshot, hardState: { term: snapshot.meta.term, vote: null, commit: snapshot.meta.index } });
}

/** Rewrite a valid image with `change` applied to it, as a misbehaving or different peer might send. */
function alteredImage(image: Uint8Array, change: (db: Database.Database) => void): Uint8Array {
  const db = new Database(Buffer.from(image));
  change(db);
  const bytes = db.serialize();
  db.close();
  return new Uint8Array(bytes);
}

describe('createSnapshot', () => {
  it('copies the state at the applied index and compacts the log through it', () => {
    const storage = replicaWithWrites('a.db', 120);
    storage.persist({ entries: [put(122, 2, 'later', 'x')] });
    const snapshot = storage.createSnapshot();
    expect(snapshot.meta).toEqual({ index: 121, term: 1, confState: conf(['a']) });
    expect(storage.firstIndex()).toBe(122);
    expect(storage.lastIndex()).toBe(122);
    expect(storage.term(121)).toBe(1);
    expect(storage.snapshot()).toBe(snapshot);
  });

  it('is refused anywhere but the applied index, and twice at the same index', () => {
    const storage = replicaWithWrites('a.db', 10);
    expect(() => storage.createSnapshot(5)).toThrow(InvalidArgumentError);
    storage.createSnapshot(11);
    expect(() => storage.createSnapshot(11)).toThrow(SnapshotOutOfDateError);
  });
});

describe('installing a snapshot', () => {
  it('gives another replica the same state and digest, and it survives a reopen', () => {
    const leader = replicaWithWrites('leader.db', 200);
    const snapshot = leader.createSnapshot();
    const follower = openKeyValue(dir.path('follower.db'));
    follower.persist({ entries: [addVoter(1, 1, 'a'), put(2, 1, 'stale', 'gone')], hardState: { term: 1, vote: null, commit: 1 } });
    follower.applyCommitted(follower.entries(1, 2), conf(['a']));
    install(follower, snapshot);
    expect(follower.appliedIndex()).toBe(201);
    expect(follower.firstIndex()).toBe(202);
    expect(follower.initialState().confState).toEqual(conf(['a']));
    expect(follower.digest()).toBe(leader.digest());
    expect(kv.get(follower.database, 'key-7')).toBe('value-157');

    // Both go on from the snapshot and stay equal.
    const more = [put(202, 2, 'key-7', 'changed'), remove(203, 2, 'key-8')];
    for (const replica of [leader, follower]) {
      replica.persist({ entries: more, hardState: { term: 2, vote: null, commit: 203 } });
      replica.applyCommitted(more, conf(['a']));
    }
    expect(follower.digest()).toBe(leader.digest());
    const digest = follower.digest();
    follower.close();
    expect(openKeyValue(dir.path('follower.db')).digest()).toBe(digest);
  });

  it('refuses a snapshot older than what the replica holds or applied', () => {
    const leader = replicaWithWrites('leader.db', 10);
    const old = leader.createSnapshot();
    const follower = replicaWithWrites('follower.db', 12);
    expect(() => install(follower, old)).toThrow(SnapshotOutOfDateError);
  });

  const refusals: Array<{ name: string; data: (image: Uint8Array) => Uint8Array; reason: RegExp }> = [
    { name: 'bytes that are not a database', data: () => new TextEncoder().encode('not a database, just text'.repeat(40)), reason: /not a database image/ },
    { name: 'no bytes at all', data: () => new Uint8Array(), reason: /not a database image/ },
    {
      name: 'a damaged image',
      data: (image) => {
        const damaged = new Uint8Array(image);
        damaged.fill(0x5a, 4096 + 8, 4096 * 3);
        return damaged;
      },
      reason: /damaged|not a readable/,
    },
    { name: 'an image without the kv table', data: (image) => alteredImage(image, (db) => db.exec('DROP TABLE kv')), reason: /lacks the table kv/ },
    {
      name: 'an image whose kv table has other columns',
      data: (image) => alteredImage(image, (db) => db.exec('ALTER TABLE kv ADD COLUMN extra TEXT')),
      reason: /columns \(key, value, extra\)/,
    },
    {
      name: 'an image that says its tables are at no version',
      data: (image) => alteredImage(image, (db) => db.exec('UPDATE quorum_snapshot SET schema_version = 0')),
      reason: /at version 0/,
    },
    {
      name: 'an image of another state machine',
      data: (image) => alteredImage(image, (db) => db.exec("UPDATE quorum_snapshot SET component = 'classroom'")),
      reason: /does not hold key-value state/,
    },
    {
      name: 'an image made by another program',
      data: (image) => alteredImage(image, (db) => db.pragma('application_id = 7')),
      reason: /not made by Quorum/,
    },
  ];

  it.each(refusals)('refuses $name and changes nothing', ({ data, reason }) => {
    const leader = replicaWithWrites('leader.db', 300);
    const good = leader.createSnapshot();
    const follower = replicaWithWrites('follower.db', 5);
    const observe = () => ({ digest: follower.digest(), initial: follower.initialState(), last: follower.lastIndex(), snapshot: follower.snapshot() });
    const before = observe();
    const bad: Snapshot = { meta: good.meta, data: data(good.data) };
    expect(() => install(follower, bad)).toThrow(InvalidSnapshotError);
    expect(() => install(follower, bad)).toThrow(reason);
    expect(observe()).toEqual(before);
  });
});

describe('snapshots between laptops on different versions of Quorum', () => {
  /** The key-value state machine as a later Quorum might have it: one more migration, a new column. */
  const laterKv: StateMachine<ReturnType<KeyValueStateMachine['apply']>> = {
    name: kv.name,
    migrations: [...kv.migrations, (db) => db.exec("ALTER TABLE kv ADD COLUMN note TEXT NOT NULL DEFAULT ''")],
    tables: kv.tables,
    apply: (db, entry) => kv.apply(db, entry),
  };

  it('brings an image from an earlier version up to this laptop’s, as the laptop brought its own file', () => {
    const older = replicaWithWrites('older.db', 200);
    const snapshot = older.createSnapshot();
    older.close();
    const updated = SqliteStorage.open(dir.path('updated.db'), laterKv);
    updated.bootstrap(['a']);
    install(updated, snapshot);
    expect(updated.appliedIndex()).toBe(snapshot.meta.index);
    // The older laptop, updated in its turn, migrates its own file: both copies agree.
    const olderUpdated = SqliteStorage.open(dir.path('older.db'), laterKv);
    expect(updated.digest()).toBe(olderUpdated.digest());
    expect(updated.database.prepare('SELECT count(*) FROM kv WHERE note = ?').pluck().get('')).toBe(50);
    updated.close();
    olderUpdated.close();
  });

  it('refuses an image from a later version as needing a newer Quorum, and changes nothing', () => {
    const later = SqliteStorage.open(dir.path('later.db'), laterKv);
    later.bootstrap(['a']);
    later.persist({ entries: [2, 3, 4, 5].map((index) => put(index, 1, `key-${index}`, 'value')), hardState: { term: 1, vote: 'a', commit: 5 } });
    later.applyCommitted(later.entries(1, 6), conf(['a']));
    const snapshot = later.createSnapshot();
    const older = replicaWithWrites('older.db', 1);
    const before = { digest: older.digest(), initial: older.initialState(), last: older.lastIndex() };
    expect(() => install(older, snapshot)).toThrow(NeedsNewerQuorumError);
    expect(() => install(older, snapshot)).toThrow(/version 2; this Quorum knows versions up to 1/);
    expect({ digest: older.digest(), initial: older.initialState(), last: older.lastIndex() }).toEqual(before);
    later.close();
  });
});

describe('maybeCompact', () => {
  it('snapshots once more applied entries than the limit sit past the last snapshot', () => {
    const storage = replicaWithWrites('a.db', 9);
    expect(storage.maybeCompact({ entries: 10, bytes: 1e9 })).toBeNull();
    storage.persist({ entries: [put(11, 1, 'k', 'v')], hardState: { term: 1, vote: null, commit: 11 } });
    expect(storage.maybeCompact({ entries: 10, bytes: 1e9 })).toBeNull();
    storage.applyCommitted(storage.entries(11, 12), conf(['a']));
    expect(storage.maybeCompact({ entries: 10, bytes: 1e9 })?.meta.index).toBe(11);
    expect(storage.maybeCompact({ entries: 0, bytes: 0 })).toBeNull();
  });

  it('snapshots once the applied entries past the last snapshot exceed the byte limit', () => {
    const storage = replicaWithWrites('a.db', 3);
    const big = put(5, 1, 'big', 'x'.repeat(5000));
    storage.persist({ entries: [big], hardState: { term: 1, vote: null, commit: 5 } });
    expect(storage.maybeCompact({ entries: 1000, bytes: 4096 })).toBeNull();
    storage.applyCommitted([big], conf(['a']));
    expect(storage.maybeCompact({ entries: 1000, bytes: 4096 })?.meta.index).toBe(5);
  });

  it('counts the applied bytes again after a reopen', () => {
    const path = dir.path('a.db');
    const storage = replicaWithWrites('a.db', 3);
    const big = put(5, 1, 'big', 'x'.repeat(5000));
    storage.persist({ entries: [big], hardState: { term: 1, vote: null, commit: 5 } });
    storage.applyCommitted([big], conf(['a']));
    storage.close();
    expect(openKeyValue(path).maybeCompact({ entries: 1000, bytes: 4096 })?.meta.index).toBe(5);
  });
});

describe('digest', () => {
  it('depends on the rows and the applied index, not on the order rows were written in', () => {
    const one = openKeyValue(dir.path('one.db'));
    const two = openKeyValue(dir.path('two.db'));
    const forward = [put(1, 1, 'a', '1'), put(2, 1, 'b', '2'), put(3, 1, 'c', '3')];
    const backward = [put(1, 1, 'c', '3'), put(2, 1, 'b', '2'), put(3, 1, 'a', '1')];
    for (const [storage, entries] of [[one, forward], [two, backward]] as const) {
      storage.persist({ entries: [...entries, put(4, 1, 'd', '4')], hardState: { term: 1, vote: null, commit: 4 } });
      storage.applyCommitted(entries, conf(['a']));
    }
    expect(one.digest()).toMatch(/^[0-9a-f]{64}$/);
    expect(one.digest()).toBe(two.digest());
    const before = one.digest();
    one.applyCommitted([put(4, 1, 'd', '4')], conf(['a']));
    expect(one.digest()).not.toBe(before);
  });

  it('may be one taken a moment ago, saying at which index, when asked for a recent one', () => {
    const storage = openKeyValue(dir.path('recent.db'));
    storage.persist({ entries: [put(1, 1, 'a', '1'), put(2, 1, 'b', '2')], hardState: { term: 1, vote: null, commit: 2 } });
    storage.applyCommitted([put(1, 1, 'a', '1')], conf(['a']));
    const first = storage.recentDigest(0);
    expect(first).toEqual({ index: 1, digest: storage.digest() });
    storage.applyCommitted([put(2, 1, 'b', '2')], conf(['a']));
    // Within the minute: the one taken at index 1, said to be of index 1.
    expect(storage.recentDigest(60_000)).toEqual(first);
    // Exactly: the digest at the applied index, which is then the recent one too.
    const now = storage.recentDigest(0);
    expect(now.index).toBe(2);
    expect(now.digest).not.toBe(first.digest);
    expect(storage.digest()).toBe(now.digest);
    expect(storage.recentDigest(60_000)).toEqual(now);
  });

  it('tells apart values of different SQLite types', () => {
    const typed: StateMachine<null> = {
      name: 'typed',
      migrations: [(db) => db.exec('CREATE TABLE cells (id INTEGER PRIMARY KEY, value)')],
      tables: ['cells'],
      apply: (db, entry) => {
        if (entry.type !== 'normal' || entry.data.length === 0) return null;
        db.prepare("INSERT INTO cells (value) VALUES (json_extract(?, '$'))").run(Buffer.from(entry.data).toString());
        return null;
      },
    };
    const digests = ['1', '1.0', '"1"', 'null'].map((json, i) => {
      const storage = SqliteStorage.open(dir.path(`typed-${i}.db`), typed);
      try {
        const entry = { index: 1, term: 1, type: 'normal' as const, data: new TextEncoder().encode(json) };
        storage.persist({ entries: [entry], hardState: { term: 1, vote: null, commit: 1 } });
        storage.applyCommitted([entry], conf(['a']));
        return storage.digest();
      } finally {
        storage.close();
      }
    });
    expect(new Set(digests).size).toBe(4);
  });
});
