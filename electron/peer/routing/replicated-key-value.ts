// The interim replicated state machine of a class: the key-value store behind exactly-once
// client sessions. The classroom state machine replaces it through the same interfaces.
import type Database from 'better-sqlite3';
import type { Entry } from '../../raft';
import { KeyValueStateMachine, type KeyValueResult, type StateMachine } from '../storage';
import { migrate001KeyValue } from '../storage/key-value/migrations/001-key-value';
import { applyOnce, migrateSessions, SESSION_TABLES, type SessionResult } from './sessions';

export type ReplicatedKeyValueResult = SessionResult<KeyValueResult>;

export class ReplicatedKeyValue implements StateMachine<ReplicatedKeyValueResult> {
  readonly name = 'replicated-key-value';
  readonly migrations = [migrate001KeyValue, migrateSessions];
  readonly tables = ['kv', ...SESSION_TABLES];
  private readonly inner = new KeyValueStateMachine();

  apply(db: Database.Database, entry: Entry): ReplicatedKeyValueResult {
    return applyOnce(db, entry, (command) => this.inner.apply(db, { ...entry, type: 'normal', data: command }));
  }

  get(db: Database.Database, key: string): string | undefined {
    return this.inner.get(db, key);
  }
}
