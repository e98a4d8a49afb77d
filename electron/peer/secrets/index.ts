// The laptop's secrets at rest: see secret-vault.ts for the contract and open-secret-vault.ts for the choice.
export { FileVault } from './file-vault';
export { KeySealerError, type KeySealer, type KeySealerFailure } from './key-sealer';
export { openSecretVault, VAULT_KEY_FILE, type OpenSecretVaultOptions } from './open-secret-vault';
export { SealedVault } from './sealed-vault';
export { SEALED_SUFFIX, SecretVaultError, type SecretVault, type SecretVaultErrorCode } from './secret-vault';
export { BOX_KEY_FILE, loadOrCreateBoxKey } from './box-key';
