// kill -9 at random moments: every write the child acknowledged (printed after the transaction
// that applied it committed) must be in the reopened file exactly once, and the applied index
// must agree with the state. Each round restarts from what the previous round left, so recovery
// itself is exercised too. SIGKILL loses the process, not the OS page cache: this proves the
// transactions are atomic and ordered right, not that the disk honours fsync.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteStorage } from '../../../electron/peer/storage';
import { decodeKeyValueCommand } from '../../../electron/peer/storage';
import { seededRandom } from '../../../electron/raft';
import { LedgerStateMachine } from './fixtures/ledger-state-machine';
import { randomSeed, useTempDir } from './helpers';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = join(here, '../../..');
const childScript = join(here, 'fixtures/crash-child.ts');
const ROUNDS = 8;

const dir = useTempDir();

interface ChildRun {
  acks: Array<{ key: string; index: number }>;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/** Start the child, let it run `killAfterMs` once it has started, then SIGKILL it. */
function runAndKill(path: string, round: number, seed: number, killAfterMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, path, String(round), String(seed)], {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (timer === undefined && stdout.includes('started\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Only whole lines count: a line cut by the kill was never fully acknowledged.
      const lines = stdout.split('\n').slice(0, -1);
      const acks = lines
        .filter((line) => line.startsWith('ack '))
        .map((line) => {
          const [, key, index] = line.split(' ');
          return { key: key!, index: Number(index) };
        });
      resolve({ acks, signal, code, stderr });
    });
  });
}

/** Reopen the file and check it against every acknowledgement so far. */
function verify(path: string, acknowledged: Map<string, number>, context: string): number {
  const storage = SqliteStorage.open(path, new LedgerStateMachine());
  try {
    const db = storage.database;
    const ledger = db.prepare('SELECT idx, key FROM ledger').all() as Array<{ idx: number; key: string }>;
    const byKey = new Map(ledger.map((row) => [row.key, row.idx]));
    const byIndex = new Map(ledger.map((row) => [row.idx, row.key]));
    const kv = new Map(db.prepare('SELECT key, value FROM kv').all().map((row) => [(row as { key: string }).key, (row as { value: string }).value]));
    const applied = storage.appliedIndex();

    // Every acknowledged write is there, written by the entry that acknowledged it.
    for (const [key, index] of acknowledged) {
      expect(byKey.get(key), `${context}: acknowledged ${key} at ${index}`).toBe(index);
      expect(kv.get(key)?.split('.')[0], `${context}: value of ${key}`).toBe(key);
    }
    // Exactly once: one ledger row per key (UNIQUE), one kv row per ledger row, nothing above applied.
    expect(kv.size, context).toBe(ledger.length);
    expect(Math.max(0, ...byIndex.keys()), context).toBeLessThanOrEqual(applied);
    expect(applied, context).toBeLessThanOrEqual(storage.initialState().hardState.commit);
    // Nothing lost in between: each round's keys form an unbroken prefix of what it proposed.
    const perRound = new Map<string, number[]>();
    for (const key of byKey.keys()) {
      const [round, n] = key.split('-');
      perRound.set(round!, [...(perRound.get(round!) ?? []), Number(n)]);
    }
    for (const [round, ns] of perRound) expect(Math.max(...ns) + 1, `${context}: keys of ${round}`).toBe(ns.length);
    // The state agrees with the log wherever the log is still there: puts at or below the applied
    // index are in the ledger at their own index, puts above it are not applied anywhere.
    const snapshotIndex = storage.firstIndex() - 1;
    let loggedApplied = 0;
    for (const entry of storage.entries(storage.firstIndex(), storage.lastIndex() + 1)) {
      if (entry.type !== 'normal' || entry.data.length === 0) continue;
      const command = decodeKeyValueCommand(entry.data);
      if (typeof command === 'string' || command.op !== 'put') throw new Error(`${context}: unexpected entry ${entry.index}`);
      if (entry.index <= applied) {
        expect(byIndex.get(entry.index), `${context}: entry ${entry.index}`).toBe(command.key);
        loggedApplied++;
      } else {
        expect(byKey.has(command.key), `${context}: unapplied entry ${entry.index}`).toBe(false);
      }
    }
    expect(ledger.filter((row) => row.idx > snapshotIndex).length, context).toBe(loggedApplied);
    return applied;
  } finally {
    storage.close();
  }
}

describe('kill -9 while writing', () => {
  it('loses no acknowledged write and applies nothing twice', async () => {
    const seed = randomSeed();
    console.log(`crash seed ${seed} (QUORUM_SEED=${seed} replays the kill timings)`);
    const random = seededRandom(seed);
    const path = dir.path('class.db');
    const acknowledged = new Map<string, number>();
    let totalAcks = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const killAfterMs = Math.floor(random() * 400);
      const run = await runAndKill(path, round, seed + round, killAfterMs);
      const context = `seed ${seed}, round ${round}, killed after ${killAfterMs} ms`;
      expect(run.signal, `${context}: the child ended on its own (code ${run.code}):\n${run.stderr}`).toBe('SIGKILL');
      for (const { key, index } of run.acks) {
        expect(acknowledged.has(key), `${context}: ${key} acknowledged twice`).toBe(false);
        acknowledged.set(key, index);
      }
      totalAcks += run.acks.length;
      const applied = verify(path, acknowledged, context);
      console.log(`round ${round}: killed after ${killAfterMs} ms, ${run.acks.length} acks, applied index ${applied}`);
    }
    expect(totalAcks).toBeGreaterThan(0);
  });
});
