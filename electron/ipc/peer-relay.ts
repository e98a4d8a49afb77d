// The main process's side of one peer process: it numbers the calls it sends, matches each
// response to its call by id, answers a call the peer leaves unanswered with TIMEOUT, and answers
// every call in flight at once when the process dies. Messages from the peer are checked before
// anything acts on them; a malformed one is logged and dropped. One relay per process: a restarted
// peer gets a new relay, so a late answer from the dead one can never match a new call.
// Pure: no Electron import, tested in Node with a fake process.
import type { ApiError, ApiMethod, ApiResponse } from '../../shared/api';
import type { ApiEventMessage } from '../../shared/http';
import { isApiMethod } from '../../shared/http';
import type { Logger } from '../peer/transport/types';
import { answerSealRequest, type Keyring } from './key-sealing-service';
import { PeerErrorCode, readPeerMessage, type MainToPeerMessage, type PeerReadyMessage } from './peer-port-protocol';

/**
 * Calls that copy a whole class (a backup of hundreds of megabytes onto a slow USB stick) may
 * take far longer than a call should; they report progress by events meanwhile.
 */
// A join may wait for a teacher to let the laptop in (JOIN_APPROVAL_WAIT_MS in the peer, 30 minutes).
export const LONG_CALLS_MS: Partial<Record<ApiMethod, number>> = { exportBackup: 60 * 60_000, restoreBackup: 60 * 60_000, joinClass: 31 * 60_000 };

export interface PeerRelayOptions {
  /** Sends a message to the peer process. */
  post(message: MainToPeerMessage): void;
  /** Every event the peer sends, as the renderer receives it. */
  onEvent(message: ApiEventMessage): void;
  /** The peer says it is open and serving. */
  onReady(message: PeerReadyMessage): void;
  logger: Logger;
  /** How long a call waits for its answer before its caller hears TIMEOUT. */
  timeoutMs: number;
  /** The system's keyring, for the peer's seal requests; absent or null: they are answered that there is none. */
  keyring?: Keyring | null;
}

interface PendingCall {
  method: ApiMethod;
  resolve(response: ApiResponse<ApiMethod>): void;
  timer: ReturnType<typeof setTimeout>;
}

const TIMEOUT_MESSAGE = 'The classroom service did not answer in time. It may be busy; try again.';

export class PeerRelay {
  // Invariant: every pending call has a running timer, and leaves the map exactly once.
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  /** Set once the process is gone: every later call fails with it. */
  private gone: ApiError | null = null;

  constructor(private readonly options: PeerRelayOptions) {}

  /** Calls in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Relays a call (from a window, so its method is checked here too); resolves with the peer's
   * response or with an error the relay made. Never rejects.
   */
  call(method: unknown, params: unknown): Promise<ApiResponse<ApiMethod>> {
    if (typeof method !== 'string' || !isApiMethod(method)) {
      return Promise.resolve(failure({ code: PeerErrorCode.unknownMethod, message: 'There is no such API method.' }));
    }
    if (this.gone) return Promise.resolve(failure(this.gone));
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        this.options.logger.warn('the peer did not answer a call in time', { method, id, timeoutMs: this.options.timeoutMs });
        resolve(failure({ code: PeerErrorCode.timeout, message: TIMEOUT_MESSAGE }));
      }, Math.max(this.options.timeoutMs, LONG_CALLS_MS[method] ?? 0));
      this.pending.set(id, { method, resolve, timer });
      try {
        this.options.post({ type: 'call', id, method, params });
      } catch (error) {
        // Electron throws here only for parameters that cannot be cloned.
        this.settle(id, failure({ code: PeerErrorCode.invalidParams, message: 'These parameters cannot be sent to the classroom service.' }));
        this.options.logger.warn('could not send a call to the peer', { method, error });
      }
    });
  }

  /** Handles one message from the peer process. */
  receive(value: unknown): void {
    const reading = readPeerMessage(value);
    if (!reading.ok) {
      this.options.logger.warn('dropped a malformed message from the peer', { problem: reading.problem });
      return;
    }
    const message = reading.message;
    switch (message.type) {
      case 'event':
        this.options.onEvent({ event: message.event, payload: message.payload } as ApiEventMessage);
        return;
      case 'ready':
        this.options.onReady(message);
        return;
      case 'seal':
        try {
          this.options.post(answerSealRequest(message, this.options.keyring ?? null));
        } catch (error) {
          this.options.logger.warn('could not answer the peer’s seal request', { id: message.id, error });
        }
        return;
      case 'response': {
        // The result's type is the method's; the peer answered the call with this id, and so this method.
        const response = (message.ok ? { ok: true, result: message.result } : failure(message.error)) as ApiResponse<ApiMethod>;
        if (message.id === null) {
          this.options.logger.warn('the peer refused a message it could not match to a call', { response });
          return;
        }
        if (!this.settle(message.id, response)) {
          // A call already answered with TIMEOUT, or an id never sent.
          this.options.logger.warn('dropped a response to no call in flight', { id: message.id });
        }
        return;
      }
    }
  }

  /** The process is gone: answers every call in flight with `error`, and every later call too. */
  disconnect(error: ApiError): void {
    this.gone = error;
    for (const id of [...this.pending.keys()]) this.settle(id, failure(error));
  }

  private settle(id: number, response: ApiResponse<ApiMethod>): boolean {
    const call = this.pending.get(id);
    if (!call) return false;
    this.pending.delete(id);
    clearTimeout(call.timer);
    call.resolve(response);
    return true;
  }
}

function failure(error: ApiError): { ok: false; error: ApiError } {
  return { ok: false, error: { code: error.code, message: error.message } };
}
