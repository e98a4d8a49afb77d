// The classes this laptop belongs to, with their secrets, kept as `classes.json` in the laptop's
// secret vault (a file readable by this user only, or sealed with the system's keyring). A class
// is named on the network by its tag, derived from the secret.
import { randomBytes } from 'node:crypto';
import { classTag } from './discovery';
import type { SecretVault } from './secrets';
import { MAX_EARLIER_SECRETS } from './transport';

export interface ClassEntry {
  classId: string;
  name: string;
  /** base64url of the secret the class was made with: its id is that secret's tag. */
  secret: string;
  /** The secrets that replaced it, each time a member was removed, oldest first (base64url). */
  later?: LaterSecret[];
  /** Whether this laptop created the class (its teacher's laptop). */
  createdHere: boolean;
  /** While this laptop waits to be admitted: what to ask with, kept so a restart asks again. */
  joining?: { token: string; displayName: string };
}

export interface LaterSecret {
  generation: number;
  secret: string;
}

/** Later secrets as a ticket or a backup carries them: up to `max`, generations rising, each 16 to 64 bytes; null for anything else. */
export function laterSecretsFrom(value: unknown, max = MAX_EARLIER_SECRETS): LaterSecret[] | null {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > max) return null;
  const later: LaterSecret[] = [];
  for (const each of value as unknown[]) {
    if (typeof each !== 'object' || each === null) return null;
    const { generation, secret } = each as Record<string, unknown>;
    if (typeof generation !== 'number' || !Number.isInteger(generation) || generation <= (later.at(-1)?.generation ?? 0)) return null;
    if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{22,86}$/.test(secret)) return null;
    later.push({ generation, secret });
  }
  return later;
}

const FILE = 'classes.json';
const SECRET_BYTES = 20;
/** A new class secret: what the class's laptops prove to each other. Never shown to anyone. */
export function newClassSecret(): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_BYTES));
}

/** The secret the class was made with (the one that names it). */
export function secretBytes(entry: ClassEntry): Uint8Array {
  return new Uint8Array(Buffer.from(entry.secret, 'base64url'));
}

/** What the class's laptops prove now, and the secrets it had before (newest first) for laptops that were away. */
export function networkSecrets(entry: ClassEntry): { current: Uint8Array; earlier: Uint8Array[] } {
  const all = [secretBytes(entry), ...(entry.later ?? []).map((later) => new Uint8Array(Buffer.from(later.secret, 'base64url')))].reverse();
  return { current: all[0]!, earlier: all.slice(1) };
}

/** The newest generation of the class's secret this laptop knows: 0 for the one it was made with. */
export function knownGeneration(entry: ClassEntry): number {
  return entry.later?.at(-1)?.generation ?? 0;
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

  /** Note a class by the secret it was made with, and any that replaced it since (oldest first). */
  add(name: string, secret: Uint8Array, createdHere: boolean, later: readonly LaterSecret[] = []): ClassEntry {
    const classId = classTag(secret);
    const existing = this.get(classId);
    if (existing) {
      this.addLater(classId, later);
      return existing;
    }
    const entry: ClassEntry = { classId, name, secret: Buffer.from(secret).toString('base64url'), createdHere };
    if (later.length > 0) entry.later = [...later];
    this.entries.push(entry);
    this.save();
    return entry;
  }

  /** Add the secrets newer than the newest this laptop knows; false when none was. */
  addLater(classId: string, later: readonly LaterSecret[]): boolean {
    const entry = this.get(classId);
    if (!entry) return false;
    const newer = later.filter((each) => each.generation > knownGeneration(entry)).sort((a, b) => a.generation - b.generation);
    if (newer.length === 0) return false;
    entry.later = [...(entry.later ?? []), ...newer];
    this.save();
    return true;
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
