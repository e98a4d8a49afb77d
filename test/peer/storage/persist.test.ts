// Group commit: whatever one Ready asks to persist is written in one transaction, so a failure
// (or a crash) leaves all of it or none of it; and a closed file reopens to exactly the same state.
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../electron/raft';
import { addVoter, conf, normal, openKeyValue, put, run, useTempDir } from './helpers';
import type { SqliteStorage } from '../../../electron/peer/storage';

const dir = useTempDir();

/** Make every later write of the hard state fail, as a full disk would, mid-transaction. */
function breakHardStateWrites(path: string): void {
  const raw = new Database(path);
  raw.exec("CREATE TRIGGER fail_hard_state BEFORE UPDATE ON raft_hard_state BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
  raw.close();
}

function repairHardStateWrites(path: string): void {
  const raw = new Database(path);
  raw.exec('DROP TRIGGER fail_hard_state');
  raw.close();
}

/** Everything a restarted node (and its peer) would read back. */
function everything(storage: SqliteStorage) {
  return {
    initial: storage.initialState(),
    first: storage.firstIndex(),
    last: storage.lastIndex(),
    entries: storage.entries(storage.firstIndex(), storage.lastIndex() + 1),
    lastTerm: storage.term(storage.lastIndex()),
    snapshot: storage.snapshot(),
    applied: storage.appliedIndex(),
    appliedConf: storage.appliedConfState(),
    digest: storage.digest(),
  };
}

describe('persist', () => {
  it('writes hard state and entries in one transaction', () => {
    const storage = openKeyValue(dir.path('class.db'));
    const transaction = vi.spyOn(storage.database, 'transaction');
    storage.persist({ entries: run(1, 50, 1), hardState: { term: 1, vote: 'a', commit: 10 } });
    expect(transaction).toHaveBeenCalledTimes(1);
  });

  it('writes nothing at all when part of the write fails', () => {
    const path = dir.path('class.db');
    let storage = openKeyValue(path);
    storage.persist({ entries: run(1, 5, 1), hardState: { term: 1, vote: 'a', commit: 2 } });
    const before = everything(storage);
    storage.close();

    breakHardStateWrites(path);
    storage = openKeyValue(path);
    expect(() => storage.persist({ entries: run(4, 9, 2), hardState: { term: 2, vote: 'b', commit: 3 } })).toThrow('injected failure');
    // Neither the cached view nor the file took any of it.
    expect(everything(storage)).toEqual(before);
    storage.close();
    repairHardStateWrites(path);
    expect(everything(openKeyValue(path))).toEqual(before);
  });

  it('leaves the state tables alone when installing a snapshot fails half way', () => {
    const donor = openKeyValue(dir.path('donor.db'));
    donor.bootstrap(['a']);
    donor.persist({ entries: [put(2, 1, 'k', 'from snapshot')], hardState: { term: 1, vote: null, commit: 2 } });
    donor.applyCommitted(donor.entries(1, 3), conf(['a']));
    const snapshot = donor.createSnapshot();

    const path = dir.path('class.db');
    let storage = openKeyValue(path);
    storage.persist({ entries: [addVoter(1, 1, 'a')], hardState: { term: 1, vote: null, commit: 1 } });
    storage.applyCommitted(storage.entries(1, 2), conf(['a']));
    const before = everything(storage);
    storage.close();

    breakHardStateWrites(path);
    storage = openKeyValue(path);
    expect(() => storage.persist({ entries: [], snapshot, hardState: { term: 1, vote: null, commit: 2 } })).toThrow('injected failure');
    expect(everything(storage)).toEqual(before);
    storage.close();
    repairHardStateWrites(path);
    expect(everything(openKeyValue(path))).toEqual(before);
  });

  it('refuses entries that would leave a gap, or that are not consecutive', () => {
    const storage = openKeyValue(dir.path('class.db'));
    storage.persist({ entries: run(1, 3, 1) });
    expect(() => storage.persist({ entries: run(6, 7, 1) })).toThrow(InvalidArgumentError);
    expect(() => storage.persist({ entries: [normal(4, 1), normal(6, 1)] })).toThrow(InvalidArgumentError);
    expect(storage.lastIndex()).toBe(3);
  });

  it('refuses to overwrite entries that are already applied', () => {
    const storage = openKeyValue(dir.path('class.db'));
    storage.persist({ entries: run(1, 5, 1), hardState: { term: 1, vote: null, commit: 3 } });
    storage.applyCommitted(storage.entries(1, 4), conf(['a']));
    expect(() => storage.persist({ entries: run(3, 4, 2) })).toThrow(/already applied/);
    storage.persist({ entries: run(4, 6, 2) });
    expect(storage.term(4)).toBe(2);
  });

  it('stores votes, empty entries and binary data as they were', () => {
    const path = dir.path('class.db');
    const storage = openKeyValue(path);
    const binary = { index: 2, term: 1, type: 'normal' as const, data: new Uint8Array([0, 255, 0, 10, 13]) };
    storage.persist({ entries: [addVoter(1, 1, 'laptop-é'), binary, normal(3, 1, 0)], hardState: { term: 4, vote: 'laptop-é', commit: 1 } });
    storage.close();
    const reopened = openKeyValue(path);
    expect(reopened.entries(1, 4)).toEqual([addVoter(1, 1, 'laptop-é'), binary, normal(3, 1, 0)]);
    expect(reopened.initialState().hardState).toEqual({ term: 4, vote: 'laptop-é', commit: 1 });
  });
});

describe('reopening', () => {
  it('restores log, hard state, snapshot, applied index and state', () => {
    const path = dir.path('class.db');
    const storage = openKeyValue(path);
    storage.bootstrap(['a', 'b', 'c']);
    const writes = Array.from({ length: 20 }, (_, i) => put(i + 4, 2, `key-${i % 7}`, `value-${i}`));
    storage.persist({ entries: writes, hardState: { term: 2, vote: 'b', commit: 18 } });
    storage.applyCommitted(storage.entries(1, 13), conf(['a', 'b', 'c']));
    storage.createSnapshot();
    storage.applyCommitted(storage.entries(13, 19), conf(['a', 'b', 'c']));
    storage.persist({ entries: [normal(24, 3, 0)], hardState: { term: 3, vote: null, commit: 18 } });
    const before = everything(storage);
    expect(before.first).toBe(13);
    storage.close();
    expect(everything(openKeyValue(path))).toEqual(before);
  });

  it('makes close idempotent and reads after it fail', () => {
    const storage = openKeyValue(dir.path('class.db'));
    storage.bootstrap(['a']);
    storage.close();
    storage.close();
    expect(() => storage.entries(1, 2)).toThrow(/not open/);
  });
});
