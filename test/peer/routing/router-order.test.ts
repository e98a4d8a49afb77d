// Writes that waited (the class was away, or a delivery failed) reach the class in the order
// they were made: a draft and then its turn-in must not swap on the way. The Raft group is a
// stand-in here (a follower whose leader answers through `request`); the outbox is the real one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RaftGroup } from '../../../electron/peer/group/raft-group';
import { decodeEnvelope } from '../../../electron/peer/routing/envelope';
import { decodeForwardRequest, encodeForwardReply } from '../../../electron/peer/routing/forward-protocol';
import { Outbox } from '../../../electron/peer/routing/outbox';
import { ReplicatedKeyValue } from '../../../electron/peer/routing/replicated-key-value';
import { Router } from '../../../electron/peer/routing/router';
import { SqliteStorage } from '../../../electron/peer/storage';
import { silentLogger } from '../../../electron/peer/transport';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function outboxWith(commands: string[]): Outbox {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-router-'));
  const storage = SqliteStorage.open(join(dir, 'class.sqlite'), new ReplicatedKeyValue());
  cleanups.push(() => {
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const outbox = new Outbox(storage.database);
  for (const command of commands) outbox.add(new TextEncoder().encode(command));
  return outbox;
}

/** A follower whose leader is "leader" and which has applied whatever it is asked to wait for. */
const follower = { isLeader: () => false, leader: () => 'leader', waitApplied: async () => {} } as unknown as RaftGroup<unknown>;

describe('delivering waiting writes', () => {
  it('delivers writes left from before one at a time, oldest first, even when the first delivery fails', async () => {
    const outbox = outboxWith(['draft', 'turn in', 'comment']);
    const applied: string[] = [];
    let failedOnce = false;
    let index = 0;
    const router = new Router({
      group: follower,
      outbox,
      logger: silentLogger,
      request: async (_leader, payload) => {
        const request = decodeForwardRequest(payload);
        const envelope = request?.kind === 'write' ? decodeEnvelope(request.envelope) : 'not a write';
        if (typeof envelope === 'string') throw new Error(envelope);
        const command = new TextDecoder().decode(envelope.command);
        // The first delivery of the draft is lost on the way (a leader change, a dropped link).
        if (command === 'draft' && !failedOnce) {
          failedOnce = true;
          throw new Error('connection lost');
        }
        applied.push(command);
        return encodeForwardReply({ kind: 'applied', index: ++index });
      },
    });
    router.start();
    const deadline = Date.now() + 10_000;
    while (applied.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    router.stop();
    expect(applied).toEqual(['draft', 'turn in', 'comment']);
  });
});
