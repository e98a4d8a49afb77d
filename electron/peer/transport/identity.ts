// A laptop's identity: an Ed25519 key pair made once and kept in the data directory. The laptop
// id is derived from the public key, so whoever proves possession of the key *is* that laptop,
// whatever address it connects from (addresses are only hints from discovery).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { IdentityError } from './errors';
import type { Logger } from './types';
import { base32 } from '../util/base32';

/** The file in the data directory that holds the private key (PKCS#8 PEM, mode 0600). */
export const IDENTITY_FILE = 'identity.pem';
const LAPTOP_ID_HASH_BYTES = 16;
/** An Ed25519 or X25519 public key in SPKI DER: a fixed 12-byte prefix (algorithm and bit string header), then the key. */
const OKP_SPKI_PREFIX_BYTES = 12;
const OKP_PUBLIC_KEY_BYTES = 32;
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
    return verify(null, data, importRawPublicKey(rawPublicKey, 'Ed25519'), signature);
  } catch {
    return false;
  }
}

/** A KeyObject from a raw 32-byte OKP public key (Ed25519 or X25519). */
export function importRawPublicKey(raw: Uint8Array, curve: 'Ed25519' | 'X25519'): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: curve, x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
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
 * The laptop's identity from `dataDir`, created on first use. The key file is created with
 * mode 0600 (only the user can read it) and published atomically, so two processes starting
 * at once agree on one key and a crash never leaves half a key behind. A key file that others
 * can read is tightened to 0600 and reported. (On Windows, modes are not enforced.) The same
 * kind of key, in `fileName`, is the signing key of the laptop's user (see electron/classroom).
 */
export async function loadOrCreateIdentity(dataDir: string, logger?: Logger, fileName = IDENTITY_FILE): Promise<Identity> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, fileName);
  const existing = await readKeyFile(path, logger);
  if (existing) return existing;
  const { privateKey } = generateKeyPairSync('ed25519');
  await publishKeyFile(dataDir, path, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  // Read back what is on disk: if another process won the race, its key is the one.
  const stored = await readKeyFile(path, logger);
  if (!stored) throw new IdentityError(`identity file ${path} vanished after it was written`);
  return stored;
}

async function readKeyFile(path: string, logger?: Logger): Promise<Identity | null> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IdentityError(`cannot read identity file ${path}: ${(error as Error).message}`);
  }
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) {
    await chmod(path, 0o600);
    logger?.warn('identity file was readable by others; restricted it to its owner', { path });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new IdentityError(`identity file ${path} is not a private key: ${(error as Error).message}`);
  }
  return identityFromPrivateKey(key);
}

/** Writes a temporary file (0600, fsynced) and links it into place; a link never replaces an existing key. */
async function publishKeyFile(dataDir: string, path: string, pem: string): Promise<void> {
  const temporary = `${path}.${randomBytes(8).toString('hex')}.tmp`; // unique even between calls in one process
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(pem);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  await syncDirectory(dataDir);
}

/** Makes the new directory entry durable, so a crash right after does not lose the identity. */
async function syncDirectory(dataDir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const handle = await open(dataDir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
