// The replicated state machine of the simulation: a key-value map fed by `key=value`
// commands, plus a running digest of everything applied so two replicas can be compared at
// any index (including across snapshots) by comparing two numbers.

import type { Entry, Snapshot } from '../../../electron/raft/index';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** FNV-1a over bytes, continuing from `hash`. */
function fnvBytes(hash: number, bytes: Uint8Array): number {
  let h = hash >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function fnvString(hash: number, text: string): number {
  let h = hash >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const FNV_OFFSET = 0x811c9dc5;

/** Identifies an entry's content (not its position): equal fingerprints mean equal entries. */
export function entryFingerprint(entry: Entry): string {
  if (entry.type === 'normal') return `n${entry.data.byteLength}:${fnvBytes(FNV_OFFSET, entry.data)}`;
  const cc = entry.change;
  return `c${JSON.stringify({ changes: cc.changes.map((c) => [c.type, c.nodeId]), transition: cc.transition ?? 'auto' })}`;
}

/** The command bytes for `key=value` (a bare value uses itself as the key). */
export function encodeCommand(value: string): Uint8Array {
  return encoder.encode(value);
}

/** What one replica applied at one index, in order. */
export interface AppliedRecord {
  index: number;
  term: number;
  type: Entry['type'];
  /** The command text for normal entries ('' for a leader's no-op), the change as JSON otherwise. */
  text: string;
}

interface SnapshotImage {
  applied: number;
  appliedTerm: number;
  digest: number;
  kv: [string, string][];
}

/**
 * A key-value store with its applied index. Its whole state (map, applied index, digest)
 * is written in one step per entry, the way Quorum's SQLite transaction stores the classroom
 * tables with the applied index, so after a crash it is exactly as of `applied`.
 */
export class KvStateMachine {
  applied = 0;
  appliedTerm = 0;
  /** Chained hash of every entry applied up to `applied`. */
  digest = FNV_OFFSET;
  readonly kv = new Map<string, string>();
  /** Entries applied since the last restore from a snapshot, in order. */
  history: AppliedRecord[] = [];

  apply(entry: Entry): void {
    let text: string;
    if (entry.type === 'normal') {
      text = decoder.decode(entry.data);
      if (text !== '') {
        const eq = text.indexOf('=');
        if (eq >= 0) this.kv.set(text.slice(0, eq), text.slice(eq + 1));
        else this.kv.set(text, text);
      }
    } else {
      text = JSON.stringify(entry.change);
    }
    this.applied = entry.index;
    this.appliedTerm = entry.term;
    this.digest = fnvString(this.digest, `${entry.index}|${entry.term}|${entryFingerprint(entry)}`);
    this.history.push({ index: entry.index, term: entry.term, type: entry.type, text });
  }

  /** The whole state as snapshot bytes. */
  encode(): Uint8Array {
    const image: SnapshotImage = { applied: this.applied, appliedTerm: this.appliedTerm, digest: this.digest, kv: [...this.kv] };
    return encoder.encode(JSON.stringify(image));
  }

  /** Replace the whole state with a snapshot's. */
  restore(snapshot: Snapshot): void {
    const image = decodeImage(snapshot.data);
    this.applied = image.applied;
    this.appliedTerm = image.appliedTerm;
    this.digest = image.digest;
    this.kv.clear();
    for (const [k, v] of image.kv) this.kv.set(k, v);
    this.history = [];
  }

  /** Values of normal commands applied since the last restore, in order. */
  values(): string[] {
    return this.history.filter((r) => r.type === 'normal' && r.text !== '').map((r) => r.text);
  }
}

/** The applied index and digest a snapshot's bytes claim. */
export function decodeImage(data: Uint8Array): SnapshotImage {
  return JSON.parse(decoder.decode(data)) as SnapshotImage;
}
