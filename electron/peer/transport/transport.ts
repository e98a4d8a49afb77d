// The laptop's one WebSocket endpoint: listens, dials the laptops discovery reports, keeps one
// authenticated connection per pair of laptops, and redials with jittered backoff when one drops.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { Message } from '../../raft/types';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import { ClassKeyring, type EarlierSecretPolicy } from './class-proofs';
import type { ResponseBody } from './codec';
import { PeerConnection, type ConnectionEvents, type ConnectionSettings } from './connection';
import { RequestFailedError } from './errors';
import { connectionSettings, emptyTransportStats, type WebSocketTransportOptions } from './transport-options';
import type {
  CloseCause,
  DropReason,
  MessageHandler,
  PeerAddress,
  PeerStateEvent,
  PeerStateHandler,
  PeerStats,
  RequestHandler,
  Transport,
  TransportStats,
} from './types';
import { DEFAULT_FAILURE_LIMIT, FailureLimit } from './failure-limit';

/** Ways an incoming connection ends that count against its host: it proved nothing, or proved it wrong. */
const PROOF_FAILURES = new Set<CloseCause>(['noSharedClass', 'handshake', 'authentication', 'protocol', 'malformed', 'handshakeTimeout']);

export type { WebSocketTransportOptions } from './transport-options';

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** One laptop we know of, by id; its address is a hint that may change at any time. */
interface PeerLink {
  readonly laptopId: string;
  /** Null when we only know the peer because it dialed us. */
  address: PeerAddress | null;
  /** The authenticated connection in use. Invariant: at most one per peer. */
  current: PeerConnection | null;
  /** Our dial in progress. */
  dialing: PeerConnection | null;
  failedDials: number;
  retryTimer: unknown;
}

export class WebSocketTransport implements Transport {
  readonly laptopId: string;
  private readonly settings: ConnectionSettings;
  private readonly keyring = new ClassKeyring();
  private readonly counters = emptyTransportStats();
  private readonly failureLimit: FailureLimit;
  private readonly links = new Map<string, PeerLink>();
  /** Every connection not yet closed, in any state. */
  private readonly connections = new Set<PeerConnection>();
  /** Closed connections whose socket is still finishing (close handshake, draining a duplicate). */
  private readonly closingSockets = new Set<PeerConnection>();
  private readonly messageHandlers = new Set<MessageHandler>();
  private readonly peerStateHandlers = new Set<PeerStateHandler>();
  private requestHandler: RequestHandler | null = null;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private phase: 'stopped' | 'started' = 'stopped';
  /** start() and stop() run one after the other on this chain. */
  private transition: Promise<void> = Promise.resolve();
  private httpServer: Server | null = null;
  private wsServer: WebSocketServer | null = null;
  private boundPort: number | null = null;

  constructor(private readonly options: WebSocketTransportOptions) {
    this.laptopId = options.identity.laptopId;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.settings = connectionSettings(options, this.keyring, this.counters);
    this.failureLimit = new FailureLimit(options.failureLimit ?? DEFAULT_FAILURE_LIMIT);
    for (const [classTag, secret] of options.classes ?? []) this.keyring.set(classTag, secret);
  }

  /** The port the server listens on; throws before `start()` has finished. */
  get port(): number {
    if (this.boundPort === null) throw new Error('transport is not started');
    return this.boundPort;
  }

  start(): Promise<void> {
    return this.chain(() => (this.phase === 'started' ? undefined : this.listen()));
  }

  stop(): Promise<void> {
    return this.chain(() => (this.phase === 'stopped' ? undefined : this.shutDown()));
  }

  /** Join a class, or replace its secret: `earlier` are the secrets it had before, newest first (see class-proofs.ts). */
  addClass(classTag: string, secret: Uint8Array, earlier: readonly Uint8Array[] = []): void {
    this.keyring.set(classTag, secret, earlier);
    for (const connection of this.connections) connection.refreshClasses();
  }

  /** Who may share a class by proving one of its earlier secrets; asked again by `recheckClasses`. */
  setEarlierSecretPolicy(policy: EarlierSecretPolicy): void {
    this.keyring.mayUseEarlierSecret = policy;
    this.recheckClasses();
  }

  /** The answers of the earlier-secret policy changed (a laptop left a class): recompute what each connection shares. */
  recheckClasses(): void {
    for (const connection of this.connections) connection.refreshClasses();
  }

  removeClass(classTag: string): void {
    if (!this.keyring.delete(classTag)) return;
    for (const connection of this.connections) connection.refreshClasses();
  }

  addPeer(laptopId: string, address: PeerAddress): void {
    if (laptopId === this.laptopId) return; // discovery also finds ourselves
    if (!address.host || !Number.isInteger(address.port) || address.port < 1 || address.port > 65_535) {
      throw new RangeError(`bad address ${address.host}:${address.port}`);
    }
    const link = this.links.get(laptopId) ?? this.createLink(laptopId);
    const moved = link.address?.host !== address.host || link.address?.port !== address.port;
    link.address = { host: address.host, port: address.port };
    if (!moved || link.current) return; // a connected peer's new address is used next time
    // Abandon the dial to the old address and its backoff: the new address deserves a try now.
    link.dialing?.close('addressChanged', `moved to ${address.host}:${address.port}`);
    this.cancelRetry(link);
    link.failedDials = 0;
    this.dial(link);
  }

  removePeer(laptopId: string): void {
    const link = this.links.get(laptopId);
    if (!link) return;
    link.address = null;
    this.cancelRetry(link);
    link.dialing?.close('removed', 'peer removed');
    link.current?.close('removed', 'peer removed');
    this.links.delete(laptopId);
  }

  send(laptopId: string, classTag: string, message: Message): boolean {
    if (message.from !== this.laptopId || message.to !== laptopId) {
      throw new RangeError(`message from ${message.from} to ${message.to} sent as ${this.laptopId} to ${laptopId}`);
    }
    const connection = this.links.get(laptopId)?.current;
    const outcome: 'queued' | DropReason = connection ? connection.send(classTag, message) : 'notConnected';
    if (outcome === 'queued') return true;
    this.counters.drops[outcome]++;
    return false;
  }

  onMessage(handler: MessageHandler): () => void {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  request(laptopId: string, classTag: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    // Timers fire at once for delays past 2^31 − 1 ms, which would turn a long timeout into none.
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) return Promise.reject(new RangeError(`bad timeout ${timeoutMs} ms`));
    const connection = this.links.get(laptopId)?.current;
    const answer = connection
      ? connection.request(classTag, payload, timeoutMs)
      : Promise.reject(new RequestFailedError('NOT_CONNECTED', `request to ${laptopId} not sent: not connected`));
    const counters = this.counters.requests;
    return answer.then(
      (payload) => {
        counters.answered++;
        return payload;
      },
      (error: unknown) => {
        if (error instanceof RequestFailedError) counters.failed[error.code]++;
        throw error;
      },
    );
  }

  onRequest(handler: RequestHandler): () => void {
    if (this.requestHandler) throw new Error('a request handler is already set');
    this.requestHandler = handler;
    return () => {
      if (this.requestHandler === handler) this.requestHandler = null;
    };
  }

  onPeerState(handler: PeerStateHandler): () => void {
    this.peerStateHandlers.add(handler);
    return () => this.peerStateHandlers.delete(handler);
  }

  connectedPeers(classTag?: string): string[] {
    return [...this.links.values()]
      .filter((link) => link.current && (classTag === undefined || link.current.classes.includes(classTag)))
      .map((link) => link.laptopId);
  }

  stats(): TransportStats {
    return { ...structuredClone(this.counters), openConnections: this.connections.size };
  }

  peerStats(laptopId: string): PeerStats | null {
    const link = this.links.get(laptopId);
    if (!link) return null;
    const connection = link.current;
    return {
      connected: connection !== null,
      direction: connection?.direction ?? null,
      classes: connection?.classes ?? [],
      queuedBytes: connection?.queuedBytes ?? 0,
      socketBufferedBytes: connection?.socketBufferedBytes ?? 0,
      droppedQueueFull: connection?.droppedQueueFull ?? 0,
      requestsPending: connection?.requestsPending ?? 0,
      requestsServing: connection?.requestsServing ?? 0,
    };
  }

  private chain(step: () => Promise<void> | undefined): Promise<void> {
    // A failed start must not wedge later calls, so the chain continues past a rejection.
    const next = this.transition.catch(() => {}).then(step);
    this.transition = next;
    return next;
  }

  private async listen(): Promise<void> {
    // Our own HTTP server, so stop() can cut half-finished upgrade requests too.
    const httpServer = createServer((_request, response) => response.writeHead(426).end());
    httpServer.headersTimeout = this.settings.handshakeTimeoutMs;
    httpServer.requestTimeout = this.settings.handshakeTimeoutMs;
    // noServer: the upgrade is wired by hand below, so listen errors reach only our handler.
    const wsServer = new WebSocketServer({
      noServer: true,
      maxPayload: this.settings.maxFrameBytes,
      perMessageDeflate: false, // ciphertext does not compress, and inflating is a memory risk
      clientTracking: false,
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(this.options.port ?? 0, this.options.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    httpServer.on('error', (error) => this.settings.logger.error('server error', { error: error.message }));
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      wsServer.handleUpgrade(request, socket, head, (webSocket) => this.accept(webSocket, request));
    });
    this.httpServer = httpServer;
    this.wsServer = wsServer;
    this.boundPort = (httpServer.address() as AddressInfo).port;
    this.phase = 'started';
    this.settings.logger.info('listening', { laptopId: this.laptopId, host: this.options.host ?? '*', port: this.boundPort });
    for (const link of this.links.values()) this.dial(link);
  }

  private async shutDown(): Promise<void> {
    this.phase = 'stopped'; // first, so nothing below schedules a redial
    for (const link of this.links.values()) {
      this.cancelRetry(link);
      link.failedDials = 0;
    }
    // Sockets still finishing an earlier close are cut; live ones get a polite close and its grace period.
    for (const connection of this.closingSockets) connection.terminate();
    for (const connection of [...this.connections]) connection.close('stopped', 'transport stopped');
    await Promise.all([...this.closingSockets].map((connection) => connection.socketClosed));
    const { httpServer, wsServer } = this;
    this.httpServer = null;
    this.wsServer = null;
    this.boundPort = null;
    wsServer?.close();
    if (httpServer) {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    }
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const address = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    if (this.phase !== 'started') {
      socket.terminate();
      return;
    }
    const host = request.socket.remoteAddress ?? '';
    if (this.failureLimit.blocked(host, this.settings.clock.now())) {
      this.counters.closes.tooManyFailures++;
      socket.terminate();
      return;
    }
    const pending = [...this.connections].filter((connection) => connection.direction === 'incoming' && !connection.isOpen);
    if (pending.length >= (this.options.maxPendingHandshakes ?? 64)) {
      this.counters.closes.tooManyHandshakes++;
      this.settings.logger.warn('refused a connection: too many handshakes in progress', { address });
      socket.terminate();
      return;
    }
    this.counters.connectionsAccepted++;
    this.connections.add(new PeerConnection(socket, 'incoming', address, undefined, this.settings, this.connectionEvents));
  }

  private dial(link: PeerLink): void {
    if (this.phase !== 'started' || !link.address || link.current || link.dialing || link.retryTimer !== null) return;
    const { host, port } = link.address;
    const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    const socket = new WebSocket(url, {
      maxPayload: this.settings.maxFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: this.settings.handshakeTimeoutMs,
      followRedirects: false,
    });
    this.counters.connectionsDialed++;
    link.dialing = new PeerConnection(socket, 'outgoing', url, link.laptopId, this.settings, this.connectionEvents);
    this.connections.add(link.dialing);
  }

  private scheduleRetry(link: PeerLink): void {
    if (this.phase !== 'started' || !link.address || link.current || link.dialing || link.retryTimer !== null) return;
    // After a dropped connection (no failed dial yet) and after the first failed dial: the initial delay.
    const delay = backoffDelay(this.backoff, Math.max(0, link.failedDials - 1), this.random);
    link.retryTimer = this.settings.clock.setTimeout(() => {
      link.retryTimer = null;
      this.dial(link);
    }, delay);
  }

  private cancelRetry(link: PeerLink): void {
    if (link.retryTimer === null) return;
    this.settings.clock.clearTimeout(link.retryTimer);
    link.retryTimer = null;
  }

  private createLink(laptopId: string): PeerLink {
    const link: PeerLink = { laptopId, address: null, current: null, dialing: null, failedDials: 0, retryTimer: null };
    this.links.set(laptopId, link);
    return link;
  }

  private readonly connectionEvents: ConnectionEvents = {
    authenticated: (connection) => {
      const laptopId = connection.peerLaptopId!;
      const link = this.links.get(laptopId) ?? this.createLink(laptopId);
      if (link.dialing === connection) {
        link.dialing = null;
        link.failedDials = 0;
      }
      this.adopt(link, connection);
    },
    message: (connection, classTag, message) => {
      for (const handler of this.messageHandlers) {
        this.callSafely(() => handler(connection.peerLaptopId!, classTag, message), 'message handler');
      }
    },
    classesChanged: (connection) => {
      const link = this.links.get(connection.peerLaptopId!);
      if (link?.current !== connection) return;
      if (connection.classes.length === 0) connection.close('noSharedClass', 'no class left in common');
      else this.emitPeerState({ laptopId: link.laptopId, state: 'updated', classes: connection.classes });
    },
    request: (connection, classTag, payload) => this.answerRequest(connection.peerLaptopId!, classTag, payload),
    closed: (connection, cause, detail) => this.onConnectionClosed(connection, cause, detail),
  };

  /** The handler's answer as a response body; what went wrong stays in our log, only a code goes back. */
  private async answerRequest(from: string, classTag: string, payload: Uint8Array): Promise<ResponseBody> {
    const handler = this.requestHandler;
    if (!handler) return { status: 'error', errorCode: 'NO_HANDLER' };
    try {
      const answer: unknown = await handler(from, classTag, payload);
      if (!(answer instanceof Uint8Array)) throw new TypeError('the request handler resolved with something other than a Uint8Array');
      return { status: 'ok', payload: answer };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.settings.logger.warn('request handler failed', { from, classTag, error: message });
      return { status: 'error', errorCode: 'HANDLER_FAILED' };
    }
  }

  /**
   * Makes `connection` the peer's connection, or closes it as a duplicate. When both laptops dial
   * at once each ends up with two; both keep the one the lower laptop id dialed, so they agree
   * without talking. Between two of the same direction the newer wins: the older is likely stale.
   */
  private adopt(link: PeerLink, connection: PeerConnection): void {
    const current = link.current;
    if (!current) {
      link.current = connection;
      this.cancelRetry(link);
      const { direction, classes } = connection;
      this.emitPeerState({ laptopId: link.laptopId, state: 'connected', direction, classes });
      return;
    }
    const lowerDialed = (candidate: PeerConnection) =>
      (candidate.direction === 'outgoing') === this.laptopId < link.laptopId;
    const keepNew = lowerDialed(connection) || !lowerDialed(current);
    const [winner, loser] = keepNew ? [connection, current] : [current, connection];
    link.current = winner;
    loser.close('duplicate', `kept connection ${winner.id}`);
    if (keepNew && winner.classes.join() !== loser.classes.join()) {
      this.emitPeerState({ laptopId: link.laptopId, state: 'updated', classes: winner.classes });
    }
  }

  private onConnectionClosed(connection: PeerConnection, cause: CloseCause, detail: string): void {
    this.connections.delete(connection);
    if (connection.direction === 'incoming' && !connection.peerLaptopId && PROOF_FAILURES.has(cause)) {
      const host = connection.remoteAddress.slice(0, connection.remoteAddress.lastIndexOf(':'));
      this.failureLimit.record(host, this.settings.clock.now());
      if (this.failureLimit.blocked(host, this.settings.clock.now())) {
        this.settings.logger.warn('turning a host away for a while: it failed to prove a class too often', { host });
      }
    }
    this.closingSockets.add(connection);
    void connection.socketClosed.then(() => this.closingSockets.delete(connection));
    const laptopId = connection.peerLaptopId ?? connection.expectedLaptopId;
    const link = laptopId === undefined ? undefined : this.links.get(laptopId);
    if (!link) return;
    if (link.dialing === connection) {
      link.dialing = null;
      link.failedDials++;
    } else if (link.current === connection) {
      link.current = null;
      this.emitPeerState({ laptopId: link.laptopId, state: 'disconnected', cause, detail });
    } else {
      return; // a duplicate that lost the tie-break, or an incoming connection that never authenticated
    }
    if (!link.address && !link.current && !link.dialing) this.links.delete(link.laptopId);
    else this.scheduleRetry(link);
  }

  private emitPeerState(event: PeerStateEvent): void {
    this.settings.logger.debug('peer state', { ...event });
    for (const handler of this.peerStateHandlers) this.callSafely(() => handler(event), 'peer state handler');
  }

  /** A throwing subscriber is a bug in the subscriber; it must not take a connection down. */
  private callSafely(call: () => void, what: string): void {
    try {
      call();
    } catch (error) {
      this.settings.logger.error(`${what} threw`, { error: (error as Error).message });
    }
  }
}
