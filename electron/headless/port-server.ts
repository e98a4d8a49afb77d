// The peer's API over Electron's `process.parentPort`, for when the desktop app runs this node in a
// utilityProcess: the same PeerService the HTTP server serves, spoken in the messages of
// electron/ipc/peer-port-protocol.ts. Every message from the app is checked before the service
// sees it; a refused one is answered with an error saying why. Errors leave as `{code, message}`:
// a ServiceError's own, anything else as one sentence (the details go to the log, never a stack).
import type { ApiEventName } from '../../shared/api';
import { apiEventNames } from '../../shared/http';
import {
  PeerErrorCode,
  readMainMessage,
  type CheckedPeerCall,
  type PeerReadyMessage,
  type PeerToMainMessage,
} from '../ipc/peer-port-protocol';
import { ServiceError, type PeerService } from '../peer/service';
import { PortKeySealer } from './port-key-sealer';
import type { Logger } from '../peer/transport/types';

/** What the server needs of Electron's `process.parentPort` (an EventEmitter in tests). */
export interface ParentPortLike {
  on(event: 'message', listener: (messageEvent: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (messageEvent: { data: unknown }) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  postMessage(message: unknown): void;
}

/** The parent port when this process is an Electron utilityProcess; null under plain Node. */
export function utilityParentPort(): ParentPortLike | null {
  // Electron defines it in a utilityProcess only (null in its main process, absent in Node).
  return (process as unknown as { parentPort?: ParentPortLike | null }).parentPort ?? null;
}

export interface PortServerOptions {
  port: ParentPortLike;
  logger: Logger;
  /** The app asked the node to stop, or the port closed: the node should shut down gracefully. */
  onStop(reason: 'asked' | 'portClosed'): void;
  /** Calls held while the peer opens; more are refused. Default 1000. */
  maxHeldCalls?: number;
}

const INTERNAL_MESSAGE = 'Something went wrong inside the Quorum node; its log has the details.';
const STOPPING_MESSAGE = 'Quorum is shutting down and takes no new requests.';

/**
 * Listens from construction, so that a stop asked while the peer opens is heard at once; calls
 * that arrive before `serve` are held and answered once the service is there.
 */
export class PortServer {
  /** The system's keyring, reached through the app's main process over this port. */
  readonly sealer = new PortKeySealer((request) => this.post(request));
  private service: PeerService | null = null;
  private readonly held: CheckedPeerCall[] = [];
  private readonly unsubscribes: (() => void)[] = [];
  private refusing = false;
  private closed = false;
  private readonly onMessage = (messageEvent: { data: unknown }) => this.receive(messageEvent?.data);
  private readonly onClose = () => this.options.onStop('portClosed');

  constructor(private readonly options: PortServerOptions) {
    options.port.on('message', this.onMessage);
    options.port.on('close', this.onClose);
  }

  /** Answers the held calls and every later one with `service`, and forwards its events. */
  serve(service: PeerService): void {
    if (this.closed || this.service) return;
    this.service = service;
    for (const event of apiEventNames) this.unsubscribes.push(this.forwardEvent(service, event));
    for (const call of this.held.splice(0)) void this.answer(call, service);
  }

  /** Tells the app that the peer is open and serving. */
  announceReady(laptop: { laptopId: string; address: string }): void {
    const message: PeerReadyMessage = { type: 'ready', laptopId: laptop.laptopId, address: laptop.address };
    this.post(message);
  }

  /** From now on new calls are refused (the node is stopping); calls under way still get their answer. */
  refuseNewCalls(): void {
    this.refusing = true;
    for (const call of this.held.splice(0)) this.post(stoppingResponse(call.id));
  }

  /** Stops listening and forwarding events. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.refuseNewCalls();
    this.closed = true;
    this.sealer.close();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.options.port.off('message', this.onMessage);
    this.options.port.off('close', this.onClose);
  }

  private receive(data: unknown): void {
    const reading = readMainMessage(data);
    if (!reading.ok) {
      // A malformed envelope is a bug in the app; a wrong name or parameters, the caller's mistake (answered, not alarming).
      const level = reading.error.code === PeerErrorCode.badMessage ? 'warn' : 'debug';
      this.options.logger[level]('refused a message from the app', { code: reading.error.code, problem: reading.error.message });
      this.post({ type: 'response', id: reading.id, ok: false, error: reading.error });
      return;
    }
    const message = reading.message;
    if (message.type === 'stop') {
      this.options.onStop('asked');
      return;
    }
    if (message.type === 'sealAnswer') {
      this.sealer.receive(message);
      return;
    }
    if (this.refusing) {
      this.post(stoppingResponse(message.id));
    } else if (this.service) {
      void this.answer(message, this.service);
    } else if (this.held.length < (this.options.maxHeldCalls ?? 1000)) {
      this.held.push(message);
    } else {
      this.post({ type: 'response', id: message.id, ok: false, error: { code: PeerErrorCode.stopping, message: 'Quorum is still starting; try again in a moment.' } });
    }
  }

  private async answer(call: CheckedPeerCall, service: PeerService): Promise<void> {
    const started = performance.now();
    let response: PeerToMainMessage;
    try {
      // CheckedPeerCall pairs each method with its own parameters; the compiler cannot follow the pairing through an index.
      const method = service.methods[call.method] as (params: unknown) => Promise<unknown>;
      const result = await method(call.params);
      if (result === undefined) throw new Error(`${call.method} returned nothing`);
      response = { type: 'response', id: call.id, ok: true, result };
    } catch (error) {
      response = { type: 'response', id: call.id, ok: false, error: this.describe(error, call.method) };
    }
    this.options.logger.debug('api call', { method: call.method, ok: response.ok, ms: Math.round(performance.now() - started) });
    if (!this.post(response)) {
      // A result that cannot be cloned is a bug in the service; the caller still deserves an answer.
      this.post({ type: 'response', id: call.id, ok: false, error: { code: PeerErrorCode.internal, message: INTERNAL_MESSAGE } });
    }
  }

  private describe(error: unknown, method: string): { code: string; message: string } {
    if (error instanceof ServiceError) return { code: String(error.code), message: String(error.message) };
    this.options.logger.error('an API method failed', { method, error });
    return { code: PeerErrorCode.internal, message: INTERNAL_MESSAGE };
  }

  private forwardEvent(service: PeerService, event: ApiEventName): () => void {
    return service.on(event, (payload) => {
      this.post({ type: 'event', event, payload } as PeerToMainMessage);
    });
  }

  /** Sends a message; false when it could not be sent (not cloneable, port gone). */
  private post(message: PeerToMainMessage): boolean {
    try {
      this.options.port.postMessage(message);
      return true;
    } catch (error) {
      this.options.logger.error('could not send a message to the app', { type: message.type, error });
      return false;
    }
  }
}

function stoppingResponse(id: number): PeerToMainMessage {
  return { type: 'response', id, ok: false, error: { code: PeerErrorCode.stopping, message: STOPPING_MESSAGE } };
}
