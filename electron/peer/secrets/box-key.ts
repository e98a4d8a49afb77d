// The user's box key (X25519), kept beside their signing key in the laptop's secret vault: the
// class's private items are sealed for its public half, and only this laptop can open them.
import { boxKeyPairFromPkcs8, boxKeyPkcs8, generateBoxKeyPair, type BoxKeyPair } from '../../classroom';
import { vaultError, type SecretVault } from './secret-vault';

/** Where the box key is kept (PKCS#8 DER), sealed or owner-only like every other secret. */
export const BOX_KEY_FILE = 'user-box-key.der';

/** This laptop user's box key, made on first run. A stored key that does not read stops the start with a sentence rather than become a new key. */
export function loadOrCreateBoxKey(vault: SecretVault): BoxKeyPair {
  const stored = vault.readOrCreate(BOX_KEY_FILE, boxKeyPkcs8(generateBoxKeyPair()));
  try {
    return boxKeyPairFromPkcs8(stored);
  } catch (error) {
    throw vaultError('KEY_FILE_DAMAGED', { name: BOX_KEY_FILE, problem: (error as Error).message });
  }
}
