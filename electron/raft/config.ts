import { allVoters, type JointVoters } from './quorum';
import type { ConfState, NodeId } from './types';

/**
 * A membership configuration. In joint consensus `voters.outgoing` is the old voter set.
 * Invariants: learners ∩ (incoming ∪ outgoing) = ∅; learnersNext ⊆ outgoing and
 * learnersNext ∩ incoming = ∅ (they become learners when the joint configuration is left).
 */
export interface Config {
  voters: { incoming: Set<NodeId>; outgoing: Set<NodeId> };
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

export function emptyConfig(): Config {
  return { voters: { incoming: new Set(), outgoing: new Set() }, learners: new Set(), learnersNext: new Set(), autoLeave: false };
}

export function cloneConfig(config: Config): Config {
  return {
    voters: { incoming: new Set(config.voters.incoming), outgoing: new Set(config.voters.outgoing) },
    learners: new Set(config.learners),
    learnersNext: new Set(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

export function isJoint(config: Config): boolean {
  return config.voters.outgoing.size > 0;
}

/** Every node the configuration names: voters of both halves and learners. */
export function members(config: Config): Set<NodeId> {
  return new Set([...allVoters(config.voters), ...config.learners, ...config.learnersNext]);
}

const sorted = (ids: Iterable<NodeId>): NodeId[] => [...ids].sort();

export function toConfState(config: Config): ConfState {
  return {
    voters: sorted(config.voters.incoming),
    learners: sorted(config.learners),
    votersOutgoing: sorted(config.voters.outgoing),
    learnersNext: sorted(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

export function fromConfState(cs: ConfState): Config {
  return {
    voters: { incoming: new Set(cs.voters), outgoing: new Set(cs.votersOutgoing) },
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    autoLeave: cs.autoLeave,
  };
}

/** The reason a configuration breaks an invariant, or null if it is sound. */
export function configProblem(config: Config): string | null {
  for (const id of config.learners) {
    if (config.voters.incoming.has(id) || config.voters.outgoing.has(id)) return `${id} is both a voter and a learner`;
  }
  for (const id of config.learnersNext) {
    if (!config.voters.outgoing.has(id)) return `${id} is to become a learner but is not an outgoing voter`;
    if (config.voters.incoming.has(id)) return `${id} is to become a learner but is an incoming voter`;
  }
  if (!isJoint(config) && config.autoLeave) return 'autoLeave is set outside a joint configuration';
  return null;
}

export type { JointVoters };
