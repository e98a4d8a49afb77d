// Proving knowledge of class secrets without sending them, and without telling a peer anything
// about a class it cannot prove itself.
//
// Each class secret is stretched into a class key (HKDF, bound to the class tag). A proof is an
// HMAC under that key over the session's transcript hash and the prover's role, so it is fresh
// per connection, cannot be reflected back, and to anyone without the key it is 32 random bytes.
// Proofs carry no class tag: the verifier recomputes the proof it would expect for each of *its*
// classes and looks for a match, so a class is only ever named to a peer that proved it.
//
// A class's secret is replaced when a member is removed (they knew it). Laptops of the class that
// were away then still know only an earlier secret, so each class keeps its earlier secrets too:
// we prove every one of them, and accept a peer's proof of an earlier one only from a laptop the
// class still counts as its own (the keyring's `mayUseEarlierSecret`). A removed member's copy of
// the old secret then opens no connection to a laptop that knows of the new one.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { checkClassTag, MAX_CLASS_PROOFS, PROOF_BYTES } from './codec';
import type { Role } from './handshake';

const CLASS_KEY_SALT = 'quorum/class-key/1';
const CLASS_PROOF_LABEL = 'quorum/class-proof/1';
/** Shorter secrets could be guessed offline from one recorded proof. */
export const MIN_CLASS_SECRET_BYTES = 16;
/** Decoys pad the proof list to a multiple of this, so its length says little about how many classes we have. */
const PROOF_PADDING = 4;
/** Room for decoys within the wire limit. */
export const MAX_CLASSES = MAX_CLASS_PROOFS - PROOF_PADDING;

/** A class's keys: the current one, and those of its earlier secrets (newest first). */
interface ClassKeys {
  current: Uint8Array;
  earlier: Uint8Array[];
}

/** Whether laptop `laptopId` may share class `classTag` by proving one of its earlier secrets. */
export type EarlierSecretPolicy = (classTag: string, laptopId: string) => boolean;

/** The most earlier secrets a class keeps: a laptop away for more rotations than this must be let in again. */
export const MAX_EARLIER_SECRETS = 16;

/** The classes this laptop belongs to, as keys derived from their secrets. Shared by all connections. */
export class ClassKeyring {
  private readonly keys = new Map<string, ClassKeys>();
  /** Nobody proves an earlier secret until the owner says who may. */
  mayUseEarlierSecret: EarlierSecretPolicy = () => false;

  /**
   * Adds or replaces a class, with the secrets it had before (`earlier`, newest first). Throws
   * RangeError for a bad tag, a short secret or too many classes.
   */
  set(classTag: string, secret: Uint8Array, earlier: readonly Uint8Array[] = []): void {
    checkClassTag(classTag);
    for (const each of [secret, ...earlier]) {
      if (each.byteLength < MIN_CLASS_SECRET_BYTES) throw new RangeError(`class secret must be at least ${MIN_CLASS_SECRET_BYTES} bytes`);
    }
    const kept = earlier.slice(0, MAX_EARLIER_SECRETS);
    const others = [...this.keys].filter(([tag]) => tag !== classTag).reduce((sum, [, keys]) => sum + 1 + keys.earlier.length, 0);
    if (others + 1 + kept.length > MAX_CLASSES) throw new RangeError(`at most ${MAX_CLASSES} class secrets`);
    const derive = (each: Uint8Array) => new Uint8Array(hkdfSync('sha256', each, CLASS_KEY_SALT, classTag, 32));
    this.keys.set(classTag, { current: derive(secret), earlier: kept.map(derive) });
  }

  delete(classTag: string): boolean {
    return this.keys.delete(classTag);
  }

  has(classTag: string): boolean {
    return this.keys.has(classTag);
  }

  tags(): string[] {
    return [...this.keys.keys()];
  }

  /** The current key of a class; a new object whenever the class is (re)joined or its secret replaced. */
  key(classTag: string): Uint8Array | undefined {
    return this.keys.get(classTag)?.current;
  }

  /** The proof that `role` knows `classTag`'s current secret in the session with `transcriptHash`. */
  proof(classTag: string, role: Role, transcriptHash: Uint8Array): Uint8Array {
    const keys = this.keys.get(classTag);
    if (!keys) throw new RangeError(`not a member of class ${classTag}`);
    return classProof(keys.current, role, transcriptHash);
  }

  /** Proofs of each of `classTag`'s earlier secrets. */
  earlierProofs(classTag: string, role: Role, transcriptHash: Uint8Array): Uint8Array[] {
    return (this.keys.get(classTag)?.earlier ?? []).map((key) => classProof(key, role, transcriptHash));
  }
}

export function classProof(classKey: Uint8Array, role: Role, transcriptHash: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', classKey).update(CLASS_PROOF_LABEL).update(role).update(transcriptHash).digest());
}

/**
 * Which classes one connection carries. A class is shared once the peer proved it and we hold
 * it; the peer learns the same by checking our proofs. We send raft frames for a class only
 * after our own proof for it went out on this connection, so the peer never sees a class tag
 * before it could verify that we know the class.
 */
export class SessionClasses {
  /** Every proof the peer sent (hex), matched or not: a class we join later may match one. */
  private readonly peerProofs = new Set<string>();
  /** Classes whose proof we sent on this connection, with the key it was made from. */
  private readonly announced = new Map<string, Uint8Array>();
  private shared = new Set<string>();
  /** Who the peer is, once its identity is verified: a proof of an earlier secret counts only then. */
  private peerLaptopId: string | null = null;
  /** Classes shared at any time, so a message for a class we just left is dropped rather than called an attack. */
  private readonly everShared = new Set<string>();

  constructor(
    private readonly keyring: ClassKeyring,
    private readonly ownRole: Role,
    private readonly peerRole: Role,
    private readonly transcriptHash: Uint8Array,
  ) {}

  /** The peer's verified laptop id. */
  identify(peerLaptopId: string): void {
    this.peerLaptopId = peerLaptopId;
  }

  /** Proofs for all our classes, padded with decoys and sorted so neither count nor order gives them away. */
  announceAll(): Uint8Array[] {
    const proofs = this.keyring.tags().flatMap((tag) => this.announce(tag));
    const padded = Math.max(PROOF_PADDING, Math.ceil(proofs.length / PROOF_PADDING) * PROOF_PADDING);
    while (proofs.length < padded) proofs.push(new Uint8Array(randomBytes(PROOF_BYTES)));
    return proofs.sort(compareBytes);
  }

  /** Proofs for classes joined (or rejoined with another secret) since the last announcement; marks them announced. */
  announceNew(): Uint8Array[] {
    return this.keyring
      .tags()
      .filter((tag) => this.announced.get(tag) !== this.keyring.key(tag))
      .flatMap((tag) => this.announce(tag));
  }

  /** The current secret's proof and the earlier ones', so a laptop that missed a new secret still knows us. */
  private announce(classTag: string): Uint8Array[] {
    this.announced.set(classTag, this.keyring.key(classTag)!);
    return [this.keyring.proof(classTag, this.ownRole, this.transcriptHash), ...this.keyring.earlierProofs(classTag, this.ownRole, this.transcriptHash)];
  }

  /** Records proofs from the peer; false if it sent more than any laptop could need. */
  receiveProofs(proofs: Uint8Array[]): boolean {
    for (const proof of proofs) this.peerProofs.add(Buffer.from(proof).toString('hex'));
    return this.peerProofs.size <= MAX_CLASS_PROOFS * 2;
  }

  /** Recomputes the shared set from the keyring and the peer's proofs; true if it changed. */
  rematch(): boolean {
    const proved = (proof: Uint8Array) => this.peerProofs.has(Buffer.from(proof).toString('hex'));
    const provedByPeer = (tag: string) =>
      proved(this.keyring.proof(tag, this.peerRole, this.transcriptHash)) ||
      (this.peerLaptopId !== null &&
        this.keyring.earlierProofs(tag, this.peerRole, this.transcriptHash).some(proved) &&
        this.keyring.mayUseEarlierSecret(tag, this.peerLaptopId));
    const next = new Set(this.keyring.tags().filter(provedByPeer));
    const changed = next.size !== this.shared.size || [...next].some((tag) => !this.shared.has(tag));
    this.shared = next;
    for (const tag of next) this.everShared.add(tag);
    return changed;
  }

  /** Whether raft frames for `classTag` may be sent: the peer proved it and so did we. */
  canSend(classTag: string): boolean {
    return this.shared.has(classTag) && this.announced.get(classTag) === this.keyring.key(classTag);
  }

  /** Whether raft frames for `classTag` may be received now. */
  canReceive(classTag: string): boolean {
    return this.shared.has(classTag);
  }

  /** Whether `classTag` was shared at some point on this connection. */
  wasShared(classTag: string): boolean {
    return this.everShared.has(classTag);
  }

  list(): string[] {
    return [...this.shared].sort();
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
