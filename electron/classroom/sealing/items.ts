// One sealed item: which item it is (bound into the ciphertext, so a ciphertext moved to another
// item, student, assignment or class does not open), how it is sealed for its readers, and how
// one reader opens it. Pure: keys are handed in.
import type { SealedItem } from '../../../shared/classroom/commands';
import { decrypt, encrypt, newContentKey, type PairwiseWrapper } from './box';

export type ItemKind = 'submission' | 'grade' | 'comment';

/** Everything that names an item; all of it is in the clear beside the ciphertext. */
export interface ItemAddress {
  classId: string;
  kind: ItemKind;
  assignmentId: string;
  studentId: string;
  /** The id of the command that carried the item. */
  itemId: string;
}

/** Someone an item is sealed for. */
export interface Reader {
  userId: string;
  /** Their box key (raw X25519 public key, base64url). */
  boxKey: string;
}

const encoder = new TextEncoder();

// Both bindings are the canonical JSON (signing.ts) of their fields, written out with the keys in
// canonical order: a whole-class view binds thousands of items, and the generic one showed in its profile.
// (test/classroom/box-keys.test.ts holds them equal.)
const json = JSON.stringify;

/** The associated data of an item's ciphertext. */
export function contentBinding(address: ItemAddress): Uint8Array {
  const { classId, kind, assignmentId, studentId, itemId } = address;
  return Buffer.from(
    `quorum-item-v1\0{"assignmentId":${json(assignmentId)},"classId":${json(classId)},"itemId":${json(itemId)},"kind":${json(kind)},"studentId":${json(studentId)}}`,
  );
}

/** The associated data of an item's content key wrapped for `userId`. */
export function keyBinding(classId: string, itemId: string, userId: string): Uint8Array {
  return Buffer.from(`quorum-item-key-v1\0{"classId":${json(classId)},"itemId":${json(itemId)},"userId":${json(userId)}}`);
}

/** `content` (JSON) sealed under a fresh content key, wrapped by `author` for each of `readers`. */
export function sealItem(address: ItemAddress, content: unknown, readers: readonly Reader[], author: PairwiseWrapper): { sealed: SealedItem; contentKey: Buffer } {
  const contentKey = newContentKey();
  const { nonce, data } = encrypt(contentKey, encoder.encode(JSON.stringify(content)), contentBinding(address));
  return {
    contentKey,
    sealed: {
      nonce: nonce.toString('base64url'),
      data: data.toString('base64url'),
      keys: readers.map((reader) => ({ userId: reader.userId, key: wrapKeyFor(contentKey, address.classId, address.itemId, reader, author) })),
    },
  };
}

/** An item's content key wrapped by `author` for one more reader. */
export function wrapKeyFor(contentKey: Uint8Array, classId: string, itemId: string, reader: Reader, author: PairwiseWrapper): string {
  return author.wrap(contentKey, reader.boxKey, keyBinding(classId, itemId, reader.userId));
}

/** The content key wrapped in `wrapped` for `userId` holding `own`, by an author whose box key `isAuthorKey` accepts; or null. */
export function unwrapKeyFor(
  wrapped: string,
  classId: string,
  itemId: string,
  userId: string,
  own: PairwiseWrapper,
  isAuthorKey: (authorPublicKey: string) => boolean,
): Buffer | null {
  return own.unwrap(wrapped, keyBinding(classId, itemId, userId), isAuthorKey);
}

/** The item's content (parsed JSON), or null when the key or the address is not the one it was sealed with. */
export function openContent(address: ItemAddress, contentKey: Uint8Array, nonce: string, data: string): unknown {
  const plaintext = decrypt(contentKey, Buffer.from(nonce, 'base64url'), Buffer.from(data, 'base64url'), contentBinding(address));
  if (plaintext === null) return null;
  try {
    return JSON.parse(plaintext.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
