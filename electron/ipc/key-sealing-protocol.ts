// The peer's requests to seal and unseal its vault key with the system's keyring, which only the
// main process can reach (Electron's safeStorage), on the same port as the API:
//
//   peer → main  {type: 'seal', id, operation: 'seal' | 'unseal', data}   data: base64 of the bytes
//   main → peer  {type: 'sealAnswer', id, ok: true, data}
//                {type: 'sealAnswer', id, ok: false, error: {code, message}}
//
// Bytes travel as base64 text: a structured clone of a typed array arrives as a Buffer or a
// Uint8Array depending on who cloned it, text arrives as text. Pure: no Node or Electron imports.
import type { ApiError } from '../../shared/api';
import { isApiError } from '../../shared/http';

/** peer → main: seal (or unseal) `data` with the system's keyring. `id` is the peer's, unique among its requests in flight. */
export interface SealRequestMessage {
  type: 'seal';
  id: number;
  operation: 'seal' | 'unseal';
  /** base64 of the bytes to seal or unseal. */
  data: string;
}

/** main → peer: the answer to the seal request with the same id. */
export type SealAnswerMessage =
  | { type: 'sealAnswer'; id: number; ok: true; data: string }
  | { type: 'sealAnswer'; id: number; ok: false; error: ApiError };

export const SealErrorCode = {
  /** No keyring to use now: none on this system, or only Electron's fallback, which protects nothing. */
  unavailable: 'KEYRING_UNAVAILABLE',
  /** The keyring would not seal or open these bytes (another user's, or the keyring was reset). */
  refused: 'KEYRING_REFUSED',
  /** A request main could not read. */
  badRequest: 'BAD_REQUEST',
} as const;

/** Sealed or unsealed data larger than this is refused: the peer only ever seals a 32-byte key. */
export const MAX_SEAL_DATA_CHARACTERS = 64 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Checks a seal request from the peer; a string says what is wrong with it (for main's log). */
export function readSealRequest(value: Record<string, unknown>): SealRequestMessage | string {
  const { id, operation, data } = value;
  if (!isMessageId(id)) return 'a seal request without a usable id';
  if (operation !== 'seal' && operation !== 'unseal') return 'a seal request that neither seals nor unseals';
  if (!isBase64(data)) return 'a seal request whose data is not base64 text of a usable size';
  return { type: 'seal', id, operation, data };
}

/** Checks an answer from main; a string says what is wrong with it. */
export function readSealAnswer(value: Record<string, unknown>): SealAnswerMessage | string {
  const { id, ok, data, error } = value;
  if (!isMessageId(id)) return 'a seal answer without a usable id';
  if (ok === true) return isBase64(data) ? { type: 'sealAnswer', id, ok: true, data } : 'a seal answer whose data is not base64 text';
  if (ok === false && isApiError(error)) return { type: 'sealAnswer', id, ok: false, error: { code: error.code, message: error.message } };
  return 'a seal answer that is neither data nor an error';
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_SEAL_DATA_CHARACTERS && value.length % 4 === 0 && BASE64.test(value);
}

function isMessageId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
