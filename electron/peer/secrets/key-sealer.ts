// The system's keyring as the peer sees it: in the app, Electron's safeStorage, which exists only
// in the main process, so the peer asks over its parent port (electron/headless/port-key-sealer.ts).

/** Seals and unseals small secrets with a key the operating system keeps for this computer user. */
export interface KeySealer {
  /** `secret` sealed; rejects with a KeySealerError ('unavailable' when the system has no keyring to seal with). */
  seal(secret: Uint8Array): Promise<Uint8Array>;
  /** The secret inside `sealed`; rejects with a KeySealerError ('unavailable', or 'refused' when the keyring cannot open it). */
  unseal(sealed: Uint8Array): Promise<Uint8Array>;
}

/**
 * - unavailable: no keyring to use now (none on this system, or Electron would fall back to a
 *   password written in its own source, which protects nothing)
 * - refused: the keyring could not seal or open this (another user's, or the keyring was reset)
 * - gone: the main process went away before it answered
 */
export type KeySealerFailure = 'unavailable' | 'refused' | 'gone';

export class KeySealerError extends Error {
  constructor(
    readonly failure: KeySealerFailure,
    message: string,
  ) {
    super(message);
    this.name = 'KeySealerError';
  }
}
