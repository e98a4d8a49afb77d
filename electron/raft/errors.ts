import type { NodeId } from './types';

/** Base of every error the core throws; `code` is stable for callers to branch on. */
export class RaftError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A write or read reached a node that does not lead; `leader` is whom it believes leads. */
export class NotLeaderError extends RaftError {
  constructor(readonly leader: NodeId | null) {
    super('NOT_LEADER', leader === null ? 'no leader is known' : `not the leader; the leader is ${leader}`);
  }
}

/** The leader refused a proposal it would otherwise accept (transfer in progress, a change pending…). */
export class ProposalDroppedError extends RaftError {
  constructor(reason: string) {
    super('PROPOSAL_DROPPED', reason);
  }
}

/** A membership change that is malformed or not allowed in the current configuration. */
export class ConfChangeError extends RaftError {
  constructor(reason: string) {
    super('INVALID_CONF_CHANGE', reason);
  }
}

/** Storage: the requested index is below the first index (compacted into a snapshot). */
export class CompactedError extends RaftError {
  constructor() {
    super('COMPACTED', 'requested index is unavailable due to compaction');
  }
}

/** Storage: the requested index is above the last index. */
export class UnavailableError extends RaftError {
  constructor() {
    super('UNAVAILABLE', 'requested entry at index is unavailable');
  }
}

/** Storage: the snapshot is being produced and cannot be read yet; the leader tries again later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super('SNAPSHOT_TEMPORARILY_UNAVAILABLE', 'snapshot is temporarily unavailable');
  }
}

/** Storage: a snapshot older than the one already held was offered. */
export class SnapshotOutOfDateError extends RaftError {
  constructor() {
    super('SNAPSHOT_OUT_OF_DATE', 'requested index is older than the existing snapshot');
  }
}

/** The node was configured or called in a way that can never work. */
export class InvalidArgumentError extends RaftError {
  constructor(reason: string) {
    super('INVALID_ARGUMENT', reason);
  }
}
