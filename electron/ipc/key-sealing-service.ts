// The main process's side of key sealing: answers the peer's seal requests with the system's
// keyring (Electron's safeStorage, passed in by electron/main/peer-process.ts; a stand-in in tests).
// Pure: the keyring comes from the caller, so every answer is tested in Node.
import { base64ToBytes, bytesToBase64, SealErrorCode, type SealAnswerMessage, type SealRequestMessage } from './key-sealing-protocol';

/** What sealing needs of Electron's safeStorage. */
export interface Keyring {
  /** Whether the system's keyring can be used (after the app is ready). */
  isEncryptionAvailable(): boolean;
  /** Linux only: the password store Electron chose. Absent on other systems. */
  getSelectedStorageBackend?(): string;
  /** `plainText` sealed; throws when the keyring cannot. */
  encryptString(plainText: string): Uint8Array;
  /** The text inside `encrypted`; throws when the keyring cannot open it. */
  decryptString(encrypted: Uint8Array): string;
}

/**
 * Linux password stores that protect nothing: 'basic_text' is a password written in Chromium's own
 * source (what Electron falls back to without a keyring), 'unknown' means none was chosen yet.
 */
const UNPROTECTED_BACKENDS = new Set(['basic_text', 'unknown']);

/** Whether `keyring` would really protect what it seals. */
export function keyringProtects(keyring: Keyring | null): keyring is Keyring {
  if (keyring === null || !keyring.isEncryptionAvailable()) return false;
  const backend = keyring.getSelectedStorageBackend?.();
  return backend === undefined || !UNPROTECTED_BACKENDS.has(backend);
}

/**
 * The answer to one seal request. The bytes are sealed as their base64 text (safeStorage seals
 * strings), so unsealing gives that text back to send as it is. Never throws.
 */
export function answerSealRequest(request: SealRequestMessage, keyring: Keyring | null): SealAnswerMessage {
  if (!keyringProtects(keyring)) {
    return refusal(request.id, SealErrorCode.unavailable, 'This computer has no keyring Quorum can use to lock its keys.');
  }
  try {
    if (request.operation === 'seal') {
      return { type: 'sealAnswer', id: request.id, ok: true, data: bytesToBase64(keyring.encryptString(request.data)) };
    }
    const text = keyring.decryptString(base64ToBytes(request.data));
    // What we sealed was base64 text; anything else means the keyring opened it with another key.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      return refusal(request.id, SealErrorCode.refused, 'The keyring opened the key into something that is not a key.');
    }
    return { type: 'sealAnswer', id: request.id, ok: true, data: text };
  } catch (error) {
    return refusal(request.id, SealErrorCode.refused, `The keyring would not ${request.operation} the key: ${(error as Error).message}`);
  }
}

function refusal(id: number, code: string, message: string): SealAnswerMessage {
  return { type: 'sealAnswer', id, ok: false, error: { code, message } };
}
