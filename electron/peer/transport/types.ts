// The transport's contract: what the peer's Raft groups see of the network. One connection per
// pair of laptops carries every class both belong to; messages are addressed by laptop id and
// class tag, never by address.
import type { Message } from '../../raft/types';
import type { RequestFailureCode } from './errors';

/** Where discovery last saw a laptop; only a hint, the laptop's key decides who it is. */
export interface PeerAddress {
  host: string;
  port: number;
}

/** Which side opened a connection. */
export type Direction = 'outgoing' | 'incoming';

/** Why a connection ended; `stats().closes` counts each. */
export type CloseCause =
  | 'malformed' // a frame that does not decode
  | 'tooLarge' // a frame over the size limit
  | 'authentication' // a sealed frame that does not decrypt: tampered, replayed, reordered, forged
  | 'handshake' // a bad signature, an unexpected frame during the handshake, a bad key
  | 'protocol' // a well-formed frame that breaks the rules (wrong kind, class not proven, forged sender)
  | 'noSharedClass' // the peer proved no class this laptop belongs to
  | 'unexpectedIdentity' // the laptop at the dialed address is not the one we dialed
  | 'handshakeTimeout'
  | 'heartbeatTimeout'
  | 'tooManyHandshakes' // the limit on unauthenticated connections was reached
  | 'tooManyFailures' // the host failed to prove a class too often lately (see failure-limit.ts)
  | 'duplicate' // another connection to the same laptop won the tie-break
  | 'addressChanged' // discovery moved the peer while we were dialing its old address
  | 'removed' // removePeer
  | 'stopped' // this transport stopped
  | 'remoteClosed' // the peer closed it (its reason is in the detail)
  | 'socketError'; // the network failed (refused, reset, unreachable)

/** Why an outgoing message was not queued; `stats().drops` counts each. Raft retransmits what matters. */
export type DropReason = 'notConnected' | 'queueFull' | 'classNotShared' | 'tooLarge';

/** A change in whether a laptop can be reached and for which classes. */
export type PeerStateEvent =
  | { laptopId: string; state: 'connected'; direction: Direction; classes: string[] }
  | { laptopId: string; state: 'updated'; classes: string[] }
  | { laptopId: string; state: 'disconnected'; cause: CloseCause; detail: string };

/** Receives a Raft message for `classTag` from the authenticated laptop `from`. */
export type MessageHandler = (from: string, classTag: string, message: Message) => void;
export type PeerStateHandler = (event: PeerStateEvent) => void;
/**
 * Answers a request for `classTag` from the authenticated laptop `from` with a payload. A throw
 * or rejection is answered with the error code `HANDLER_FAILED`; its message stays in our log.
 */
export type RequestHandler = (from: string, classTag: string, payload: Uint8Array) => Promise<Uint8Array>;

/** The error codes this transport answers requests with; the caller sees them as `RequestFailedError.remoteCode`. */
export type RequestErrorCode =
  | 'NO_HANDLER' // nothing is registered with onRequest
  | 'HANDLER_FAILED' // the handler threw, rejected, or resolved with something other than bytes
  | 'BUSY' // too many of the peer's requests (or bytes of them) are being handled on this connection
  | 'CLASS_NOT_SHARED' // we left the class since the peer sent the request
  | 'RESPONSE_TOO_LARGE'; // the handler's payload does not fit in one frame

/** What a peer looks like right now, for status screens and tests. */
export interface PeerStats {
  connected: boolean;
  /** Direction of the connection in use, or null when not connected. */
  direction: Direction | null;
  /** Classes both laptops proved on the connection in use. */
  classes: string[];
  /** Bytes waiting in the bounded send queue. */
  queuedBytes: number;
  /** Bytes handed to the socket that the peer has not taken yet (`ws.bufferedAmount`). */
  socketBufferedBytes: number;
  /** Messages to this peer dropped because its queue was full. */
  droppedQueueFull: number;
  /** Our requests to this peer waiting for their response. */
  requestsPending: number;
  /** This peer's requests our handler is working on. Invariant: at most `maxIncomingRequests`. */
  requestsServing: number;
}

/** Requests both ways (see `Transport.request`); counters since construction. */
export interface RequestStats {
  /** Our requests queued for a peer. Invariant: sent = answered + (those failed after sending) + pending. */
  sent: number;
  /** Our requests a peer answered with a payload. */
  answered: number;
  /** Our requests that rejected, by code, including those refused before sending. */
  failed: Record<RequestFailureCode, number>;
  /** Peers' requests handed to our handler (or answered NO_HANDLER). */
  served: number;
  /** Peers' requests answered BUSY because too many were being handled on their connection. */
  refusedBusy: number;
  /** Answers to peers dropped because their send queue was full; the peer times out. */
  responsesDropped: number;
  /** Responses matching none of our requests in flight: late ones after a timeout, or a broken peer's. */
  unmatchedResponses: number;
}

/** Counters since construction; a copy, safe to keep. */
export interface TransportStats {
  /** Connections not yet closed, authenticated or not (a gauge, not a counter). */
  openConnections: number;
  connectionsAccepted: number;
  connectionsDialed: number;
  handshakesCompleted: number;
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  drops: Record<DropReason, number>;
  closes: Record<CloseCause, number>;
  requests: RequestStats;
}

/** The network as a Raft group sees it. */
export interface Transport {
  /** This laptop's id, derived from its identity key. */
  readonly laptopId: string;
  /** Begins listening and dialing known peers; calling it again is harmless. */
  start(): Promise<void>;
  /** Closes every connection and the listener; calling it again is harmless. */
  stop(): Promise<void>;
  /** Joins a class: connections prove `secret` to peers that know it. The secret never leaves this laptop. */
  addClass(classTag: string, secret: Uint8Array): void;
  /** Leaves a class: its messages are no longer sent or accepted. */
  removeClass(classTag: string): void;
  /** Adds a laptop to dial, or moves it to a new address (a dial in progress to the old one is abandoned). */
  addPeer(laptopId: string, address: PeerAddress): void;
  /** Stops dialing a laptop and closes its connection; it may still dial us. */
  removePeer(laptopId: string): void;
  /**
   * Queues `message` for `laptopId` in `classTag`. Returns false, and counts why, when it was
   * dropped instead (not connected, class not shared, queue full, too large). Never blocks.
   * Throws RangeError if `message.from` is not this laptop or `message.to` is not `laptopId`
   * (the receiver would drop the connection for it).
   */
  send(laptopId: string, classTag: string, message: Message): boolean;
  /** Subscribes to incoming messages; returns the unsubscribe function. */
  onMessage(handler: MessageHandler): () => void;
  /**
   * Sends `payload` to `laptopId` for `classTag` on the connection in use, through the same
   * bounded queue as Raft messages, and resolves with the payload the peer's handler answered.
   * Never hangs: rejects with `RequestFailedError` when it cannot be sent (NOT_CONNECTED,
   * CLASS_NOT_SHARED, TOO_LARGE, QUEUE_FULL), when no answer came within `timeoutMs` (TIMEOUT),
   * when the connection closed first (DISCONNECTED; after a lost tie-break the winning connection
   * is already in place, so a retry goes out at once), or when the peer answered an error
   * (REMOTE_ERROR, with `remoteCode`). After TIMEOUT or DISCONNECTED the peer may still have
   * handled it. Rejects with RangeError for a timeout outside 1 ms to 2^31 − 1 ms.
   */
  request(laptopId: string, classTag: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /**
   * Sets the one handler that answers peers' requests; returns the function that removes it.
   * Without a handler requests are answered NO_HANDLER. Throws if a handler is already set.
   */
  onRequest(handler: RequestHandler): () => void;
  /** Subscribes to peers connecting, changing classes and disconnecting; returns the unsubscribe function. */
  onPeerState(handler: PeerStateHandler): () => void;
  /** Laptops connected now, optionally only those sharing `classTag`. */
  connectedPeers(classTag?: string): string[];
  /** Counters for the whole transport. */
  stats(): TransportStats;
  /** The state of one peer, or null if it is unknown. */
  peerStats(laptopId: string): PeerStats | null;
}

/** Structured log lines; the transport never throws for what a peer sends, it logs and counts. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Time for timers and timestamps, injected so tests can drive it. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const consoleLogger: Logger = {
  debug: () => {},
  info: (message, fields) => console.info(`[transport] ${message}`, fields ?? ''),
  warn: (message, fields) => console.warn(`[transport] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[transport] ${message}`, fields ?? ''),
};

export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
