import { cloneConfig, configProblem, isJoint, type Config } from './config';
import type { ConfChange, ConfChangeSingle, NodeId } from './types';

/** A membership change that was applied, or why it could not be. */
export type ChangeResult = { ok: true; config: Config } | { ok: false; reason: string };

/**
 * The configuration after `change`, computed without touching `config`. Rules follow etcd's
 * confchange package: one voter at a time unless by joint consensus; a joint configuration
 * must be left (with an empty change) before the next change; the voters can't be emptied.
 */
export function applyConfChange(config: Config, change: ConfChange): ChangeResult {
  if (change.changes.length === 0) return leaveJoint(config);
  const transition = change.transition ?? 'auto';
  if (transition === 'auto' && !isJoint(config)) {
    const simple = applySimple(config, change.changes);
    if (simple.ok || !simple.tooManyVoterChanges) return simple;
    return enterJoint(config, change.changes, true);
  }
  return enterJoint(config, change.changes, transition !== 'jointExplicit');
}

function applySimple(config: Config, changes: ConfChangeSingle[]): ChangeResult & { tooManyVoterChanges?: boolean } {
  if (isJoint(config)) return { ok: false, reason: 'cannot apply a simple change in a joint configuration' };
  const next = cloneConfig(config);
  const applied = applyChanges(next, changes);
  if (applied) return { ok: false, reason: applied };
  let differences = 0;
  for (const id of next.voters.incoming) if (!config.voters.incoming.has(id)) differences++;
  for (const id of config.voters.incoming) if (!next.voters.incoming.has(id)) differences++;
  if (differences > 1) {
    return { ok: false, reason: 'more than one voter changed without joint consensus', tooManyVoterChanges: true };
  }
  return checked(next);
}

function enterJoint(config: Config, changes: ConfChangeSingle[], autoLeave: boolean): ChangeResult {
  if (isJoint(config)) return { ok: false, reason: 'already in a joint configuration' };
  if (config.voters.incoming.size === 0) return { ok: false, reason: 'cannot make a zero-voter configuration joint' };
  const next = cloneConfig(config);
  next.voters.outgoing = new Set(config.voters.incoming);
  const applied = applyChanges(next, changes);
  if (applied) return { ok: false, reason: applied };
  next.autoLeave = autoLeave;
  return checked(next);
}

function leaveJoint(config: Config): ChangeResult {
  if (!isJoint(config)) return { ok: false, reason: 'not in a joint configuration' };
  const next = cloneConfig(config);
  for (const id of next.learnersNext) next.learners.add(id);
  next.learnersNext.clear();
  next.voters.outgoing.clear();
  next.autoLeave = false;
  return checked(next);
}

/** Apply each change to `config` in place; returns a reason on the first invalid one. */
function applyChanges(config: Config, changes: ConfChangeSingle[]): string | null {
  for (const change of changes) {
    if (typeof change.nodeId !== 'string' || change.nodeId === '') return 'a membership change names no node';
    switch (change.type) {
      case 'addVoter':
        makeVoter(config, change.nodeId);
        break;
      case 'addLearner':
        makeLearner(config, change.nodeId);
        break;
      case 'removeNode':
        remove(config, change.nodeId);
        break;
      default:
        return `unknown membership change type ${String((change as { type: unknown }).type)}`;
    }
  }
  if (config.voters.incoming.size === 0) return 'removing every voter is not allowed';
  return null;
}

function makeVoter(config: Config, id: NodeId): void {
  config.learners.delete(id);
  config.learnersNext.delete(id);
  config.voters.incoming.add(id);
}

function makeLearner(config: Config, id: NodeId): void {
  if (config.learners.has(id)) return;
  config.voters.incoming.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  // An outgoing voter keeps voting until the joint configuration is left.
  if (config.voters.outgoing.has(id)) config.learnersNext.add(id);
  else config.learners.add(id);
}

function remove(config: Config, id: NodeId): void {
  config.voters.incoming.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
}

function checked(config: Config): ChangeResult {
  const problem = configProblem(config);
  return problem ? { ok: false, reason: problem } : { ok: true, config };
}
