import { describe, expect, it } from 'vitest';
import { CompactedError } from './errors';
import { RaftLog } from './log';
import { MemoryStorage } from './storage';
import type { Entry } from './types';

const entry = (index: number, term: number, bytes = 0): Entry => ({ index, term, type: 'normal', data: new Uint8Array(bytes) });
const terms = (log: RaftLog, lo: number, hi: number) => log.slice(lo, hi).map((e) => e.term);

function logWithTerms(...entryTerms: number[]): RaftLog {
  const storage = new MemoryStorage();
  storage.append(entryTerms.map((term, i) => entry(i + 1, term)));
  return new RaftLog(storage);
}

describe('the raft log', () => {
  it('appends over an uncommitted conflicting suffix', () => {
    const log = logWithTerms(1, 1, 2, 2);
    expect(log.maybeAppend(2, 1, 0, [entry(3, 3), entry(4, 3), entry(5, 3)])).toBe(5);
    expect(terms(log, 1, 6)).toEqual([1, 1, 3, 3, 3]);
  });

  it('refuses entries that do not follow a matching entry', () => {
    const log = logWithTerms(1, 1, 2);
    expect(log.maybeAppend(3, 3, 0, [entry(4, 3)])).toBeUndefined();
    expect(log.maybeAppend(5, 2, 0, [entry(6, 3)])).toBeUndefined();
  });

  it('ignores a message that would overwrite a committed entry', () => {
    const log = logWithTerms(1, 1, 2);
    log.commitTo(3);
    expect(log.maybeAppend(1, 1, 3, [entry(2, 5)])).toBeNull();
    expect(terms(log, 1, 4)).toEqual([1, 1, 2]);
  });

  it('finds the last entry of a term at most the leader’s, skipping whole terms', () => {
    const log = logWithTerms(1, 1, 2, 2, 2, 4, 4);
    expect(log.findConflictByTerm(7, 3)).toEqual({ index: 5, term: 2 });
    expect(log.findConflictByTerm(7, 1)).toEqual({ index: 2, term: 1 });
    expect(log.findConflictByTerm(7, 4)).toEqual({ index: 7, term: 4 });
  });

  it('commits only an entry of the current term (Figure 8)', () => {
    const log = logWithTerms(1, 2, 3);
    expect(log.maybeCommit(2, 3)).toBe(false);
    expect(log.committed).toBe(0);
    expect(log.maybeCommit(3, 3)).toBe(true);
    expect(log.committed).toBe(3);
  });

  it('limits a slice by bytes but always returns one entry', () => {
    const storage = new MemoryStorage();
    storage.append([entry(1, 1, 100), entry(2, 1, 100), entry(3, 1, 100)]);
    const log = new RaftLog(storage);
    log.append([entry(4, 1, 100)]);
    expect(log.slice(1, 5, 10)).toHaveLength(1);
    expect(log.slice(1, 5, 260)).toHaveLength(2);
    expect(log.slice(3, 5, 1000)).toHaveLength(2);
  });

  it('reports compaction below the snapshot', () => {
    const storage = new MemoryStorage();
    storage.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
    storage.createSnapshot(2, { voters: ['a'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, new Uint8Array());
    const log = new RaftLog(storage);
    expect(log.term(2)).toBe(1);
    expect(() => log.term(1)).toThrow(CompactedError);
    expect(() => log.slice(1, 3)).toThrow(CompactedError);
    expect(log.firstIndex()).toBe(3);
  });

  it('forgets unstable entries once persisted, unless they were replaced meanwhile', () => {
    const log = logWithTerms(1);
    log.append([entry(2, 1), entry(3, 1)]);
    log.append([entry(3, 2)]);
    log.unstable.stableTo(3, 1); // stale: index 3 now has term 2
    expect(log.unstableEntries()).toHaveLength(2);
    log.unstable.stableTo(3, 2);
    expect(log.unstableEntries()).toHaveLength(0);
  });
});
