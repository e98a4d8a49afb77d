// Micro-benchmark of the class storage on real files: group-committed persists, applies, reads,
// and a 10 MB snapshot (create, install, digest). Figures only, no assertions.
//   npx tsx bench/storage.ts [--dir <folder on the disk to measure>]
// Prints a table and writes bench/results/storage.json. Every persist and apply is one fsync
// (synchronous=FULL), so the figures depend mostly on the disk under --dir (default: the OS temp folder).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeKeyValueCommand, KeyValueStateMachine, SqliteStorage } from '../electron/peer/storage';
import type { ConfState, Entry } from '../electron/raft';

type Storage = SqliteStorage<unknown>;

const CONF: ConfState = { voters: ['a'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
/** How long each timed loop runs. */
const SECONDS = 1.5;

const dirArgument = process.argv.indexOf('--dir');
const parent = dirArgument > 0 ? process.argv[dirArgument + 1]! : tmpdir();
const workDir = mkdtempSync(join(parent, 'quorum-bench-'));
let files = 0;
const openFresh = (): Storage => SqliteStorage.open(join(workDir, `class-${files++}.db`), new KeyValueStateMachine());

function put(index: number, key: string, value: string): Entry {
  return { index, term: 1, type: 'normal', data: encodeKeyValueCommand({ op: 'put', key, value }) };
}

/** Run `step` until SECONDS have passed; returns steps per second. */
function timed(step: (iteration: number) => void): { perSecond: number; iterations: number } {
  const start = performance.now();
  let iterations = 0;
  while (performance.now() - start < SECONDS * 1000) step(iterations++);
  return { perSecond: iterations / ((performance.now() - start) / 1000), iterations };
}

function benchPersist(batch: number, entryBytes: number) {
  const storage = openFresh();
  const payload = 'x'.repeat(entryBytes);
  let next = 1;
  const { perSecond } = timed(() => {
    const entries = Array.from({ length: batch }, (_, i) => put(next + i, `k${next + i}`, payload));
    next += batch;
    storage.persist({ entries, hardState: { term: 1, vote: 'a', commit: next - 1 } });
  });
  storage.close();
  return { batch, entryBytes, persistsPerSecond: round(perSecond), entriesPerSecond: round(perSecond * batch) };
}

function benchApply(batch: number) {
  const storage = openFresh();
  // Persist far more than can be applied in the time box, untimed, then time the applies alone.
  const total = 400_000;
  const entries = Array.from({ length: total }, (_, i) => put(i + 1, `key-${i % 5000}`, `value-${i}`));
  for (let lo = 0; lo < total; lo += 10_000) storage.persist({ entries: entries.slice(lo, lo + 10_000) });
  storage.persist({ entries: [], hardState: { term: 1, vote: 'a', commit: total } });
  const { perSecond, iterations } = timed((i) => {
    if ((i + 1) * batch > total) throw new Error('benchmark ran out of persisted entries; raise total');
    storage.applyCommitted(entries.slice(i * batch, (i + 1) * batch), CONF);
  });
  storage.close();
  return { batch, appliesPerSecond: round(perSecond), entriesPerSecond: round(perSecond * batch), applied: iterations * batch };
}

function benchReads(storage: Storage) {
  const first = storage.firstIndex();
  const span = storage.lastIndex() - first + 1 - 100;
  const { perSecond } = timed((i) => storage.entries(first + ((i * 7919) % span), first + ((i * 7919) % span) + 100));
  return { entriesPerSecond: round(perSecond * 100), rangesOf100PerSecond: round(perSecond) };
}

function benchSnapshot(megabytes: number) {
  const source = openFresh();
  const valueBytes = 1000;
  const count = Math.ceil((megabytes * 1024 * 1024) / valueBytes);
  const value = 'v'.repeat(valueBytes);
  for (let lo = 0; lo < count; lo += 2000) {
    const entries = Array.from({ length: Math.min(2000, count - lo) }, (_, i) => put(lo + i + 1, `key-${String(lo + i).padStart(8, '0')}`, value));
    source.persist({ entries, hardState: { term: 1, vote: 'a', commit: lo + entries.length } });
    source.applyCommitted(entries, CONF);
  }
  const reads = benchReads(source);
  let start = performance.now();
  const snapshot = source.createSnapshot();
  const createMs = performance.now() - start;

  const target = openFresh();
  start = performance.now();
  target.persist({ entries: [], snapshot, hardState: { term: 1, vote: null, commit: snapshot.meta.index } });
  const installMs = performance.now() - start;

  start = performance.now();
  const digest = target.digest();
  const digestMs = performance.now() - start;
  const same = digest === source.digest();
  source.close();
  target.close();
  return {
    rows: count,
    imageBytes: snapshot.data.byteLength,
    createMs: round(createMs),
    installMs: round(installMs),
    digestMs: round(digestMs),
    digestsEqual: same,
    reads,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

try {
  const persist = [
    benchPersist(1, 256),
    benchPersist(16, 256),
    benchPersist(128, 256),
    benchPersist(16, 4096),
  ];
  const apply = [benchApply(1), benchApply(64)];
  const snapshot = benchSnapshot(10);
  const results = {
    date: new Date().toISOString(),
    machine: { node: process.version, platform: `${platform()} ${release()} ${arch()}`, cpu: cpus()[0]?.model ?? 'unknown', dir: parent },
    persist,
    apply,
    snapshot,
  };

  console.log(`storage benchmark in ${parent} (${results.machine.platform}, ${results.machine.cpu})`);
  console.log('\npersist (one transaction + fsync per Ready):');
  for (const r of persist) {
    console.log(`  ${String(r.batch).padStart(4)} entries of ${r.entryBytes} B: ${r.persistsPerSecond} persists/s, ${r.entriesPerSecond} entries/s`);
  }
  console.log('\napplyCommitted (key-value puts, one transaction + fsync per call):');
  for (const r of apply) {
    console.log(`  ${String(r.batch).padStart(4)} entries per call: ${r.appliesPerSecond} calls/s, ${r.entriesPerSecond} entries/s`);
  }
  console.log(`\nsnapshot of ${snapshot.rows} rows, image ${(snapshot.imageBytes / 1024 / 1024).toFixed(1)} MiB:`);
  const { createMs, installMs, digestMs, digestsEqual } = snapshot;
  console.log(`  create ${createMs} ms, install ${installMs} ms, digest ${digestMs} ms, digests equal: ${digestsEqual}`);
  console.log(`\nreads: ${snapshot.reads.entriesPerSecond} entries/s in ranges of 100`);

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'storage.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
