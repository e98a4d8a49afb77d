// The contract between the storage and whatever the replicated log drives (for now the key-value
// store; later the classroom). The storage owns transactions, the applied index and snapshots;
// the state machine owns its tables and what a command does to them.
import type Database from 'better-sqlite3';
import type { Entry } from '../../raft';
import type { Migration } from './migrate';

export interface StateMachine<Result> {
  /** Key of its row in `schema_versions`; never renamed once shipped. */
  readonly name: string;
  /** Its own schema migrations, in order; version n means the first n have run. Append only. */
  readonly migrations: readonly Migration[];
  /** The tables holding its state: copied into snapshots, covered by the digest, replaced on restore. */
  readonly tables: readonly string[];
  /**
   * Apply one committed entry, inside the storage's transaction (which also records the applied
   * index). Must be deterministic: the same entries on the same tables give the same tables on
   * every laptop. A command that is malformed or not allowed returns a rejection as its result;
   * throwing rolls back the whole batch and would stop every replica at the same entry.
   */
  apply(db: Database.Database, entry: Entry): Result;
}
