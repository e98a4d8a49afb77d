// The cryptography of sealed items, all from node:crypto: a random 256-bit content key per item,
// AES-256-GCM over the item's secret fields, and the content key wrapped for each recipient's
// X25519 "box key" (the author's and the reader's box keys agree on a secret once, HKDF-SHA256 per
// wrap, AES-256-GCM). No I/O: the private key is handed in by whoever keeps it (the peer, from the
// laptop's secret vault).
import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { exportRawPublicKey, importRawPublicKey } from '../../peer/transport/identity';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A user's X25519 key pair: the public half travels in the class, the private half never leaves the laptop. */
export interface BoxKeyPair {
  /** Raw public key, base64url (43 characters). */
  publicKey: string;
  privateKey: KeyObject;
}

export function generateBoxKeyPair(): BoxKeyPair {
  return boxKeyPairOf(generateKeyPairSync('x25519').privateKey);
}

/** The key pair kept as PKCS#8 DER bytes (what the secret vault stores). */
export function boxKeyPairFromPkcs8(der: Uint8Array): BoxKeyPair {
  const privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  if (privateKey.asymmetricKeyType !== 'x25519') throw new Error(`a box key is an X25519 key, not ${privateKey.asymmetricKeyType}`);
  return boxKeyPairOf(privateKey);
}

export function boxKeyPkcs8(pair: BoxKeyPair): Uint8Array {
  return new Uint8Array(pair.privateKey.export({ format: 'der', type: 'pkcs8' }));
}

// Raw keys go through SPKI DER, never JWK: Node 20 can hang for good exporting a JWK of a fresh
// key (see exportRawPublicKey).
function boxKeyPairOf(privateKey: KeyObject): BoxKeyPair {
  return { publicKey: Buffer.from(exportRawPublicKey(createPublicKey(privateKey))).toString('base64url'), privateKey };
}

function publicKeyOf(raw: string): KeyObject {
  return importRawPublicKey(Buffer.from(raw, 'base64url'), 'X25519');
}

/** A fresh content key for one item. */
export function newContentKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** `plaintext` under `key`, bound to `associatedData`: nonce, and ciphertext with its tag at the end. */
export function encrypt(key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array, nonce: Uint8Array = randomBytes(NONCE_BYTES)): { nonce: Buffer; data: Buffer } {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associatedData);
  const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce: Buffer.from(nonce), data };
}

/** The plaintext, or null when the key, the nonce, the data or the associated data is not the one it was sealed with. */
export function decrypt(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, associatedData: Uint8Array): Buffer | null {
  if (nonce.byteLength !== NONCE_BYTES || data.byteLength < TAG_BYTES || key.byteLength !== KEY_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(associatedData);
    decipher.setAuthTag(data.subarray(data.byteLength - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(0, data.byteLength - TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}

/** The first byte of a wrapped key: which way it was wrapped. */
const WRAP_VERSION = 2;
const SALT_BYTES = 11;
/** version | author's box key | salt | tag | wrapped key: 92 bytes, the size the command schema allows. */
const WRAPPED_BYTES = 1 + KEY_BYTES + SALT_BYTES + TAG_BYTES + KEY_BYTES;
/** Pairwise secrets one user keeps in memory: one per other box key met, a few hundred in a year of classes. */
const MAX_PAIRS = 10_000;

/**
 * One user's box key pair, wrapping content keys for readers and unwrapping those wrapped for
 * them. A wrap uses the secret the author's and the reader's box keys agree on (static X25519 on
 * both sides), agreed once per pair and kept, so opening a gradebook costs one key agreement per
 * author met (a class has few teachers) instead of one per item. Each wrap has its own key,
 * derived from that secret with the wrap's random salt and its associated data (which names the
 * class, the item and the reader), so wraps of different items never share a key.
 * Unlike an ephemeral key per wrap, the author's box key also opens what they wrapped: no loss,
 * as forward secrecy was never had (every box key stays on its laptop for good, and the reader's
 * always opened everything wrapped for it). Anyone can wrap a key for a reader under a key pair
 * of their own; a reader accepts only wraps whose author key the caller vouches for (one
 * registered in the class), so a forged wrap does not open.
 */
export class PairwiseWrapper {
  private readonly pairs = new Map<string, Buffer>();
  private readonly ownPublic: Buffer;

  constructor(readonly own: BoxKeyPair) {
    this.ownPublic = Buffer.from(own.publicKey, 'base64url');
  }

  /**
   * `contentKey` wrapped by this user for the holder of `readerPublicKey`, bound to
   * `associatedData`, base64url: version | this user's box key | salt | tag | wrapped key.
   */
  wrap(contentKey: Uint8Array, readerPublicKey: string, associatedData: Uint8Array): string {
    if (contentKey.byteLength !== KEY_BYTES) throw new Error('a content key is 32 bytes');
    const pair = this.pairWith(readerPublicKey);
    if (!pair) throw new Error('the reader’s box key is not an X25519 public key that agrees on a secret');
    const salt = randomBytes(SALT_BYTES);
    const wrappingKey = wrapKeyOf(pair, this.ownPublic, Buffer.from(readerPublicKey, 'base64url'), salt, associatedData);
    const { data } = encrypt(wrappingKey, contentKey, associatedData, ZERO_NONCE);
    const ciphertext = data.subarray(0, KEY_BYTES);
    const tag = data.subarray(KEY_BYTES);
    return Buffer.concat([Buffer.of(WRAP_VERSION), this.ownPublic, salt, tag, ciphertext]).toString('base64url');
  }

  /**
   * The content key inside `wrapped`, or null when it was not wrapped for this user with this
   * associated data, was altered, or names an author key `isAuthorKey` does not vouch for. Never throws.
   */
  unwrap(wrapped: string, associatedData: Uint8Array, isAuthorKey: (authorPublicKey: string) => boolean): Buffer | null {
    const bytes = Buffer.from(wrapped, 'base64url');
    if (bytes.byteLength !== WRAPPED_BYTES || bytes[0] !== WRAP_VERSION) return null;
    const authorPublic = bytes.subarray(1, 1 + KEY_BYTES);
    const authorKey = authorPublic.toString('base64url');
    if (!isAuthorKey(authorKey)) return null;
    const pair = this.pairWith(authorKey);
    if (!pair) return null;
    let offset = 1 + KEY_BYTES;
    const salt = bytes.subarray(offset, (offset += SALT_BYTES));
    const tag = bytes.subarray(offset, (offset += TAG_BYTES));
    const ciphertext = bytes.subarray(offset);
    const wrappingKey = wrapKeyOf(pair, authorPublic, this.ownPublic, salt, associatedData);
    return decrypt(wrappingKey, ZERO_NONCE, Buffer.concat([ciphertext, tag]), associatedData);
  }

  /** The secret this user's box key agrees on with `otherPublicKey`, agreed once; null for a key that is no X25519 key or agrees on nothing (a low-order point). */
  private pairWith(otherPublicKey: string): Buffer | null {
    const known = this.pairs.get(otherPublicKey);
    if (known) return known;
    const other = Buffer.from(otherPublicKey, 'base64url');
    if (other.byteLength !== KEY_BYTES) return null;
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: this.own.privateKey, publicKey: publicKeyOf(otherPublicKey) });
    } catch {
      return null;
    }
    // Salted with both public keys in a fixed order, so author and reader derive the same secret.
    const [first, second] = Buffer.compare(this.ownPublic, other) <= 0 ? [this.ownPublic, other] : [other, this.ownPublic];
    const pair = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([first, second]), PAIR_INFO, KEY_BYTES));
    if (this.pairs.size >= MAX_PAIRS) this.pairs.delete(this.pairs.keys().next().value as string);
    this.pairs.set(otherPublicKey, pair);
    return pair;
  }
}

/** Separates these keys from any other use of the same key agreement. */
const PAIR_INFO = 'quorum-box-pair-v2';
const WRAP_INFO = Buffer.from('quorum-item-key-v2\0');
// Every wrap's key is its own (a fresh salt, and the item in its associated data), so a fixed nonce never repeats under one key.
const ZERO_NONCE = Buffer.alloc(NONCE_BYTES);

/**
 * One wrap's key: HKDF-Expand (RFC 5869, one block, so one HMAC) of the pair's secret over who
 * wrapped for whom, the salt and the associated data.
 */
function wrapKeyOf(pair: Buffer, authorPublic: Uint8Array, readerPublic: Uint8Array, salt: Uint8Array, associatedData: Uint8Array): Buffer {
  return createHmac('sha256', pair)
    .update(WRAP_INFO)
    .update(authorPublic)
    .update(readerPublic)
    .update(salt)
    .update(associatedData)
    .update(Buffer.of(1))
    .digest();
}
