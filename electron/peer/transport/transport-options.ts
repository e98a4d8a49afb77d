// What a WebSocketTransport can be told, its defaults, and the counters it starts from.
import type { BackoffPolicy } from './backoff';
import type { ClassKeyring } from './class-proofs';
import { DEFAULT_MAX_FRAME_BYTES } from './codec';
import type { ConnectionSettings } from './connection';
import type { Identity } from './identity';
import { consoleLogger, systemClock, type Clock, type Logger, type TransportStats } from './types';
import type { FailureLimitPolicy } from './failure-limit';

export interface WebSocketTransportOptions {
  identity: Identity;
  /** Address to listen on; default all interfaces (the classroom is on the LAN). */
  host?: string;
  /** Port to listen on; 0 (the default) picks a free one, see `port`. */
  port?: number;
  /** Classes to belong to from the start, as [class tag, secret]. */
  classes?: Iterable<readonly [string, Uint8Array]>;
  /** Largest frame sent or accepted; default 4 MiB. */
  maxFrameBytes?: number;
  /** Per-peer send queue limit; default 8 MiB, at least `maxFrameBytes`. */
  maxQueueBytes?: number;
  /** Per-peer limit on bytes handed to the socket and not yet sent; default 1 MiB. */
  maxSocketBufferedBytes?: number;
  /** Default 5 s. */
  heartbeatIntervalMs?: number;
  /** Default 15 s. */
  heartbeatTimeoutMs?: number;
  /** Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Default 2 s. */
  closeGraceMs?: number;
  /** Unauthenticated incoming connections allowed at once; default 64. */
  maxPendingHandshakes?: number;
  /** Incoming connections from one host that may fail to prove a class before it is turned away for a while; default 60 a minute. */
  failureLimit?: FailureLimitPolicy;
  /** Requests from one peer handled at once; more are answered BUSY. Default 1024. */
  maxIncomingRequests?: number;
  /** Payload bytes of requests from one peer handled at once; more are answered BUSY. Default 16 MiB, at least `maxFrameBytes`. */
  maxIncomingRequestBytes?: number;
  backoff?: Partial<BackoffPolicy>;
  /** Uniform in [0, 1), for backoff jitter only (key material always comes from node:crypto). */
  random?: () => number;
  clock?: Clock;
  logger?: Logger;
}

/** The settings every connection shares, with defaults filled in; throws RangeError for limits that cannot work. */
export function connectionSettings(
  options: WebSocketTransportOptions,
  keyring: ClassKeyring,
  counters: TransportStats,
): ConnectionSettings {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const maxQueueBytes = options.maxQueueBytes ?? 8 * 1024 * 1024;
  if (maxQueueBytes < maxFrameBytes) throw new RangeError('maxQueueBytes must hold at least one frame of maxFrameBytes');
  const maxIncomingRequests = options.maxIncomingRequests ?? 1024;
  if (!Number.isInteger(maxIncomingRequests) || maxIncomingRequests < 1) throw new RangeError('maxIncomingRequests must be at least 1');
  const maxIncomingRequestBytes = options.maxIncomingRequestBytes ?? Math.max(16 * 1024 * 1024, maxFrameBytes);
  if (maxIncomingRequestBytes < maxFrameBytes) {
    throw new RangeError('maxIncomingRequestBytes must hold at least one request of maxFrameBytes');
  }
  return {
    identity: options.identity,
    keyring,
    maxFrameBytes,
    maxQueueBytes,
    maxSocketBufferedBytes: options.maxSocketBufferedBytes ?? 1024 * 1024,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5_000,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 15_000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    closeGraceMs: options.closeGraceMs ?? 2_000,
    maxIncomingRequests,
    maxIncomingRequestBytes,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? consoleLogger,
    counters,
  };
}

export const emptyTransportStats = (): TransportStats => ({
  openConnections: 0,
  connectionsAccepted: 0,
  connectionsDialed: 0,
  handshakesCompleted: 0,
  framesSent: 0,
  framesReceived: 0,
  bytesSent: 0,
  bytesReceived: 0,
  drops: { notConnected: 0, queueFull: 0, classNotShared: 0, tooLarge: 0 },
  closes: {
    malformed: 0,
    tooLarge: 0,
    authentication: 0,
    handshake: 0,
    protocol: 0,
    noSharedClass: 0,
    unexpectedIdentity: 0,
    handshakeTimeout: 0,
    heartbeatTimeout: 0,
    tooManyHandshakes: 0,
    tooManyFailures: 0,
    duplicate: 0,
    addressChanged: 0,
    removed: 0,
    stopped: 0,
    remoteClosed: 0,
    socketError: 0,
  },
  requests: {
    sent: 0,
    answered: 0,
    failed: {
      NOT_CONNECTED: 0,
      CLASS_NOT_SHARED: 0,
      TOO_LARGE: 0,
      QUEUE_FULL: 0,
      TIMEOUT: 0,
      DISCONNECTED: 0,
      REMOTE_ERROR: 0,
    },
    served: 0,
    refusedBusy: 0,
    responsesDropped: 0,
    unmatchedResponses: 0,
  },
});

