// Recovery of a group whose voters are gone: the recovered node leads alone, keeps its whole
// log, and every other member becomes a learner.
import { describe, expect, it } from 'vitest';
import { RaftNode } from './node';
import { recoveryLog } from './recovery';
import { seededRandom } from './random';
import { bootstrapLog, MemoryStorage } from './storage';
import type { ConfChange, Entry } from './types';

function storageWith(voters: string[], extra: Entry[] = [], commit?: number): MemoryStorage {
  const storage = new MemoryStorage();
  const boot = bootstrapLog(voters);
  storage.append([...boot.entries, ...extra]);
  storage.setHardState({ term: 3, vote: voters[0]!, commit: commit ?? boot.hardState.commit });
  return storage;
}

const normal = (index: number, term: number, text: string): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(text) });
const change = (index: number, term: number, conf: ConfChange): Entry => ({ index, term, type: 'confChange', change: conf });

/** Persist the recovery, restart the node from storage, run its Ready loop until it is quiet. */
function recover(storage: MemoryStorage, self: string, minTerm: number, applied: number) {
  const recovery = recoveryLog(storage, self, minTerm);
  storage.append(recovery.entries);
  storage.setHardState(recovery.hardState);
  const node = new RaftNode({ id: self, storage, random: seededRandom(1), electionTicks: 10, heartbeatTicks: 1, applied });
  const appliedEntries: Entry[] = [];
  const drain = () => {
    while (node.hasReady()) {
      const ready = node.ready();
      storage.append(ready.entries);
      if (ready.hardState) storage.setHardState(ready.hardState);
      appliedEntries.push(...ready.committedEntries);
      node.advance();
    }
  };
  drain();
  node.campaign();
  drain();
  return { node, recovery, appliedEntries };
}

describe('recovering a group from one node', () => {
  it('makes the node the only voter, keeps every entry it holds, and lets it lead at once', () => {
    // a, b, c voters; c holds entries 4..5 that it never learned were committed.
    const storage = storageWith(['a', 'b', 'c'], [normal(4, 3, 'x'), normal(5, 3, 'y')], 3);
    const { node, recovery, appliedEntries } = recover(storage, 'c', 7, 3);
    expect(recovery.confState).toMatchObject({ voters: ['c'], learners: ['a', 'b'], votersOutgoing: [], learnersNext: [] });
    expect(recovery.entries.every((entry) => entry.term === 8)).toBe(true);
    const status = node.status();
    expect(status.role).toBe('leader');
    expect(status.config.voters).toEqual(['c']);
    expect(status.config.learners).toEqual(['a', 'b']);
    // Everything the node held was applied, uncommitted tail included, in order.
    expect(appliedEntries.map((entry) => entry.index).slice(0, 2)).toEqual([4, 5]);
    expect(status.commit).toBe(storage.lastIndex());
  });

  it('counts membership changes still uncommitted in the log, and leaves a joint configuration first', () => {
    const storage = storageWith(['a', 'b'], [
      change(3, 3, { transition: 'jointExplicit', changes: [{ type: 'addVoter', nodeId: 'd' }, { type: 'addLearner', nodeId: 'e' }] }),
    ]);
    const { node, recovery } = recover(storage, 'e', 3, 2);
    // The log ended joint: one entry leaves it, then the demotion goes through its own joint step.
    expect(recovery.entries.map((entry) => (entry.type === 'confChange' ? entry.change.changes.length : 'normal'))).toEqual([0, 4, 0, 'normal']);
    expect(node.status().config).toMatchObject({ voters: ['e'], learners: ['a', 'b', 'd'] });
    expect(node.status().role).toBe('leader');
  });

  it('needs no membership change when the node already votes alone', () => {
    const storage = storageWith(['a'], [normal(2, 3, 'x')], 1);
    const { node, recovery } = recover(storage, 'a', 0, 1);
    expect(recovery.entries).toHaveLength(1);
    expect(recovery.hardState).toEqual({ term: 4, vote: 'a', commit: 3 });
    expect(node.status().role).toBe('leader');
  });
});
