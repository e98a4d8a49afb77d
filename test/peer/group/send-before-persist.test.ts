// When the Ready loop may send before its disk write (raft-group.ts, maySendBeforePersisting):
// a leader that needs another voter's answer to commit sends its appends first; a leader that
// commits alone (one voter, learners listening) writes first, or a learner could apply an entry
// the leader then loses in a crash. Three real Raft groups on real SQLite files, in one process.
import { describe, expect, it } from 'vitest';
import { RaftGroup } from '../../../electron/peer/group/raft-group';
import { encodeKeyValueCommand } from '../../../electron/peer/storage';
import { seededRandom, type Message, type NodeId } from '../../../electron/raft';
import { silentLogger } from '../../../electron/peer/transport';
import { openKeyValue, useTempDir } from '../storage/helpers';

const dir = useTempDir();

/** What happened on the first laptop, in order: a disk write with new entries, or an append sent. */
type Event = 'persist entries' | 'send entries';

function classOf(ids: NodeId[], voters: NodeId[]) {
  const events: Event[] = [];
  const groups = new Map<NodeId, RaftGroup<unknown>>();
  for (const [i, id] of ids.entries()) {
    const storage = openKeyValue(dir.path(`${id}.sqlite`));
    storage.persist(bootstrap(voters, ids));
    if (i === 0) {
      const persist = storage.persist.bind(storage);
      storage.persist = (ready) => {
        if (ready.entries.some((e) => e.type === 'normal' && e.data.byteLength > 0)) events.push('persist entries');
        persist(ready);
      };
    }
    const send = (to: string, message: Message) => {
      if (i === 0 && message.type === 'app' && message.entries.some((e) => e.type === 'normal' && e.data.byteLength > 0)) events.push('send entries');
      setImmediate(() => groups.get(to)?.step(id, message));
    };
    const group = new RaftGroup({
      laptopId: id,
      storage,
      send,
      random: seededRandom(i + 1),
      tickMs: 5,
      electionTicks: 10,
      heartbeatTicks: 1,
      compaction: { entries: 10_000, bytes: 1 << 24 },
      logger: silentLogger,
    });
    groups.set(id, group as RaftGroup<unknown>);
  }
  return { events, groups, stop: () => [...groups.values()].forEach((g) => g.stop()) };
}

/** The first configuration: `voters` vote, everyone else in `ids` listens as a learner. */
function bootstrap(voters: NodeId[], ids: NodeId[]) {
  const changes = [...voters.map((nodeId) => ({ type: 'addVoter' as const, nodeId })), ...ids.filter((id) => !voters.includes(id)).map((nodeId) => ({ type: 'addLearner' as const, nodeId }))];
  const entries = changes.map((change, i) => ({ index: i + 1, term: 1, type: 'confChange' as const, change: { changes: [change] } }));
  return { entries, hardState: { term: 1, vote: null, commit: entries.length } };
}

async function leadAndWrite(groups: Map<NodeId, RaftGroup<unknown>>, leader: NodeId): Promise<void> {
  const group = groups.get(leader)!;
  group.start();
  for (const [id, other] of groups) if (id !== leader) other.start();
  group.campaign();
  while (!group.isLeader()) await new Promise((resolve) => setTimeout(resolve, 5));
  // The first write shares its Ready with becoming leader, which must be durable first anyway.
  const { index } = await group.propose(encodeKeyValueCommand({ op: 'put', key: 'first', value: 'v' }));
  // Settled: every laptop has applied it, so each is replicating rather than being probed.
  while ([...groups.values()].some((g) => g.status().applied < index)) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** What reached the disk and the network first for a write made once the leader is settled. */
async function firstForSteadyWrite(groups: Map<NodeId, RaftGroup<unknown>>, leader: NodeId, events: Event[]): Promise<Event | undefined> {
  events.length = 0;
  await groups.get(leader)!.propose(encodeKeyValueCommand({ op: 'put', key: 'second', value: 'v' }));
  // Until every laptop has it, so both events happened.
  while (!events.includes('send entries') || !events.includes('persist entries')) await new Promise((resolve) => setTimeout(resolve, 5));
  return events[0];
}

describe('sending before the disk write', () => {
  it('a leader that needs another voter sends its appends while it writes', async () => {
    const { events, groups, stop } = classOf(['a', 'b', 'c'], ['a', 'b', 'c']);
    try {
      await leadAndWrite(groups, 'a');
      expect(await firstForSteadyWrite(groups, 'a', events)).toBe('send entries');
    } finally {
      stop();
    }
  });

  it('a leader that commits alone writes first, even with learners listening', async () => {
    const { events, groups, stop } = classOf(['a', 'b', 'c'], ['a']);
    try {
      await leadAndWrite(groups, 'a');
      expect(await firstForSteadyWrite(groups, 'a', events)).toBe('persist entries');
    } finally {
      stop();
    }
  });
});
