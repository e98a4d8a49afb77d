// RaftNode on SqliteStorage, driven by the Ready loop the peer will run: persist (one
// transaction) → send → apply (with the applied index) → advance.
import { describe, expect, it } from 'vitest';
import { encodeKeyValueCommand, KeyValueStateMachine, type SqliteStorage } from '../../../electron/peer/storage';
import { RaftNode, seededRandom, type Message, type NodeId } from '../../../electron/raft';
import { openKeyValue, randomSeed, useTempDir } from './helpers';

const dir = useTempDir();
const kv = new KeyValueStateMachine();

interface Replica {
  id: NodeId;
  storage: SqliteStorage;
  node: RaftNode;
}

function start(id: NodeId, storage: SqliteStorage, seed: number): Replica {
  return { id, storage, node: new RaftNode({ id, storage, random: seededRandom(seed), applied: storage.appliedIndex() }) };
}

/** Run Ready loops and deliver messages until everything is quiet; `cut` nodes hear nothing and say nothing. */
function settle(replicas: Replica[], cut: Set<NodeId> = new Set(), compactEvery = 0): void {
  for (let round = 0; round < 1000; round++) {
    const outbox: Message[] = [];
    for (const replica of replicas) {
      while (replica.node.hasReady()) {
        const ready = replica.node.ready();
        replica.storage.persist(ready);
        outbox.push(...ready.messages);
        replica.storage.applyCommitted(ready.committedEntries, replica.node.confState());
        replica.node.advance();
        if (compactEvery > 0) replica.storage.maybeCompact({ entries: compactEvery, bytes: Number.POSITIVE_INFINITY });
      }
    }
    const delivered = outbox.filter((message) => !cut.has(message.from) && !cut.has(message.to));
    if (delivered.length === 0) return;
    for (const message of delivered) replicas.find((replica) => replica.id === message.to)?.node.step(message);
  }
  throw new Error('the cluster did not settle');
}

function propose(replica: Replica, key: string, value: string): void {
  replica.node.propose(encodeKeyValueCommand({ op: 'put', key, value }));
}

describe('a RaftNode on SqliteStorage', () => {
  it('runs a single-node class that commits, and survives a reopen', () => {
    const seed = randomSeed();
    console.log(`single-node seed ${seed}`);
    const path = dir.path('n1.db');
    let storage = openKeyValue(path);
    storage.bootstrap(['n1']);
    let replica = start('n1', storage, seed);
    // The bootstrap entries set the configuration once they are handed out and applied.
    settle([replica]);
    replica.node.campaign();
    settle([replica]);
    expect(replica.node.status().role).toBe('leader');
    for (let i = 0; i < 25; i++) propose(replica, `key-${i}`, `value-${i}`);
    settle([replica]);
    const commit = replica.node.status().commit;
    expect(storage.appliedIndex()).toBe(commit);
    expect(kv.get(storage.database, 'key-24')).toBe('value-24');
    const digest = storage.digest();
    storage.close();

    storage = openKeyValue(path);
    expect(storage.appliedIndex()).toBe(commit);
    expect(storage.digest()).toBe(digest);
    replica = start('n1', storage, seed + 1);
    expect(replica.node.status()).toMatchObject({ commit, applied: commit, lastIndex: commit, config: { voters: ['n1'] } });
    replica.node.campaign();
    settle([replica]);
    expect(replica.node.status().role).toBe('leader');
    propose(replica, 'key-0', 'rewritten');
    settle([replica]);
    expect(kv.get(storage.database, 'key-0')).toBe('rewritten');
    expect(storage.appliedIndex()).toBe(replica.node.status().commit);
  });

  it('brings a follower that fell behind the compacted log back with a snapshot', () => {
    const seed = randomSeed();
    console.log(`three-node seed ${seed}`);
    const ids = ['n1', 'n2', 'n3'];
    const replicas = ids.map((id, i) => {
      const storage = openKeyValue(dir.path(`${id}.db`));
      storage.bootstrap(ids);
      return start(id, storage, seed + i);
    });
    const [leader, , laggard] = replicas as [Replica, Replica, Replica];
    settle(replicas);
    leader.node.campaign();
    settle(replicas);
    expect(leader.node.status().role).toBe('leader');

    const cut = new Set(['n3']);
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 10; i++) propose(leader, `key-${i}`, `batch-${batch}`);
      settle(replicas, cut, 15);
    }
    expect(leader.storage.firstIndex()).toBeGreaterThan(laggard.storage.lastIndex() + 1);

    cut.clear();
    for (let tick = 0; tick < 20 && laggard.storage.appliedIndex() < leader.storage.appliedIndex(); tick++) {
      for (const replica of replicas) replica.node.tick();
      settle(replicas, cut, 15);
    }
    expect(laggard.storage.snapshot().meta.index).toBeGreaterThan(0);
    expect(laggard.storage.appliedIndex()).toBe(leader.storage.appliedIndex());
    const digests = replicas.map((replica) => replica.storage.digest());
    expect(new Set(digests).size).toBe(1);
    expect(kv.get(laggard.storage.database, 'key-3')).toBe('batch-9');

    laggard.storage.close();
    expect(openKeyValue(dir.path('n3.db')).digest()).toBe(digests[0]);
  });
});
