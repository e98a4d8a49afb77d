// A minimal state machine: put and delete string keys. It stands in for the classroom state
// machine, which will plug into the storage through the same `StateMachine` interface.
import type Database from 'better-sqlite3';
import type { Entry } from '../../../raft';
import type { StateMachine } from '../state-machine';
import { migrate001KeyValue } from './migrations/001-key-value';

/** A command, JSON-encoded in a normal entry's data. */
export type KeyValueCommand = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string };

/** What applying an entry did: changed a key, nothing (no-op or membership change), or refused a bad command. */
export type KeyValueResult =
  | { status: 'applied'; command: KeyValueCommand }
  | { status: 'none' }
  | { status: 'rejected'; reason: string };

export function encodeKeyValueCommand(command: KeyValueCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(command));
}

/** The command in `data`, or why it is not one. Pure, so every replica decides alike. */
export function decodeKeyValueCommand(data: Uint8Array): KeyValueCommand | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    return 'not a JSON command';
  }
  const command = parsed as Partial<Record<'op' | 'key' | 'value', unknown>> | null;
  if (typeof command !== 'object' || command === null || typeof command.key !== 'string') return 'a command needs a string key';
  if (command.op === 'delete') return { op: 'delete', key: command.key };
  if (command.op === 'put' && typeof command.value === 'string') return { op: 'put', key: command.key, value: command.value };
  return 'a command is {op: "put", key, value} or {op: "delete", key}';
}

interface KeyValueStatements {
  put: Database.Statement<[key: string, value: string]>;
  delete: Database.Statement<[key: string]>;
  get: Database.Statement<[key: string], string>;
}

function prepare(db: Database.Database): KeyValueStatements {
  return {
    put: db.prepare<[string, string]>('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    delete: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
    get: db.prepare<[string], string>('SELECT value FROM kv WHERE key = ?').pluck(),
  };
}

export class KeyValueStateMachine implements StateMachine<KeyValueResult> {
  readonly name = 'key-value';
  readonly migrations = [migrate001KeyValue];
  readonly tables = ['kv'];
  /** Statements per connection: prepared on first use, dropped with the connection. */
  private readonly statements = new WeakMap<Database.Database, KeyValueStatements>();

  apply(db: Database.Database, entry: Entry): KeyValueResult {
    if (entry.type !== 'normal' || entry.data.byteLength === 0) return { status: 'none' };
    const command = decodeKeyValueCommand(entry.data);
    if (typeof command === 'string') return { status: 'rejected', reason: command };
    const statements = this.statementsFor(db);
    if (command.op === 'put') statements.put.run(command.key, command.value);
    else statements.delete.run(command.key);
    return { status: 'applied', command };
  }

  /** The value stored under `key`, or undefined. A read, for callers and tests. */
  get(db: Database.Database, key: string): string | undefined {
    return this.statementsFor(db).get.get(key);
  }

  private statementsFor(db: Database.Database): KeyValueStatements {
    let statements = this.statements.get(db);
    if (!statements) {
      statements = prepare(db);
      this.statements.set(db, statements);
    }
    return statements;
  }
}
