// Chooses where the laptop's secrets live. Under the app (a sealer is given): sealed, with a vault
// key the system's keyring seals, unless the system has no keyring, and then plain owner-only files.
// Under the headless node (no sealer): plain owner-only files. Once sealed, always sealed: keys
// the keyring cannot open stop the start with a sentence rather than become a new laptop.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../transport/types';
import { readIfExists, writeNewFile } from './durable-files';
import { FileVault, guarded } from './file-vault';
import { KeySealerError, type KeySealer } from './key-sealer';
import { SealedVault, VAULT_KEY_BYTES } from './sealed-vault';
import { vaultError, type SecretVault } from './secret-vault';

/** The vault key, sealed by the system's keyring; its presence means the secrets here are sealed. */
export const VAULT_KEY_FILE = 'vault-key.sealed';

export interface OpenSecretVaultOptions {
  dataDir: string;
  /** The app's keyring (through the main process); null for the headless node. */
  sealer: KeySealer | null;
  logger: Logger;
}

export async function openSecretVault({ dataDir, sealer, logger }: OpenSecretVaultOptions): Promise<SecretVault> {
  guarded(() => mkdirSync(dataDir, { recursive: true, mode: 0o700 }));
  const path = join(dataDir, VAULT_KEY_FILE);
  const sealedKey = guarded(() => readIfExists(path));
  if (sealer === null) {
    if (sealedKey !== null) throw vaultError('KEYS_SEALED_BY_APP', { path });
    return new FileVault(dataDir, logger);
  }
  if (sealedKey !== null) return new SealedVault(dataDir, await unsealVaultKey(sealer, sealedKey), logger);

  const vaultKey = new Uint8Array(randomBytes(VAULT_KEY_BYTES));
  let sealed: Uint8Array;
  try {
    sealed = await sealer.seal(vaultKey);
  } catch (error) {
    if (!(error instanceof KeySealerError) || error.failure !== 'unavailable') throw error;
    logger.info('the system has no keyring to seal keys with; keeping them in files only this user can read', { reason: error.message });
    return new FileVault(dataDir, logger);
  }
  guarded(() => writeNewFile(path, sealed));
  // Another process may have written its vault key first: the one on disk is the one.
  const stored = guarded(() => readIfExists(path)) ?? Buffer.alloc(0);
  const key = stored.equals(sealed) ? vaultKey : await unsealVaultKey(sealer, stored);
  logger.info('sealing this laptop’s keys with the system’s keyring');
  return new SealedVault(dataDir, key, logger);
}

async function unsealVaultKey(sealer: KeySealer, sealedKey: Uint8Array): Promise<Uint8Array> {
  let key: Uint8Array;
  try {
    key = await sealer.unseal(sealedKey);
  } catch (error) {
    if (!(error instanceof KeySealerError)) throw error;
    throw vaultError(error.failure === 'refused' ? 'KEYS_NOT_OURS' : 'KEYRING_UNAVAILABLE', error);
  }
  // A keyring that answers with something else than a key did not open ours.
  if (key.byteLength !== VAULT_KEY_BYTES) throw vaultError('KEYS_NOT_OURS', { problem: `the unsealed vault key has ${key.byteLength} bytes` });
  return key;
}
