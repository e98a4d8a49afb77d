// Where the laptop keeps its secrets at rest: its own private key, its user's signing key and the
// secrets of its classes. Either sealed with a key the operating system keeps for this computer
// user (the app, through Electron's safeStorage in the main process: sealed-vault.ts), or in
// plain files only this user may read (the headless node, and the app on a system without a
// keyring: file-vault.ts). open-secret-vault.ts chooses.

/** A named store of small secrets in the data directory. Synchronous: secrets are read at start-up and written rarely. */
export interface SecretVault {
  /** How the secrets are protected on disk: sealed by the system's keyring, or in files only this user may read. */
  readonly protection: 'sealed' | 'owner-only';
  /** The secret stored as `name`, or null when there is none. Throws SecretVaultError when there is one it cannot read. */
  read(name: string): Uint8Array | null;
  /** The secret stored as `name`, storing `secret` first when there is none: whoever stores first wins, so processes starting at once agree. Durable when it returns. */
  readOrCreate(name: string, secret: Uint8Array): Uint8Array;
  /** Stores `secret` as `name` in place of whatever was there: atomic (the old or the new, never half) and durable when it returns. */
  replace(name: string, secret: Uint8Array): void;
}

/** What a sealed secret's file name ends with (identity.pem → identity.pem.sealed). */
export const SEALED_SUFFIX = '.sealed';

export type SecretVaultErrorCode =
  /** The keys are sealed, and this process has no keyring to open them with (the headless node). */
  | 'KEYS_SEALED_BY_APP'
  /** The keys are sealed, and the system's keyring cannot be used now. */
  | 'KEYRING_UNAVAILABLE'
  /** The keyring refused to open the keys: another computer user sealed them, or the keyring was reset. */
  | 'KEYS_NOT_OURS'
  /** A sealed file that does not open with the vault's key: damaged, or copied from elsewhere. */
  | 'KEY_FILE_DAMAGED'
  /** A file the operating system would not let us read or write (permissions, a full disk). */
  | 'KEY_FILE_UNREADABLE';

/** Why the laptop's secrets could not be read or written; `message` is a sentence for the person at the laptop. */
export class SecretVaultError extends Error {
  constructor(
    readonly code: SecretVaultErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SecretVaultError';
  }
}

// The sentences: what happened, that nothing was changed (never a silent new identity), and what to do.
const SENTENCES: Record<SecretVaultErrorCode, string> = {
  KEYS_SEALED_BY_APP:
    'This laptop’s Quorum keys are locked with the computer’s keyring by the Quorum app, so only the app can open them. ' +
    'Open Quorum itself, or start this node with another data folder.',
  KEYRING_UNAVAILABLE:
    'Quorum locked this laptop’s keys with the computer’s keyring, but the keyring cannot be used right now. ' +
    'Nothing was changed. Sign in to the computer as usual so that its keyring unlocks, then open Quorum again.',
  KEYS_NOT_OURS:
    'Quorum cannot unlock this laptop’s keys: they were locked by another user account on this computer, or the computer’s keyring was reset since. ' +
    'Nothing was changed. Sign in as the person who set Quorum up on this laptop; if the keyring was reset, ask whoever looks after the laptops for help.',
  KEY_FILE_DAMAGED:
    'Quorum cannot unlock one of this laptop’s keys: its file is damaged or was copied from another laptop. ' +
    'Nothing was changed. Ask whoever looks after the laptops to restore Quorum’s data folder from a backup.',
  KEY_FILE_UNREADABLE:
    'Quorum could not read or write this laptop’s keys in its data folder: the computer refused, or its disk is full. ' +
    'Ask whoever looks after the laptops to check that this user account may use its Quorum folder and that the disk has room.',
};

/** The error for `code`, with its sentence; `detail` (file, system message) goes to the log through `cause`. */
export function vaultError(code: SecretVaultErrorCode, detail?: unknown): SecretVaultError {
  const error = new SecretVaultError(code, SENTENCES[code]);
  if (detail !== undefined) error.cause = detail;
  return error;
}
