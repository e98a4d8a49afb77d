// The cryptography of sealed items, all from node:crypto: a random 256-bit content key per item,
// AES-256-GCM over the item's secret fields, and the content key wrapped for each recipient's
// X25519 "box key" (an ephemeral X25519 key agreement, HKDF-SHA256, AES-256-GCM). No I/O: the
// private key is handed in by whoever keeps it (the peer, from the laptop's secret vault).
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { exportRawPublicKey, importRawPublicKey } from '../../peer/transport/identity';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Separates these keys from any other use of the same key agreement. */
const WRAP_INFO = 'quorum-item-key-v1';

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
// key (see exportRawPublicKey), and every sealed item makes a fresh ephemeral key.
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

/**
 * `contentKey` wrapped for the holder of `recipientPublicKey`, bound to `associatedData` (which
 * names the item and the recipient): ephemeral public key | nonce | tag | wrapped key, base64url.
 */
export function wrapKey(contentKey: Uint8Array, recipientPublicKey: string, associatedData: Uint8Array): string {
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralPublic = Buffer.from(exportRawPublicKey(ephemeral.publicKey));
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: publicKeyOf(recipientPublicKey) });
  const wrappingKey = wrappingKeyOf(shared, ephemeralPublic, Buffer.from(recipientPublicKey, 'base64url'));
  const { nonce, data } = encrypt(wrappingKey, contentKey, associatedData);
  const ciphertext = data.subarray(0, data.byteLength - TAG_BYTES);
  const tag = data.subarray(data.byteLength - TAG_BYTES);
  return Buffer.concat([ephemeralPublic, nonce, tag, ciphertext]).toString('base64url');
}

/** The content key inside `wrapped`, or null when it was not wrapped for `own` with this associated data. */
export function unwrapKey(wrapped: string, own: BoxKeyPair, associatedData: Uint8Array): Buffer | null {
  const bytes = Buffer.from(wrapped, 'base64url');
  if (bytes.byteLength !== KEY_BYTES + NONCE_BYTES + TAG_BYTES + KEY_BYTES) return null;
  const ephemeralPublic = bytes.subarray(0, KEY_BYTES);
  const nonce = bytes.subarray(KEY_BYTES, KEY_BYTES + NONCE_BYTES);
  const tag = bytes.subarray(KEY_BYTES + NONCE_BYTES, KEY_BYTES + NONCE_BYTES + TAG_BYTES);
  const ciphertext = bytes.subarray(KEY_BYTES + NONCE_BYTES + TAG_BYTES);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: own.privateKey, publicKey: publicKeyOf(ephemeralPublic.toString('base64url')) });
  } catch {
    return null;
  }
  const wrappingKey = wrappingKeyOf(shared, ephemeralPublic, Buffer.from(own.publicKey, 'base64url'));
  return decrypt(wrappingKey, nonce, Buffer.concat([ciphertext, tag]), associatedData);
}

/** HKDF-SHA256 over the shared secret, salted with both public keys so each wrap has its own key. */
function wrappingKeyOf(shared: Buffer, ephemeralPublic: Buffer, recipientPublic: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralPublic, recipientPublic]), WRAP_INFO, KEY_BYTES));
}
