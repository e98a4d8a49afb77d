// A class file with the classroom's tables, users with their own keys, and a clock: enough to
// apply signed commands as every laptop does, and read the views each member may see. A command
// is sealed as the author's laptop seals it, from this replica's tables, then signed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import type { ClassroomCommand, ClassroomResult, LogCommand, SignedCommand } from '../../shared/classroom/commands';
import {
  applyClassroomCommand,
  BoxOpener,
  CLASSROOM_MIGRATIONS,
  CLASSROOM_TABLES,
  generateBoxKeyPair,
  sealCommand,
  SealingError,
  signCommand,
  type BoxKeyPair,
} from '../../electron/classroom';
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
  /** Their box key, and what opens the items sealed for it (what their laptop reads with). */
  box: BoxKeyPair;
  opener: BoxOpener;
}

export function user(name: string): User {
  const identity = generateIdentity();
  const box = generateBoxKeyPair();
  return { identity, id: identity.laptopId, name, box, opener: new BoxOpener(identity.laptopId, box) };
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

  /** Everything applied here, in order, with its committed time: the class's log as this laptop saw it. */
  readonly log: { signed: unknown; at: number }[] = [];

  /** Apply a signed command, as the log hands it to every laptop, in one transaction. */
  apply(signed: SignedCommand | unknown, committedAt = (this.now += 60_000)): ClassroomResult {
    this.log.push({ signed, at: committedAt });
    return this.db.transaction(() => applyClassroomCommand(this.db, CLASS_ID, JSON.parse(JSON.stringify(signed)), committedAt))();
  }

  /**
   * Seal `command` as `author`'s laptop would from this copy of the class, sign it (clock: the
   * author's, by default the committed time) and apply it. What the author's laptop refuses
   * before sending comes back as a refusal, as the API answers it.
   */
  run(author: User, command: ClassroomCommand, options: { clientTime?: number; at?: number } = {}): ClassroomResult {
    const at = options.at ?? (this.now += 60_000);
    this.now = Math.max(this.now, at);
    let signed: SignedCommand;
    try {
      signed = this.seal(author, command, { clientTime: options.clientTime ?? at });
    } catch (error) {
      if (!(error instanceof SealingError)) throw error;
      return { status: 'rejected', code: error.code, reason: error.reason, commandId: null, authorId: author.id };
    }
    return this.apply(signed, at);
  }

  /** `command` sealed and signed by `author` from this copy of the class, not applied. */
  seal(author: User, command: ClassroomCommand, options: { clientTime?: number; commandId?: string } = {}): SignedCommand {
    const commandId = options.commandId ?? randomBytes(12).toString('base64url');
    const sealed = sealCommand(this.db, CLASS_ID, commandId, { userId: author.id, boxKey: author.box.publicKey, opener: author.opener }, command);
    return sign(author, sealed, { commandId, clientTime: options.clientTime ?? this.now });
  }

  /** Another laptop's copy: a fresh file that applied this one's log. */
  replay(): Replica {
    const other = new Replica();
    for (const { signed, at } of this.log) other.apply(signed, at);
    other.now = this.now;
    return other;
  }

  digest(): string {
    return digestState(this.db, CLASSROOM_TABLES, 0);
  }
}

/** `command` (a log command, sealed already) signed by `author`. */
export function sign(author: User, command: LogCommand, options: { commandId?: string; clientTime?: number } = {}): SignedCommand {
  return signCommand(author.identity, CLASS_ID, command, options);
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
