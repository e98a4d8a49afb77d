// Durable storage of one class on one laptop: SQLite file, Raft log, snapshots, state machine.
export { SqliteStorage, type AppliedEntry, type CompactionPolicy, type PersistableReady } from './sqlite-storage';
export type { StateMachine } from './state-machine';
export type { Migration } from './migrate';
export { raftMigrations } from './migrations';
export { StorageOpenError, InvalidSnapshotError, NeedsNewerQuorumError, type StorageOpenErrorCode } from './errors';
export { QUORUM_APPLICATION_ID } from './file-format';
export {
  KeyValueStateMachine,
  encodeKeyValueCommand,
  decodeKeyValueCommand,
  type KeyValueCommand,
  type KeyValueResult,
} from './key-value/key-value-state-machine';
