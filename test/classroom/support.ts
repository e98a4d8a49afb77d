// A class file with the classroom's tables, users with their own keys, and a clock: enough to
// apply signed commands as every laptop does, and read the views each member may see.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import type { ClassroomCommand, ClassroomResult, SignedCommand } from '../../shared/classroom/commands';
import { applyClassroomCommand, CLASSROOM_MIGRATIONS, CLASSROOM_TABLES, signCommand } from '../../electron/classroom';
import { digestState } from '../../electron/peer/storage/digest';
import { generateIdentity, type Identity } from '../../electron/peer/transport/identity';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export const CLASS_ID = 'class-physics-3';
export const HOUR = 3_600_000;
/** A well-formed join code (the alphabet, once). */
export const TEST_JOIN_CODE = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** 1 September 2026, 08:00 UTC: the first day of term. */
export const START = Date.UTC(2026, 8, 1, 8);

export interface User {
  identity: Identity;
  id: string;
  name: string;
}

export function user(name: string): User {
  const identity = generateIdentity();
  return { identity, id: identity.laptopId, name };
}

/** One laptop's copy of the class: its own file, the commands applied in log order. */
export class Replica {
  readonly db: Database.Database;
  /** The committed time of the next command (each command moves it a minute on). */
  now = START;

  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'quorum-classroom-'));
    dirs.push(dir);
    this.db = new Database(join(dir, 'class.sqlite'));
    this.db.pragma('foreign_keys = ON');
    for (const migrate of CLASSROOM_MIGRATIONS) migrate(this.db);
  }

  /** Apply a signed command, as the log hands it to every laptop, in one transaction. */
  apply(signed: SignedCommand | unknown, committedAt = (this.now += 60_000)): ClassroomResult {
    return this.db.transaction(() => applyClassroomCommand(this.db, CLASS_ID, JSON.parse(JSON.stringify(signed)), committedAt))();
  }

  /** Sign `command` as `author` (clock: the author's, by default the committed time) and apply it. */
  run(author: User, command: ClassroomCommand, options: { clientTime?: number; at?: number } = {}): ClassroomResult {
    const at = options.at ?? (this.now += 60_000);
    this.now = Math.max(this.now, at);
    return this.apply(signCommand(author.identity, CLASS_ID, command, { clientTime: options.clientTime ?? at }), at);
  }

  digest(): string {
    return digestState(this.db, CLASSROOM_TABLES, 0);
  }
}

/** A class with a teacher and students who joined. */
export function classWith(studentNames: string[]) {
  const replica = new Replica();
  const teacher = user('Ms Rivera');
  expectApplied(replica.run(teacher, { type: 'createClass', name: 'Physics', subject: 'Period 3', displayName: teacher.name, laptopId: 'laptop-t', joinCode: TEST_JOIN_CODE }));
  const students = studentNames.map((name, i) => {
    const student = user(name);
    expectApplied(replica.run(student, { type: 'joinClass', displayName: name, laptopId: `laptop-${i}` }));
    return student;
  });
  return { replica, teacher, students };
}

export function expectApplied(result: ClassroomResult): void {
  if (result.status !== 'applied') throw new Error(`expected the command to apply, but: ${result.code} ${result.reason}`);
}

export const assignment = (assignmentId: string, fields: Partial<Extract<ClassroomCommand, { type: 'createAssignment' }>> = {}) =>
  ({
    type: 'createAssignment',
    assignmentId,
    title: 'Lab report: pendulums',
    instructions: 'Measure the period of **three** pendulums.',
    pointsPossible: 20,
    dueAt: START + 48 * HOUR,
    cutOffAt: null,
    materials: [],
    published: true,
    ...fields,
  }) satisfies ClassroomCommand;
