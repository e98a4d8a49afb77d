// The classes this laptop belongs to, with their secrets, kept as `classes.json` in the laptop's
// secret vault (a file readable by this user only, or sealed with the system's keyring). A class
// is named on the network by its tag, derived from the secret.
import { randomBytes } from 'node:crypto';
import { classTag } from './discovery';
import type { SecretVault } from './secrets';

export interface ClassEntry {
  classId: string;
  name: string;
  /** base64url of the class secret. */
  secret: string;
  /** Whether this laptop created the class (its teacher's laptop). */
  createdHere: boolean;
  /** While this laptop waits to be admitted: what to ask with, kept so a restart asks again. */
  joining?: { token: string; displayName: string };
}

const FILE = 'classes.json';
const SECRET_BYTES = 20;
/** A new class secret: what the class's laptops prove to each other. Never shown to anyone. */
export function newClassSecret(): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_BYTES));
}

export function secretBytes(entry: ClassEntry): Uint8Array {
  return new Uint8Array(Buffer.from(entry.secret, 'base64url'));
}

export class ClassRegistry {
  private entries: ClassEntry[];

  constructor(private readonly vault: SecretVault) {
    const stored = vault.read(FILE);
    this.entries = stored ? (JSON.parse(Buffer.from(stored).toString('utf8')) as ClassEntry[]) : [];
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

  /** Note (or, with null, forget) that this laptop is asking to be admitted to `classId`. */
  setJoining(classId: string, joining: { token: string; displayName: string } | null): void {
    const entry = this.get(classId);
    if (!entry) return;
    if (joining) entry.joining = joining;
    else if (entry.joining) delete entry.joining;
    else return;
    this.save();
  }

  private save(): void {
    this.vault.replace(FILE, Buffer.from(JSON.stringify(this.entries, null, 2), 'utf8'));
  }
}
