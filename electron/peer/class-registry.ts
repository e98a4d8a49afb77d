// The classes this laptop belongs to, with their secrets, in `<dataDir>/classes.json` (readable
// by this user only). A class is named on the network by its tag, derived from the secret.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classTag } from './discovery';
import { ServiceError } from './service';
import { base32 } from './util/base32';

export interface ClassEntry {
  classId: string;
  name: string;
  /** base64url of the class secret. */
  secret: string;
  /** Whether this laptop created the class (its teacher's laptop). */
  createdHere: boolean;
}

const FILE = 'classes.json';
const SECRET_BYTES = 20;
const BASE32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no I, O, 0, 1: easy to read off a projector

/** A new class secret and the join code that carries it. */
export function newClassSecret(): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_BYTES));
}

/** The join code for a secret: groups of four easy-to-read characters. */
export function joinCodeFor(secret: Uint8Array): string {
  return base32(secret, BASE32).match(/.{1,4}/g)!.join('-');
}

/** The secret in a join code as typed (any case, with or without dashes and spaces). */
export function secretFromJoinCode(code: string): Uint8Array {
  const clean = code.toUpperCase().replace(/[\s-]/g, '');
  const expected = Math.ceil((SECRET_BYTES * 8) / 5);
  if (clean.length !== expected || [...clean].some((c) => !BASE32.includes(c))) {
    throw new ServiceError('BAD_JOIN_CODE', 'That join code is not right. Check it against the one your teacher shows and try again.');
  }
  const bytes = new Uint8Array(SECRET_BYTES);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const c of clean) {
    value = ((value << 5) | BASE32.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8 && at < SECRET_BYTES) {
      bytes[at++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return bytes;
}

export function secretBytes(entry: ClassEntry): Uint8Array {
  return new Uint8Array(Buffer.from(entry.secret, 'base64url'));
}

export class ClassRegistry {
  private readonly path: string;
  private entries: ClassEntry[];

  constructor(dataDir: string) {
    this.path = join(dataDir, FILE);
    this.entries = existsSync(this.path) ? (JSON.parse(readFileSync(this.path, 'utf8')) as ClassEntry[]) : [];
  }

  all(): ClassEntry[] {
    return [...this.entries];
  }

  get(classId: string): ClassEntry | undefined {
    return this.entries.find((entry) => entry.classId === classId);
  }

  add(name: string, secret: Uint8Array, createdHere: boolean): ClassEntry {
    const classId = classTag(secret);
    const existing = this.get(classId);
    if (existing) return existing;
    const entry: ClassEntry = { classId, name, secret: Buffer.from(secret).toString('base64url'), createdHere };
    this.entries.push(entry);
    this.save();
    return entry;
  }

  private save(): void {
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.entries, null, 2), { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.path);
  }
}
