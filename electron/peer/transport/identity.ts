// A laptop's identity: an Ed25519 key pair made once and kept in the data directory. The laptop
// id is derived from the public key, so whoever proves possession of the key *is* that laptop,
// whatever address it connects from (addresses are only hints from discovery).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { IdentityError } from './errors';
import type { Logger } from './types';
import { FileVault, type SecretVault } from '../secrets';
import { base32 } from '../../../shared/base32';

/** The secret in the data directory's vault that holds the private key (PKCS#8 PEM): a file of mode 0600, or sealed as identity.pem.sealed. */
export const IDENTITY_FILE = 'identity.pem';
const LAPTOP_ID_HASH_BYTES = 16;
/** An Ed25519 or X25519 public key in SPKI DER: a fixed 12-byte prefix (algorithm and bit string header), then the key. */
const OKP_SPKI_PREFIX_BYTES = 12;
const OKP_PUBLIC_KEY_BYTES = 32;
/** The SPKI DER prefixes: SEQUENCE, the algorithm (OID 1.3.101.112 Ed25519, 1.3.101.110 X25519), BIT STRING. */
const OKP_SPKI_PREFIX = {
  Ed25519: Buffer.from('302a300506032b6570032100', 'hex'),
  X25519: Buffer.from('302a300506032b656e032100', 'hex'),
} as const;
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** What the transport needs of an identity; the private key never leaves this object. */
export interface Identity {
  /** Derived from `publicKey` (see `laptopIdFromPublicKey`). */
  readonly laptopId: string;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** An Ed25519 signature of `data` (64 bytes). */
  sign(data: Uint8Array): Uint8Array;
}

/** Lowercase base32 (no padding) of the first 16 bytes of SHA-256 of the raw public key: 26 characters. */
export function laptopIdFromPublicKey(rawPublicKey: Uint8Array): string {
  return base32(createHash('sha256').update(rawPublicKey).digest().subarray(0, LAPTOP_ID_HASH_BYTES), BASE32_ALPHABET);
}

/** Whether `signature` is `publicKey`'s Ed25519 signature of `data`; false for malformed keys too. */
export function verifySignature(rawPublicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, verifyingKey(rawPublicKey), signature);
  } catch {
    return false;
  }
}

/** Keys of the authors seen lately: a class has a few dozen, and each replica checks every command. */
const verifyingKeys = new Map<string, KeyObject>();
const MAX_VERIFYING_KEYS = 1024;

function verifyingKey(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw).toString('base64');
  let key = verifyingKeys.get(id);
  if (!key) {
    key = importRawPublicKey(raw, 'Ed25519');
    if (verifyingKeys.size >= MAX_VERIFYING_KEYS) verifyingKeys.delete(verifyingKeys.keys().next().value!);
    verifyingKeys.set(id, key);
  }
  return key;
}

/** A KeyObject from a raw 32-byte OKP public key (Ed25519 or X25519). */
export function importRawPublicKey(raw: Uint8Array, curve: 'Ed25519' | 'X25519'): KeyObject {
  if (raw.byteLength !== OKP_PUBLIC_KEY_BYTES) throw new IdentityError(`an ${curve} public key is ${OKP_PUBLIC_KEY_BYTES} bytes, not ${raw.byteLength}`);
  // From SPKI DER, like exportRawPublicKey below: no JWK anywhere near a key (see there why).
  return createPublicKey({ key: Buffer.concat([OKP_SPKI_PREFIX[curve], raw]), format: 'der', type: 'spki' });
}

/**
 * The raw 32 bytes of an OKP public key, cut from its SPKI DER encoding. Never from a JWK: Node 20
 * exports a JWK while holding the key's lock, and when a garbage collection strikes in that moment
 * and finalizes the keygen job that made the key, the finalizer waits for the same lock and the
 * process hangs for good (generateKeyPairSync then export({ format: 'jwk' }) in a loop hangs
 * within seconds). Each handshake does exactly that with its ephemeral key.
 */
export function exportRawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  if (der.byteLength !== OKP_SPKI_PREFIX_BYTES + OKP_PUBLIC_KEY_BYTES) throw new IdentityError('public key has no raw form');
  return new Uint8Array(der.subarray(OKP_SPKI_PREFIX_BYTES));
}

/** Wraps an Ed25519 private key. */
export function identityFromPrivateKey(privateKey: KeyObject): Identity {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new IdentityError(`identity key must be ed25519, not ${privateKey.asymmetricKeyType ?? privateKey.type}`);
  }
  const publicKey = exportRawPublicKey(createPublicKey(privateKey));
  return {
    laptopId: laptopIdFromPublicKey(publicKey),
    publicKey,
    sign: (data) => new Uint8Array(sign(null, data, privateKey)),
  };
}

/** A fresh identity that lives only in memory (tests, tools). */
export function generateIdentity(): Identity {
  return identityFromPrivateKey(generateKeyPairSync('ed25519').privateKey);
}

/**
 * The laptop's identity from `dataDir`, created on first use. The key is kept in `vault`: by
 * default a file only the user can read (mode 0600; one that others can read is tightened and
 * reported), sealed with the system's keyring when the app passes its vault. It is published
 * atomically, so two processes starting at once agree on one key and a crash never leaves half a
 * key behind. The same kind of key, in `fileName`, is the signing key of the laptop's user (see
 * electron/classroom).
 */
export async function loadOrCreateIdentity(
  dataDir: string,
  logger?: Logger,
  fileName = IDENTITY_FILE,
  vault: SecretVault = new FileVault(dataDir, logger),
): Promise<Identity> {
  const stored = vault.read(fileName) ?? vault.readOrCreate(fileName, newPrivateKeyPem());
  const pem = Buffer.from(stored).toString('utf8');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new IdentityError(`identity file ${fileName} is not a private key: ${(error as Error).message}`);
  }
  return identityFromPrivateKey(key);
}

function newPrivateKeyPem(): Uint8Array {
  return Buffer.from(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'utf8');
}
