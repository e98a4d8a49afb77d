// Rebuilding a group whose voters can't be reached any more (the idea of etcd's
// force-new-cluster). Raft can't make progress without a quorum, and in a classroom the quorum
// may have gone home in backpacks. Recovery takes one node's log as the truth, treats all of
// it as committed, and appends, as committed entries of a new term, the membership changes
// that leave this node the only voter and every other member a learner. The rest is ordinary
// Raft: the node elects itself, replicates its log (these entries included) to whoever is
// reachable, and the application promotes voters again.
//
// What it costs, and why it is only ever an explicit decision: entries that other nodes
// committed but this one never received are lost, and nodes that kept working without it
// have their divergent entries replaced.
import { applyConfChange } from './confchange';
import { fromConfState, isJoint, toConfState, type Config } from './config';
import { InvalidArgumentError } from './errors';
import type { Storage } from './storage';
import type { ConfChange, ConfState, Entry, HardState, NodeId } from './types';

export interface RecoveryLog {
  /** Append these after the stored log... */
  entries: Entry[];
  /** ...and store this hard state, in one write; then restart the node from the storage. */
  hardState: HardState;
  /** The membership once they are applied: `self` the only voter, every other member a learner. */
  confState: ConfState;
}

/**
 * What to persist so that `self`, restarted from `storage`, leads a group of its own. `minTerm`
 * is the highest term seen anywhere (the new entries use a term above it, so no other node's
 * entries can win over them).
 */
export function recoveryLog(storage: Storage, self: NodeId, minTerm: number): RecoveryLog {
  const { hardState, confState } = storage.initialState();
  const lastIndex = storage.lastIndex();
  let config = configAtEndOfLog(storage, fromConfState(confState));
  const term = Math.max(minTerm, hardState.term, storage.term(lastIndex)) + 1;

  const changes: ConfChange[] = [];
  const step = (change: ConfChange) => {
    const result = applyConfChange(config, change);
    if (!result.ok) throw new InvalidArgumentError(`recovery could not change the membership: ${result.reason}`);
    config = result.config;
    changes.push(change);
  };
  // Leave a joint configuration the log ended in, then demote every other voter at once.
  if (isJoint(config)) step({ changes: [] });
  const others = [...config.voters.incoming].filter((id) => id !== self).sort();
  if (others.length > 0 || !config.voters.incoming.has(self)) {
    step({
      transition: 'jointExplicit',
      changes: [{ type: 'addVoter', nodeId: self }, ...others.map((nodeId) => ({ type: 'addLearner' as const, nodeId }))],
    });
    step({ changes: [] });
  }

  const entries: Entry[] = changes.map((change, i) => ({ index: lastIndex + 1 + i, term, type: 'confChange', change }));
  // A normal entry of the new term as well, so the log always grows: the commit covers it and
  // no other node's entries at these indexes can be mistaken for it.
  entries.push({ index: lastIndex + 1 + entries.length, term, type: 'normal', data: new Uint8Array() });
  return {
    entries,
    hardState: { term, vote: self, commit: lastIndex + entries.length },
    confState: toConfState(config),
  };
}

/** The membership after every change in the stored log, committed or not (all of it counts now). */
function configAtEndOfLog(storage: Storage, config: Config): Config {
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  if (last < first) return config;
  for (const entry of storage.entries(first, last + 1)) {
    if (entry.type !== 'confChange') continue;
    // An invalid change is a no-op on every node alike (as in Raft.applyConfChange).
    const result = applyConfChange(config, entry.change);
    if (result.ok) config = result.config;
  }
  return config;
}
