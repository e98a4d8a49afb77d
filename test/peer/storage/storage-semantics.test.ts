// SqliteStorage must answer every Storage read exactly as MemoryStorage does after the same
// writes: the same entries, terms, indexes and byte-limited slices, and the same error classes.
import { describe, expect, it } from 'vitest';
import type { SqliteStorage } from '../../../electron/peer/storage';
import { bootstrapLog, MemoryStorage, seededRandom, type Entry, type HardState, type Snapshot, type Storage } from '../../../electron/raft';
import { conf, openKeyValue, randomSeed, run, useTempDir } from './helpers';

type Step =
  | { append: Entry[] }
  | { hardState: HardState }
  /** Apply through `index` and snapshot there (compacting the log). */
  | { compact: number }
  /** Install a snapshot received from a leader. */
  | { install: { index: number; term: number } };

type Outcome = { value: unknown } | { error: string };

function attempt(read: () => unknown): Outcome {
  try {
    return { value: read() };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

const BYTE_LIMITS = [0, 40, 100, Number.POSITIVE_INFINITY];

/** Every read the Raft core can make, over a window a little wider than the log. */
function observe(storage: Storage): unknown {
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  const terms: Record<number, Outcome> = {};
  const slices: Record<string, Outcome> = {};
  for (let index = first - 2; index <= last + 2; index++) terms[index] = attempt(() => storage.term(index));
  for (let lo = first - 2; lo <= last + 2; lo++) {
    // hi < lo is never asked (RaftLog.slice returns early), and MemoryStorage answers it oddly.
    for (let hi = lo; hi <= last + 2; hi++) {
      for (const maxBytes of BYTE_LIMITS) slices[`${lo}..${hi}/${maxBytes}`] = attempt(() => storage.entries(lo, hi, maxBytes));
    }
  }
  return { first, last, initial: storage.initialState(), snapshot: storage.snapshot().meta, terms, slices };
}

const CONF = conf(['a', 'b', 'c']);

/** Apply one step to both storages; returns what each did (nothing, or the error class). */
function perform(step: Step, memory: MemoryStorage, sqlite: SqliteStorage, image: Uint8Array): [Outcome, Outcome] {
  if ('append' in step) return [attempt(() => memory.append(step.append)), attempt(() => sqlite.persist({ entries: step.append }))];
  if ('hardState' in step) {
    return [attempt(() => memory.setHardState(step.hardState)), attempt(() => sqlite.persist({ entries: [], hardState: step.hardState }))];
  }
  if ('compact' in step) {
    const index = step.compact;
    const memoryOutcome = attempt(() => void memory.createSnapshot(index, CONF, new Uint8Array()));
    const sqliteOutcome = attempt(() => {
      const applied = sqlite.appliedIndex();
      if (index > applied) sqlite.applyCommitted(sqlite.entries(applied + 1, index + 1), CONF);
      sqlite.createSnapshot(index);
    });
    return [memoryOutcome, sqliteOutcome];
  }
  const snapshot: Snapshot = { meta: { ...step.install, confState: CONF }, data: image };
  return [attempt(() => memory.applySnapshot(snapshot)), attempt(() => sqlite.persist({ entries: [], snapshot }))];
}

/** A valid snapshot image, from another replica, to install. */
function donorImage(path: string): Uint8Array {
  const donor = openKeyValue(path);
  donor.bootstrap(['a']);
  donor.applyCommitted(donor.entries(1, 2), conf(['a']));
  return donor.createSnapshot().data;
}

const cases: Array<{ name: string; steps: Step[] }> = [
  { name: 'a new, empty storage', steps: [] },
  { name: 'a bootstrapped log', steps: [{ append: bootstrapLog(['a', 'b', 'c']).entries }, { hardState: { term: 1, vote: null, commit: 3 } }] },
  { name: 'appended entries', steps: [{ append: run(1, 12, 1) }] },
  { name: 'appending at the end', steps: [{ append: run(1, 5, 1) }, { append: run(6, 9, 2) }] },
  { name: 'a conflicting suffix replaced', steps: [{ append: run(1, 12, 1) }, { append: run(8, 10, 2) }] },
  { name: 'the whole log replaced', steps: [{ append: run(1, 6, 1) }, { append: run(1, 3, 2) }] },
  { name: 'a gap refused', steps: [{ append: run(1, 5, 1) }, { append: run(8, 9, 1) }] },
  { name: 'compacted', steps: [{ append: run(1, 12, 1) }, { hardState: { term: 1, vote: 'a', commit: 7 } }, { compact: 7 }] },
  {
    name: 'compacted, then entries overlapping the snapshot',
    steps: [{ append: run(1, 12, 1) }, { hardState: { term: 1, vote: 'a', commit: 7 } }, { compact: 7 }, { append: run(5, 15, 2) }],
  },
  { name: 'compacted to the last entry', steps: [{ append: run(1, 6, 1) }, { hardState: { term: 1, vote: null, commit: 6 } }, { compact: 6 }] },
  {
    name: 'compacted twice, the second time refused',
    steps: [{ append: run(1, 9, 1) }, { hardState: { term: 1, vote: null, commit: 9 } }, { compact: 5 }, { compact: 9 }, { compact: 9 }],
  },
  { name: 'a received snapshot ahead of the log', steps: [{ append: run(1, 12, 1) }, { install: { index: 20, term: 3 } }] },
  { name: 'a received snapshot inside the log', steps: [{ append: run(1, 12, 1) }, { install: { index: 8, term: 1 } }] },
  {
    name: 'a received snapshot, then entries after it',
    steps: [{ append: run(1, 5, 1) }, { install: { index: 20, term: 3 } }, { append: run(21, 25, 3) }],
  },
  {
    name: 'an older snapshot refused',
    steps: [{ append: run(1, 12, 1) }, { hardState: { term: 1, vote: null, commit: 7 } }, { compact: 7 }, { install: { index: 5, term: 1 } }],
  },
];

describe('SqliteStorage reads like MemoryStorage', () => {
  const dir = useTempDir();

  it.each(cases)('$name', ({ steps }) => {
    const image = donorImage(dir.path('donor.db'));
    const memory = new MemoryStorage();
    const sqlite = openKeyValue(dir.path('class.db'));
    for (const step of steps) {
      const [memoryOutcome, sqliteOutcome] = perform(step, memory, sqlite, image);
      expect(sqliteOutcome, JSON.stringify(step)).toEqual(memoryOutcome);
      expect(observe(sqlite)).toEqual(observe(memory));
    }
    // And the same after a restart: everything read came from the file, not from memory.
    sqlite.close();
    expect(observe(openKeyValue(dir.path('class.db')))).toEqual(observe(memory));
  });

  it('random appends, conflicts, commits, compactions and installs', () => {
    const seed = randomSeed();
    console.log(`storage-semantics seed ${seed} (QUORUM_SEED=${seed} replays it)`);
    const random = seededRandom(seed);
    const below = (n: number) => Math.floor(random() * n);
    const image = donorImage(dir.path('donor.db'));
    const memory = new MemoryStorage();
    const sqlite = openKeyValue(dir.path('class.db'));
    let term = 1;
    for (let i = 0; i < 150; i++) {
      const first = memory.firstIndex();
      const last = memory.lastIndex();
      const commit = memory.hardStateNow().commit;
      const choice = below(10);
      let step: Step;
      if (choice < 5) {
        // Raft only replaces uncommitted entries: start anywhere after the commit index.
        const from = commit + 1 + below(last - commit + 1);
        if (below(3) === 0) term++;
        step = { append: run(from, from + below(6), term) };
      } else if (choice < 7) {
        step = { hardState: { term, vote: below(2) ? 'a' : null, commit: commit + below(last - commit + 1) } };
      } else if (choice < 9) {
        // Snapshots are taken at or above the applied index (SQLite can only snapshot there) and
        // at or below the commit; at the current snapshot both refuse it.
        const lowest = Math.max(sqlite.appliedIndex(), first - 1);
        step = { compact: lowest + below(Math.max(0, commit - lowest) + 1) };
      } else {
        // A leader sends a snapshot only past what the follower has committed.
        term++;
        step = { install: { index: commit + 1 + below(last - commit + 3), term } };
      }
      const [memoryOutcome, sqliteOutcome] = perform(step, memory, sqlite, image);
      expect(sqliteOutcome, `seed ${seed}, step ${i}: ${JSON.stringify(step)}`).toEqual(memoryOutcome);
      // A received snapshot commits everything up to it; keep the commit inside the log as Raft would.
      if ('install' in step && !('error' in memoryOutcome)) {
        const hardState = { ...memory.hardStateNow(), commit: step.install.index };
        memory.setHardState(hardState);
        sqlite.persist({ entries: [], hardState });
      }
      expect(observe(sqlite), `seed ${seed}, step ${i}`).toEqual(observe(memory));
    }
  });
});
