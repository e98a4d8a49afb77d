// The messages between the Electron main process and the classroom peer in its utilityProcess
// (`child.postMessage` one way, `process.parentPort.postMessage` the other):
//
//   main → peer  {type: 'call', id, method, params}   one API call, answered by exactly one response
//                {type: 'stop'}                       stop gracefully (hand leadership over), then exit
//   peer → main  {type: 'response', id, ok: true, result}
//                {type: 'response', id, ok: false, error: {code, message}}
//                {type: 'event', event, payload}      one per event of ApiEvents
//                {type: 'ready', laptopId, address}   the peer is open and answering calls
//
// and the peer's requests to seal its keys with the system's keyring ('seal' one way,
// 'sealAnswer' the other: key-sealing-protocol.ts).
//
// Messages are structured-cloned between the processes, so what arrives has whatever shape the
// other side gave it: each side reads every message with the reader below before acting on it.
// Method and event names come from shared/ (derived from ApiMethods and ApiEvents), so a method
// added to the API needs no change here. Pure: no Node or Electron imports, because the main
// process, the peer process and their tests in plain Node all use it.
import type { ApiError, ApiEventName, ApiEvents, ApiMethod, ApiParams } from '../../shared/api';
import { checkParams, HttpErrorCode, isApiError, isApiEventName, isApiMethod } from '../../shared/http';
import { readSealAnswer, readSealRequest, type SealAnswerMessage, type SealRequestMessage } from './key-sealing-protocol';

/** main → peer: call `method`. `params` are checked by the peer, which owns the schemas' verdict. */
export interface PeerCallMessage {
  type: 'call';
  /** Chosen by main, unique among its calls in flight; the response carries it back. */
  id: number;
  method: string;
  params: unknown;
}

/** main → peer: finish the calls under way, close the peer gracefully, and exit. */
export interface PeerStopMessage {
  type: 'stop';
}

export type MainToPeerMessage = PeerCallMessage | PeerStopMessage | SealAnswerMessage;

/** A call as the peer accepts it: a known method and parameters its schema accepts. */
export type CheckedPeerCall = { [M in ApiMethod]: { type: 'call'; id: number; method: M; params: ApiParams<M> } }[ApiMethod];

/** peer → main: the answer to the call with the same id. The id is null only when a refused message had none. */
export type PeerResponseMessage =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number | null; ok: false; error: ApiError };

/** peer → main: one event of the peer, for every window. */
export type PeerEventMessage = { [E in ApiEventName]: { type: 'event'; event: E; payload: ApiEvents[E] } }[ApiEventName];

/** peer → main: the peer opened and serves calls (calls sent earlier are answered too, once it is). */
export interface PeerReadyMessage {
  type: 'ready';
  laptopId: string;
  address: string;
}

export type PeerToMainMessage = PeerResponseMessage | PeerEventMessage | PeerReadyMessage | SealRequestMessage;

/**
 * The codes of failures on this path. Where the HTTP path has a word for the same failure, this is
 * that word, so the UI turns both transports' errors into sentences with one table.
 */
export const PeerErrorCode = {
  /** A message that is not a call or a stop, or a call without a usable id. */
  badMessage: HttpErrorCode.badRequest,
  /** A call of a method the API does not have. */
  unknownMethod: HttpErrorCode.unknownMethod,
  /** Parameters the method's schema refuses. */
  invalidParams: HttpErrorCode.invalidParams,
  /** A failure inside the peer that is not the caller's fault; the details are in the peer's log. */
  internal: HttpErrorCode.internal,
  /** The peer is shutting down and takes no new calls. */
  stopping: HttpErrorCode.unavailable,
  /** The peer process is not running (it crashed, is restarting, or could not start). */
  unreachable: HttpErrorCode.unreachable,
  /** The peer process answered with something that is not a response. */
  badResponse: HttpErrorCode.badResponse,
  /** The peer process did not answer within the relay's time limit. */
  timeout: 'TIMEOUT',
} as const;

/** What the peer makes of a message from main: something to do, or a refusal to send back. */
export type MainMessageReading =
  | { ok: true; message: CheckedPeerCall | PeerStopMessage | SealAnswerMessage }
  | { ok: false; id: number | null; error: ApiError };

/** Checks a message from main: its envelope, its method name and its parameters. Never throws. */
export function readMainMessage(value: unknown): MainMessageReading {
  if (!isRecord(value)) return refusal(null, PeerErrorCode.badMessage, 'A message to the peer must be an object.');
  if (value['type'] === 'stop') return { ok: true, message: { type: 'stop' } };
  const id = isMessageId(value['id']) ? value['id'] : null;
  if (value['type'] === 'sealAnswer') {
    const answer = readSealAnswer(value);
    // Refused without an id: the id is the peer's own request's, not a call main could match an answer to.
    return typeof answer === 'string' ? refusal(null, PeerErrorCode.badMessage, `The app sent ${answer}.`) : { ok: true, message: answer };
  }
  if (value['type'] !== 'call') return refusal(id, PeerErrorCode.badMessage, 'A message to the peer must be a call or a stop (or a seal answer).');
  if (id === null) return refusal(null, PeerErrorCode.badMessage, 'A call must have an id: a whole number, 0 or more.');
  const method = value['method'];
  if (typeof method !== 'string' || !isApiMethod(method)) return refusal(id, PeerErrorCode.unknownMethod, 'There is no such API method.');
  const params = value['params'];
  const problem = checkParams(method, params);
  if (problem) return refusal(id, PeerErrorCode.invalidParams, problem);
  return { ok: true, message: { type: 'call', id, method, params } as CheckedPeerCall };
}

/** What main makes of a message from the peer: a message, or what is wrong with it (for the log). */
export type PeerMessageReading = { ok: true; message: PeerToMainMessage } | { ok: false; problem: string };

/**
 * Checks a message from the peer. Results and payloads are trusted as they are (they come from
 * our own peer, as over HTTP); everything the relay acts on, ids and names, is checked.
 */
export function readPeerMessage(value: unknown): PeerMessageReading {
  if (!isRecord(value)) return { ok: false, problem: 'not an object' };
  switch (value['type']) {
    case 'response': {
      const id = value['id'];
      if (value['ok'] === true) {
        if (!isMessageId(id)) return { ok: false, problem: 'a result without a usable id' };
        if (!Object.hasOwn(value, 'result')) return { ok: false, problem: 'a result without a result' };
        return { ok: true, message: { type: 'response', id, ok: true, result: value['result'] } };
      }
      if (value['ok'] !== false || !isApiError(value['error'])) return { ok: false, problem: 'a response that is neither a result nor an error' };
      if (id !== null && !isMessageId(id)) return { ok: false, problem: 'an error with an unusable id' };
      const error = { code: value['error'].code, message: value['error'].message };
      return { ok: true, message: { type: 'response', id, ok: false, error } };
    }
    case 'event': {
      const event = value['event'];
      if (typeof event !== 'string' || !isApiEventName(event)) return { ok: false, problem: 'an event the API does not have' };
      if (!Object.hasOwn(value, 'payload')) return { ok: false, problem: 'an event without a payload' };
      return { ok: true, message: { type: 'event', event, payload: value['payload'] } as PeerEventMessage };
    }
    case 'ready': {
      const { laptopId, address } = value;
      if (typeof laptopId !== 'string' || typeof address !== 'string') return { ok: false, problem: 'a ready message without laptopId and address' };
      return { ok: true, message: { type: 'ready', laptopId, address } };
    }
    case 'seal': {
      const request = readSealRequest(value);
      return typeof request === 'string' ? { ok: false, problem: request } : { ok: true, message: request };
    }
    default:
      return { ok: false, problem: 'a message of no known type' };
  }
}

function refusal(id: number | null, code: string, message: string): MainMessageReading {
  return { ok: false, id, error: { code, message } };
}

function isMessageId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
