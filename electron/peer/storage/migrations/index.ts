// The Raft schema, in order. Append only: a shipped migration is never edited or reordered,
// because `PRAGMA user_version` records how many of these a file has run.
import type { Migration } from '../migrate';
import { migrate001RaftLog } from './001-raft-log';
import { migrate002Snapshot } from './002-snapshot';
import { migrate003AppliedIndex } from './003-applied-index';

export const raftMigrations: readonly Migration[] = [migrate001RaftLog, migrate002Snapshot, migrate003AppliedIndex];
