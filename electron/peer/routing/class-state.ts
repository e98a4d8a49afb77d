// The replicated state machine of a class: the classroom (electron/classroom) behind
// exactly-once client sessions, with the leader's time stamp as the committed time. The small
// key-value store of the peer's first release stays beside it for the `write`/`read` API that
// the peer's own tests and benchmarks drive; a command is one or the other by its shape.
import type Database from 'better-sqlite3';
import type { Entry } from '../../raft';
import type { ClassroomResult } from '../../../shared/classroom/commands';
import { applyClassroomCommand, CLASSROOM_MIGRATIONS, CLASSROOM_TABLES } from '../../classroom';
import { CLASS_RULES } from '../../../shared/classroom/rules';
import { KeyValueStateMachine, type KeyValueResult, type StateMachine } from '../storage';
import { migrate001KeyValue } from '../storage/key-value/migrations/001-key-value';
import { applyOnce, migrateSessions, SESSION_TABLES, type SessionResult } from './sessions';

export type ClassCommandResult = ({ kind: 'keyValue' } & KeyValueResult) | ({ kind: 'classroom' } & ClassroomResult);
export type ClassStateResult = SessionResult<ClassCommandResult>;

const decoder = new TextDecoder('utf-8', { fatal: true });

export class ClassState implements StateMachine<ClassStateResult> {
  readonly name = 'class';
  readonly migrations = [migrate001KeyValue, migrateSessions, ...CLASSROOM_MIGRATIONS];
  readonly tables = ['kv', ...SESSION_TABLES, ...CLASSROOM_TABLES];
  private readonly keyValue = new KeyValueStateMachine();

  constructor(
    private readonly classId: string,
    /** The newest class rules this laptop's Quorum applies; tests stand in for other builds with it. */
    private readonly knownRules: number = CLASS_RULES,
  ) {}

  apply(db: Database.Database, entry: Entry): ClassStateResult {
    return applyOnce(db, entry, (command, proposedAt): ClassCommandResult => {
      const parsed = parse(command);
      if (isKeyValueCommand(parsed)) return { kind: 'keyValue', ...this.keyValue.apply(db, { ...entry, type: 'normal', data: command }) };
      // Unstamped (never from a laptop of ours): the class clock stays where it is.
      return { kind: 'classroom', ...applyClassroomCommand(db, this.classId, parsed, proposedAt ?? 0, this.knownRules) };
    });
  }

  get(db: Database.Database, key: string): string | undefined {
    return this.keyValue.get(db, key);
  }
}

function parse(command: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(command)) as unknown;
  } catch {
    return undefined;
  }
}

function isKeyValueCommand(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'op' in value;
}
