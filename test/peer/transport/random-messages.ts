// Seeded generators of Raft messages for round-trip and exchange tests. Every test that uses
// them prints its seed; rerun one with TRANSPORT_SEED=<seed>.
import { randomInt, seededRandom, type RandomSource } from '../../../electron/raft/index';
import type { ConfChange, ConfState, Entry, Message, MessageType, SnapshotMeta } from '../../../electron/raft/types';

export const MESSAGE_TYPES: MessageType[] = [
  'app',
  'appResp',
  'vote',
  'preVote',
  'voteResp',
  'preVoteResp',
  'heartbeat',
  'heartbeatResp',
  'snap',
  'snapResp',
  'timeoutNow',
  'readIndex',
  'readIndexResp',
  'transferLeader',
];

/** The seed for this run: TRANSPORT_SEED if set, else fresh; printed so a failure can be replayed. */
export function testSeed(label: string): number {
  const fromEnv = process.env.TRANSPORT_SEED;
  const seed = fromEnv ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 32);
  console.log(`[${label}] seed ${seed} (rerun with TRANSPORT_SEED=${seed})`);
  return seed;
}

export class MessageGenerator {
  readonly random: RandomSource;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  int(lo: number, hi: number): number {
    return randomInt(this.random, lo, hi);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)]!;
  }

  bool(): boolean {
    return this.random() < 0.5;
  }

  /** Mostly small numbers, sometimes the edges where varints change length, sometimes the largest safe integer. */
  index(): number {
    const roll = this.random();
    if (roll < 0.5) return this.int(0, 200);
    if (roll < 0.8) return this.pick([127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35, 2 ** 53 - 1]);
    return Math.floor(this.random() * Number.MAX_SAFE_INTEGER);
  }

  bytes(maxLength = 300): Uint8Array {
    const length = this.random() < 0.1 ? 0 : this.int(1, maxLength + 1);
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = this.int(0, 256);
    return bytes;
  }

  /** Any string of valid Unicode: ASCII, accents, CJK, emoji (surrogate pairs), a leading BOM. */
  text(maxChars = 20): string {
    const pieces = ['a', 'Z', '0', '-', ' ', 'é', 'ß', '漢', '字', '😀', '🏫', '\u0000', '\ufeff', '\u2028'];
    let out = '';
    const length = this.int(0, maxChars + 1);
    for (let i = 0; i < length; i++) out += this.pick(pieces);
    return out;
  }

  nodeId(): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    let id = '';
    for (let i = 0; i < 26; i++) id += alphabet[this.int(0, 32)];
    return this.random() < 0.9 ? id : this.text(10) || 'x';
  }

  ids(): string[] {
    return Array.from({ length: this.int(0, 6) }, () => this.nodeId());
  }

  confChange(): ConfChange {
    const changes = Array.from({ length: this.int(0, 4) }, () => ({
      type: this.pick(['addVoter', 'addLearner', 'removeNode'] as const),
      nodeId: this.nodeId(),
    }));
    const roll = this.int(0, 4);
    if (roll === 0) return { changes };
    return { changes, transition: this.pick(['auto', 'jointImplicit', 'jointExplicit'] as const) };
  }

  entries(): Entry[] {
    const first = this.index();
    return Array.from({ length: this.int(0, 8) }, (_, i): Entry => {
      const index = Math.min(first + i, Number.MAX_SAFE_INTEGER);
      const term = this.index();
      return this.random() < 0.8 ? { type: 'normal', index, term, data: this.bytes() } : { type: 'confChange', index, term, change: this.confChange() };
    });
  }

  confState(): ConfState {
    return { voters: this.ids(), learners: this.ids(), votersOutgoing: this.ids(), learnersNext: this.ids(), autoLeave: this.bool() };
  }

  snapshotMeta(): SnapshotMeta {
    return { index: this.index(), term: this.index(), confState: this.confState() };
  }

  context(): string | null {
    return this.random() < 0.3 ? null : this.text();
  }

  message(type: MessageType, from = this.nodeId(), to = this.nodeId()): Message {
    const base = { from, to, term: this.index() };
    switch (type) {
      case 'app':
        return { ...base, type, index: this.index(), logTerm: this.index(), commit: this.index(), entries: this.entries() };
      case 'appResp':
        return { ...base, type, index: this.index(), reject: this.bool(), hintIndex: this.index(), hintTerm: this.index() };
      case 'vote':
      case 'preVote':
        return { ...base, type, index: this.index(), logTerm: this.index(), transfer: this.bool() };
      case 'voteResp':
      case 'preVoteResp':
        return { ...base, type, reject: this.bool() };
      case 'heartbeat':
        return { ...base, type, commit: this.index(), context: this.context() };
      case 'heartbeatResp':
        return { ...base, type, context: this.context() };
      case 'snap': {
        const data = this.bytes(this.random() < 0.1 ? 70_000 : 1000);
        return { ...base, type, meta: this.snapshotMeta(), attempt: this.index(), offset: this.index(), totalBytes: this.index(), data };
      }
      case 'snapResp':
        return { ...base, type, index: this.index(), attempt: this.index(), offset: this.index() };
      case 'timeoutNow':
        return { ...base, type };
      case 'readIndex':
        return { ...base, type, requestId: this.text() };
      case 'readIndexResp':
        return { ...base, type, requestId: this.text(), index: this.index() };
      case 'transferLeader':
        return { ...base, type, target: this.nodeId() };
    }
  }
}
