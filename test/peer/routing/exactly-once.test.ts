// A write retried after a leader change (same client id and sequence) is applied once, and the
// outbox keeps writes across a restart of the laptop, in order, with their sequence numbers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../../electron/raft';
import { decodeEnvelope, encodeEnvelope } from '../../../electron/peer/routing/envelope';
import { Outbox } from '../../../electron/peer/routing/outbox';
import { ReplicatedKeyValue, type ReplicatedKeyValueResult } from '../../../electron/peer/routing/replicated-key-value';
import { SqliteStorage, encodeKeyValueCommand } from '../../../electron/peer/storage';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openClassFile(): { storage: SqliteStorage<ReplicatedKeyValueResult>; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-routing-'));
  dirs.push(dir);
  const file = join(dir, 'class.sqlite');
  const storage = SqliteStorage.open<ReplicatedKeyValueResult>(file, new ReplicatedKeyValue());
  storage.bootstrap(['laptop-a']);
  // Apply the bootstrap entry, as the Ready loop would.
  storage.applyCommitted(storage.entries(1, storage.lastIndex() + 1), storage.appliedConfState());
  return { storage, file };
}

const put = (key: string, value: string) => encodeKeyValueCommand({ op: 'put', key, value });

function committed(storage: SqliteStorage<unknown>, data: Uint8Array[]): Entry[] {
  const first = storage.lastIndex() + 1;
  const entries: Entry[] = data.map((d, i) => ({ index: first + i, term: 1, type: 'normal', data: d }));
  storage.persist({ entries, hardState: { term: 1, vote: null, commit: first + data.length - 1 } });
  return entries;
}

describe('exactly-once client writes', () => {
  it('round-trips an envelope and refuses impossible ones', () => {
    const envelope = { clientId: 'c-1', seq: 7, ackedBelow: 3, command: put('k', 'v') };
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    expect(decodeEnvelope(new Uint8Array([9, 1, 65]))).toBe('not a client write');
    expect(decodeEnvelope(encodeEnvelope({ ...envelope, seq: 2, ackedBelow: 3 }))).toMatch(/impossible sequence/);
  });

  it('applies a retried write once and answers the retry with the first result', () => {
    const { storage } = openClassFile();
    const first = encodeEnvelope({ clientId: 'c', seq: 1, ackedBelow: 1, command: put('x', 'one') });
    const overwrite = encodeEnvelope({ clientId: 'c', seq: 2, ackedBelow: 1, command: put('x', 'two') });
    const results = storage.applyCommitted(committed(storage, [first, overwrite, first]), storage.appliedConfState());
    expect(results.map((r) => (r.result as { status: string }).status)).toEqual(['applied', 'applied', 'duplicate']);
    // The retry of seq 1 did not put "one" back over "two".
    expect(new ReplicatedKeyValue().get(storage.database, 'x')).toBe('two');
  });

  it('forgets answers the client acknowledged, and still refuses those retries', () => {
    const { storage } = openClassFile();
    const envelopes = [1, 2, 3].map((seq) => encodeEnvelope({ clientId: 'c', seq, ackedBelow: seq, command: put(`k${seq}`, 'v') }));
    storage.applyCommitted(committed(storage, envelopes), storage.appliedConfState());
    const kept = storage.database.prepare('SELECT seq FROM client_results ORDER BY seq').pluck().all();
    expect(kept).toEqual([3]);
    const retry = storage.applyCommitted(committed(storage, [envelopes[0]!]), storage.appliedConfState());
    expect(retry[0]!.result).toMatchObject({ status: 'duplicate', seq: 1 });
  });

  it('keeps the outbox and its sequence numbers across a restart', () => {
    const { storage, file } = openClassFile();
    const outbox = new Outbox(storage.database);
    const a = outbox.add(put('a', '1'));
    const b = outbox.add(put('b', '2'));
    outbox.remove(a.seq);
    const clientId = outbox.clientId;
    storage.close();

    const reopened = SqliteStorage.open(file, new ReplicatedKeyValue());
    const again = new Outbox(reopened.database);
    expect(again.clientId).toBe(clientId);
    expect([...again.pending()].map((item) => item.seq)).toEqual([b.seq]);
    expect(again.lowestUnanswered()).toBe(b.seq);
    // Numbers reserved by the last run may have reached the class: a new write never reuses them.
    expect(again.add(put('c', '3')).seq).toBeGreaterThan(b.seq);
    reopened.close();
  });

  it('takes a write out of the outbox in the transaction that applies it, and only this laptop\'s', () => {
    const { storage, file } = openClassFile();
    const outbox = new Outbox(storage.database);
    const mine = outbox.add(put('a', '1'));
    const later = outbox.add(put('b', '2'));
    const envelope = (clientId: string, seq: number) => encodeEnvelope({ clientId, seq, ackedBelow: seq, command: put('x', String(seq)) });
    // Another laptop's write with the same sequence number leaves this outbox alone.
    const entries = committed(storage, [envelope('someone-else', mine.seq), envelope(outbox.clientId, mine.seq)]);
    storage.applyCommitted(entries, storage.appliedConfState(), (applied) => outbox.forgetApplied(applied));
    expect([...outbox.pending()].map((item) => item.seq)).toEqual([later.seq]);
    storage.close();

    // After a restart (kill -9 included: the removal committed with the apply), it stays gone.
    const reopened = SqliteStorage.open(file, new ReplicatedKeyValue());
    expect([...new Outbox(reopened.database).pending()].map((item) => item.seq)).toEqual([later.seq]);
    reopened.close();
  });

  it('keeps a write it answered "pending" through a restart', () => {
    const { storage, file } = openClassFile();
    const outbox = new Outbox(storage.database);
    const item = outbox.add(put('offline', 'yes'));
    outbox.sync();
    storage.close();
    const reopened = SqliteStorage.open(file, new ReplicatedKeyValue());
    const again = new Outbox(reopened.database);
    expect([...again.pending()]).toEqual([{ seq: item.seq, command: put('offline', 'yes'), createdAt: item.createdAt }]);
    expect(again.lowestUnanswered()).toBe(item.seq);
    reopened.close();
  });
});
