// Applying committed entries: once each, in order, in one transaction with the applied index.
import { describe, expect, it } from 'vitest';
import { KeyValueStateMachine, SqliteStorage, type StateMachine } from '../../../electron/peer/storage';
import { InvalidArgumentError, type Entry } from '../../../electron/raft';
import { addVoter, conf, normal, openKeyValue, put, remove, useTempDir } from './helpers';

const dir = useTempDir();
const kv = new KeyValueStateMachine();

function committed(storage: SqliteStorage, entries: Entry[]): void {
  storage.persist({ entries, hardState: { term: 1, vote: null, commit: entries[entries.length - 1]!.index } });
}

describe('applyCommitted', () => {
  it('applies commands and reports each result', () => {
    const storage = openKeyValue(dir.path('class.db'));
    const badJson = { index: 6, term: 1, type: 'normal' as const, data: new TextEncoder().encode('{oops') };
    const entries = [addVoter(1, 1, 'a'), normal(2, 1, 0), put(3, 1, 'x', '1'), put(4, 1, 'y', '2'), remove(5, 1, 'x'), badJson];
    committed(storage, entries);
    const results = storage.applyCommitted(entries, conf(['a']));
    expect(results).toEqual([
      { index: 1, result: { status: 'none' } },
      { index: 2, result: { status: 'none' } },
      { index: 3, result: { status: 'applied', command: { op: 'put', key: 'x', value: '1' } } },
      { index: 4, result: { status: 'applied', command: { op: 'put', key: 'y', value: '2' } } },
      { index: 5, result: { status: 'applied', command: { op: 'delete', key: 'x' } } },
      { index: 6, result: { status: 'rejected', reason: 'not a JSON command' } },
    ]);
    expect(kv.get(storage.database, 'x')).toBeUndefined();
    expect(kv.get(storage.database, 'y')).toBe('2');
    expect(storage.appliedIndex()).toBe(6);
  });

  it('skips what is already applied, also after a restart', () => {
    const path = dir.path('class.db');
    let storage = openKeyValue(path);
    const entries = [put(1, 1, 'n', '1'), put(2, 1, 'n', '2'), put(3, 1, 'n', '3')];
    committed(storage, entries);
    expect(storage.applyCommitted(entries.slice(0, 2), conf(['a']))).toHaveLength(2);
    storage.close();
    storage = openKeyValue(path);
    expect(storage.appliedIndex()).toBe(2);
    // A restarted node hands out entries from its durable applied index, but the loop may replay more.
    expect(storage.applyCommitted(entries, conf(['a'])).map((applied) => applied.index)).toEqual([3]);
    expect(storage.applyCommitted(entries, conf(['a']))).toEqual([]);
    expect(kv.get(storage.database, 'n')).toBe('3');
  });

  it('records the configuration as of the applied index', () => {
    const path = dir.path('class.db');
    const storage = openKeyValue(path);
    committed(storage, [addVoter(1, 1, 'a'), addVoter(2, 1, 'b')]);
    storage.applyCommitted(storage.entries(1, 3), conf(['a', 'b']));
    storage.close();
    expect(openKeyValue(path).appliedConfState()).toEqual(conf(['a', 'b']));
  });

  it('applies nothing of a batch when the state machine fails part way', () => {
    let applyCount = 0;
    const failing: StateMachine<unknown> = {
      name: kv.name,
      migrations: kv.migrations,
      tables: kv.tables,
      apply(db, entry) {
        if (++applyCount === 3) throw new Error('state machine bug');
        return kv.apply(db, entry);
      },
    };
    const storage = SqliteStorage.open(dir.path('class.db'), failing);
    try {
      const entries = [put(1, 1, 'a', '1'), put(2, 1, 'b', '2'), put(3, 1, 'c', '3')];
      committed(storage, entries);
      const digest = storage.digest();
      expect(() => storage.applyCommitted(entries, conf(['a']))).toThrow('state machine bug');
      expect(storage.appliedIndex()).toBe(0);
      expect(storage.digest()).toBe(digest);
      expect(kv.get(storage.database, 'a')).toBeUndefined();
      expect(storage.applyCommitted(entries, conf(['a']))).toHaveLength(3);
    } finally {
      storage.close();
    }
  });

  it('refuses gaps and entries beyond the durable commit', () => {
    const storage = openKeyValue(dir.path('class.db'));
    storage.persist({ entries: [put(1, 1, 'a', '1'), put(2, 1, 'b', '2'), put(3, 1, 'c', '3')], hardState: { term: 1, vote: null, commit: 2 } });
    expect(() => storage.applyCommitted([put(2, 1, 'b', '2')], conf(['a']))).toThrow(InvalidArgumentError);
    expect(() => storage.applyCommitted(storage.entries(1, 4), conf(['a']))).toThrow(/not committed/);
    expect(storage.appliedIndex()).toBe(0);
  });
});
