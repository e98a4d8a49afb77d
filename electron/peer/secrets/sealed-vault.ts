// Secrets sealed at rest: each file is encrypted (AES-256-GCM) with the vault key, and the vault
// key itself is sealed by the system's keyring (open-secret-vault.ts). One key from the keyring
// instead of one keyring call per secret: a single round trip to the main process at start-up,
// and the class registry can keep writing synchronously when a class is added.
//
// A plain file left by the headless node or an older version is sealed the first time it is read,
// and removed only once its sealed copy is durably written and opens again.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../transport/types';
import { readIfExists, removeFile, replaceFile, writeNewFile } from './durable-files';
import { guarded } from './file-vault';
import { SEALED_SUFFIX, vaultError, type SecretVault } from './secret-vault';

/** The bytes of a vault key (AES-256). */
export const VAULT_KEY_BYTES = 32;
// Sealed file: MAGIC | nonce (12) | tag (16) | ciphertext. The file's name is authenticated data,
// so a sealed file renamed to another secret's name does not open.
const MAGIC = Buffer.from('QSV1');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SealedVault implements SecretVault {
  readonly protection = 'sealed';

  constructor(
    private readonly dataDir: string,
    private readonly vaultKey: Uint8Array,
    private readonly logger?: Logger,
  ) {
    if (vaultKey.byteLength !== VAULT_KEY_BYTES) throw new RangeError(`a vault key has ${VAULT_KEY_BYTES} bytes, not ${vaultKey.byteLength}`);
  }

  read(name: string): Uint8Array | null {
    const sealedPath = this.sealedPath(name);
    const plainPath = join(this.dataDir, name);
    const sealed = guarded(() => readIfExists(sealedPath));
    if (sealed !== null) {
      const secret = this.open(name, sealed);
      // Both there: a migration stopped after its sealed copy was durable, so the plain one is its leftover.
      if (existsSync(plainPath)) this.removePlain(name, plainPath);
      return secret;
    }
    const plain = guarded(() => readIfExists(plainPath));
    if (plain === null) return null;
    guarded(() => writeNewFile(sealedPath, this.seal(name, plain)));
    // What is on disk now (ours, or a racing process's copy of the same file) must open before the plain file goes.
    const stored = this.open(name, guarded(() => readIfExists(sealedPath)) ?? Buffer.alloc(0));
    this.removePlain(name, plainPath);
    this.logger?.info('sealed a key file that was kept in plain until now', { name });
    return stored;
  }

  readOrCreate(name: string, secret: Uint8Array): Uint8Array {
    const stored = this.read(name);
    if (stored) return stored;
    guarded(() => {
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
      writeNewFile(this.sealedPath(name), this.seal(name, secret));
    });
    // Read back what is on disk: if another process won the race, its secret is the one.
    return this.read(name) ?? secret;
  }

  replace(name: string, secret: Uint8Array): void {
    guarded(() => {
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
      replaceFile(this.sealedPath(name), this.seal(name, secret));
    });
    const plainPath = join(this.dataDir, name);
    if (existsSync(plainPath)) this.removePlain(name, plainPath);
  }

  private sealedPath(name: string): string {
    return join(this.dataDir, name + SEALED_SUFFIX);
  }

  private seal(name: string, secret: Uint8Array): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.vaultKey, nonce);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
    return Buffer.concat([MAGIC, nonce, cipher.getAuthTag(), ciphertext]);
  }

  private open(name: string, sealed: Buffer): Uint8Array {
    const header = MAGIC.byteLength + NONCE_BYTES + TAG_BYTES;
    if (sealed.byteLength < header || !sealed.subarray(0, MAGIC.byteLength).equals(MAGIC)) {
      throw vaultError('KEY_FILE_DAMAGED', { name, problem: 'not a sealed file' });
    }
    const nonce = sealed.subarray(MAGIC.byteLength, MAGIC.byteLength + NONCE_BYTES);
    const tag = sealed.subarray(MAGIC.byteLength + NONCE_BYTES, header);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.vaultKey, nonce);
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(tag);
      return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(header)), decipher.final()]));
    } catch (error) {
      throw vaultError('KEY_FILE_DAMAGED', { name, problem: (error as Error).message });
    }
  }

  private removePlain(name: string, plainPath: string): void {
    guarded(() => removeFile(plainPath));
    this.logger?.debug('removed a plain key file that has a sealed copy', { name });
  }
}
