// Shared by the storage tests: temporary folders with real SQLite files, and entry builders.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { KeyValueStateMachine, SqliteStorage, encodeKeyValueCommand } from '../../../electron/peer/storage';
import type { ConfState, Entry, NodeId } from '../../../electron/raft';

/** A fresh temporary folder per test, removed afterwards; call at the top of a describe. */
export function useTempDir(): { path: (name: string) => string } {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-storage-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return { path: (name) => join(dir, name) };
}

/** Every storage a test opens, so a failing test still releases its file locks. */
const opened: SqliteStorage<unknown>[] = [];
afterEach(() => {
  for (const storage of opened.splice(0)) storage.close();
});

export function openKeyValue(path: string): SqliteStorage<ReturnType<KeyValueStateMachine['apply']>> {
  const storage = SqliteStorage.open(path, new KeyValueStateMachine());
  opened.push(storage);
  return storage;
}

export function conf(voters: NodeId[], learners: NodeId[] = []): ConfState {
  return { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/** A normal entry carrying `bytes` bytes of filler (0 is a leader's no-op). */
export function normal(index: number, term: number, bytes = 8): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(bytes).fill(index % 251) };
}

export function put(index: number, term: number, key: string, value: string): Entry {
  return { index, term, type: 'normal', data: encodeKeyValueCommand({ op: 'put', key, value }) };
}

export function remove(index: number, term: number, key: string): Entry {
  return { index, term, type: 'normal', data: encodeKeyValueCommand({ op: 'delete', key }) };
}

export function addVoter(index: number, term: number, nodeId: NodeId): Entry {
  return { index, term, type: 'confChange', change: { changes: [{ type: 'addVoter', nodeId }] } };
}

/** Entries lo..hi inclusive at `term`, alternating sizes so byte limits bite in different places. */
export function run(lo: number, hi: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = lo; index <= hi; index++) {
    entries.push(index % 3 === 0 ? addVoter(index, term, `n${index}`) : normal(index, term, (index * 7) % 40));
  }
  return entries;
}

export function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** What the seeded-random tests print so a failure can be replayed. */
export function randomSeed(): number {
  const fromEnv = process.env.QUORUM_SEED;
  return fromEnv ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
}
