// One WebSocket to one laptop: runs the handshake, then seals, opens, checks and delivers frames,
// keeps the bounded send queue and the heartbeat, and carries requests (see requests.ts).
// Anything a peer sends that does not fit ends this connection (logged and counted) and nothing
// else; the transport decides about redialing.
import WebSocket from 'ws';
import type { Message } from '../../raft/types';
import type { ClassKeyring, SessionClasses } from './class-proofs';
import { decodeFrame, type InnerFrame, type ResponseBody } from './codec';
import {
  FrameAuthenticationError,
  FrameDecodeError,
  FrameTooLargeError,
  HandshakeError,
  ProtocolViolationError,
  RequestFailedError,
} from './errors';
import { Handshake, type HandshakeResult } from './handshake';
import type { Identity } from './identity';
import { encodeInnerFrame, openFrame, sealEncoded } from './record-cipher';
import { RequestExchange } from './requests';
import { SendQueue } from './send-queue';
import type { Clock, CloseCause, Direction, DropReason, Logger, TransportStats } from './types';

/** Settings every connection of a transport shares. */
export interface ConnectionSettings {
  identity: Identity;
  keyring: ClassKeyring;
  maxFrameBytes: number;
  maxQueueBytes: number;
  /** Stop moving frames from the queue to the socket while `ws.bufferedAmount` is at or above this. */
  maxSocketBufferedBytes: number;
  heartbeatIntervalMs: number;
  /** No pong and no frame for this long means the peer is gone. */
  heartbeatTimeoutMs: number;
  handshakeTimeoutMs: number;
  /** How long a peer gets to answer our close frame before the socket is cut. */
  closeGraceMs: number;
  /** Requests from the peer handled at once; more are answered BUSY. */
  maxIncomingRequests: number;
  /** Payload bytes of requests from the peer handled at once; more are answered BUSY. */
  maxIncomingRequestBytes: number;
  clock: Clock;
  logger: Logger;
  /** The transport's counters, updated in place. */
  counters: TransportStats;
}

/** What a connection tells its transport. Handlers must not throw. */
export interface ConnectionEvents {
  authenticated(connection: PeerConnection): void;
  message(connection: PeerConnection, classTag: string, message: Message): void;
  classesChanged(connection: PeerConnection): void;
  /** Answers a request from the peer. Must not reject: a failure is an error body. */
  request(connection: PeerConnection, classTag: string, payload: Uint8Array): Promise<ResponseBody>;
  closed(connection: PeerConnection, cause: CloseCause, detail: string): void;
}

/** Causes that mean the peer misbehaved: cut the socket at once, say nothing, log a warning. */
const VIOLATIONS: ReadonlySet<CloseCause> = new Set<CloseCause>([
  'malformed',
  'tooLarge',
  'authentication',
  'handshake',
  'protocol',
  'tooManyHandshakes',
]);

/** Close codes for the causes an honest peer should hear about (4000–4999 are for applications). */
const CLOSE_CODES: Partial<Record<CloseCause, number>> = {
  duplicate: 4001,
  noSharedClass: 4003,
  handshakeTimeout: 4004,
  unexpectedIdentity: 4005,
  removed: 4006,
  stopped: 1001,
};

let nextConnectionId = 1;

export class PeerConnection {
  /** Distinguishes connections in logs. */
  readonly id = nextConnectionId++;
  /** The authenticated peer, once the handshake is done. */
  peerLaptopId: string | null = null;
  /** Messages dropped because the queue was full. */
  droppedQueueFull = 0;
  /** Resolves when the socket has closed, however that happened. */
  readonly socketClosed: Promise<void>;
  private state: 'handshaking' | 'open' | 'closed' = 'handshaking';
  /**
   * Closed as a duplicate but still delivering what the peer sent before it heard: both laptops
   * switch to the winner at slightly different moments, and the loser's last frames are real.
   */
  private draining = false;
  private readonly handshake: Handshake;
  private session: HandshakeResult | null = null;
  private readonly queue: SendQueue;
  private readonly requests: RequestExchange;
  private lastHeardAt: number;
  private handshakeTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private graceTimer: unknown = null;

  constructor(
    private readonly socket: WebSocket,
    readonly direction: Direction,
    /** Where the socket goes or comes from, for logs. */
    readonly remoteAddress: string,
    /** When dialing: the laptop we meant to reach. */
    readonly expectedLaptopId: string | undefined,
    private readonly settings: ConnectionSettings,
    private readonly events: ConnectionEvents,
  ) {
    this.queue = new SendQueue(settings.maxQueueBytes);
    this.requests = new RequestExchange(
      {
        peerName: () => this.peerName,
        enqueue: (frame) => this.enqueue(frame),
        handle: (classTag, payload) => events.request(this, classTag, payload),
      },
      settings,
      settings.clock,
      settings.counters.requests,
    );
    this.lastHeardAt = settings.clock.now();
    this.handshake = new Handshake({
      role: direction === 'outgoing' ? 'initiator' : 'responder',
      identity: settings.identity,
      keyring: settings.keyring,
      expectedLaptopId,
      maxFrameBytes: settings.maxFrameBytes,
    });
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('message', (data, isBinary) => this.onSocketMessage(data, isBinary));
    socket.on('pong', () => (this.lastHeardAt = settings.clock.now()));
    socket.on('error', (error) => this.onSocketError(error));
    socket.on('close', (code, reason) => this.onSocketClose(code, reason.toString()));
    this.handshakeTimer = settings.clock.setTimeout(
      () => this.close('handshakeTimeout', `no handshake within ${settings.handshakeTimeoutMs} ms`),
      settings.handshakeTimeoutMs,
    );
    if (socket.readyState === WebSocket.OPEN) this.sendWire(this.handshake.hello);
    else socket.once('open', () => this.sendWire(this.handshake.hello));
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Classes both sides proved on this connection. */
  get classes(): string[] {
    return this.session?.classes.list() ?? [];
  }

  get queuedBytes(): number {
    return this.queue.bytes;
  }

  get socketBufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** Our requests on this connection waiting for their answer. */
  get requestsPending(): number {
    return this.requests.pending;
  }

  /** The peer's requests being handled. */
  get requestsServing(): number {
    return this.requests.serving;
  }

  /** The peer, for messages: its laptop id once known. */
  get peerName(): string {
    return this.peerLaptopId ?? this.expectedLaptopId ?? this.remoteAddress;
  }

  /** Queues a Raft message; never blocks, never buffers past the queue limit. */
  send(classTag: string, message: Message): 'queued' | DropReason {
    if (this.state !== 'open' || !this.session) return 'notConnected';
    if (!this.session.classes.canSend(classTag)) return 'classNotShared';
    const outcome = this.enqueue({ kind: 'raft', classTag, message });
    if (outcome === 'queueFull') this.droppedQueueFull++;
    return outcome;
  }

  /** Queues a request for the peer's handler and waits for its answer; see `Transport.request` for the failures. */
  request(classTag: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const refused = (code: 'NOT_CONNECTED' | 'CLASS_NOT_SHARED', why: string) =>
      Promise.reject(new RequestFailedError(code, `request to ${this.peerName} not sent: ${why}`));
    if (this.state !== 'open' || !this.session) return refused('NOT_CONNECTED', 'not connected');
    if (!this.session.classes.canSend(classTag)) return refused('CLASS_NOT_SHARED', 'the class is not shared on this connection');
    return this.requests.send(classTag, payload, timeoutMs);
  }

  /** After the keyring changed: announce classes we joined and recompute what is shared. */
  refreshClasses(): void {
    if (this.state !== 'open' || !this.session) return;
    const classes = this.session.classes;
    this.announceNewClasses(classes);
    if (classes.rematch()) this.events.classesChanged(this);
  }

  /** Ends the connection once; honest causes send a close frame, violations cut the socket. */
  close(cause: CloseCause, detail: string): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.draining = cause === 'duplicate' && wasOpen;
    this.stopTimers();
    this.queue.clear();
    // At once: a caller that retries finds the connection that replaced this one (after a tie-break) in place.
    this.requests.rejectAll(`${cause}: ${detail}`);
    this.settings.counters.closes[cause]++;
    const peer = this.peerLaptopId ?? this.expectedLaptopId;
    const fields = { connection: this.id, peer, address: this.remoteAddress, cause, detail };
    if (VIOLATIONS.has(cause)) this.settings.logger.warn('dropped a connection that broke the protocol', fields);
    else this.settings.logger.info(wasOpen ? 'connection closed' : 'connection attempt ended', fields);
    const code = CLOSE_CODES[cause];
    if (VIOLATIONS.has(cause) || code === undefined || this.socket.readyState !== WebSocket.OPEN) {
      this.socket.terminate();
    } else {
      this.socket.close(code, cause);
      this.graceTimer = this.settings.clock.setTimeout(() => this.socket.terminate(), this.settings.closeGraceMs);
    }
    this.events.closed(this, cause, detail);
  }

  private onSocketMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.state === 'closed' && !this.draining) return;
    const bytes = toBytes(data);
    this.settings.counters.framesReceived++;
    this.settings.counters.bytesReceived += bytes.byteLength;
    this.lastHeardAt = this.settings.clock.now();
    let inner: InnerFrame | null;
    try {
      if (!isBinary) throw new ProtocolViolationError('text frame');
      inner = this.state === 'handshaking' ? this.receiveHandshake(bytes) : this.receiveSealed(bytes);
    } catch (error) {
      if (this.draining) this.stopDraining(causeOf(error), (error as Error).message);
      else this.close(causeOf(error), (error as Error).message);
      return;
    }
    if (inner) this.dispatch(inner);
  }

  /** Returns null: handshake frames are consumed here. */
  private receiveHandshake(bytes: Uint8Array): null {
    const step = this.handshake.receive(bytes);
    if (step.reply) this.sendWire(step.reply);
    if (step.result) this.becomeOpen(step.result);
    return null;
  }

  private receiveSealed(bytes: Uint8Array): InnerFrame {
    const frame = decodeFrame(bytes, this.settings.maxFrameBytes);
    if (frame.kind !== 'sealed') throw new ProtocolViolationError(`a ${frame.kind} frame after the handshake`);
    return openFrame(this.session!.opener, frame, this.settings.maxFrameBytes);
  }

  private becomeOpen(result: HandshakeResult): void {
    this.session = result;
    this.peerLaptopId = result.peerLaptopId;
    this.state = 'open';
    this.settings.clock.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.settings.counters.handshakesCompleted++;
    // Classes joined while the handshake ran go out before anyone can send for them.
    this.announceNewClasses(result.classes);
    result.classes.rematch();
    this.scheduleHeartbeat();
    this.events.authenticated(this);
  }

  private dispatch(frame: InnerFrame): void {
    const session = this.session!;
    try {
      switch (frame.kind) {
        case 'raft': {
          if (!session.classes.canReceive(frame.classTag)) {
            // We left the class a moment ago and the peer does not know yet: not an attack.
            if (session.classes.wasShared(frame.classTag)) return;
            throw new ProtocolViolationError('a message for a class the peer never proved');
          }
          const { from, to } = frame.message;
          if (from !== this.peerLaptopId || to !== this.settings.identity.laptopId) {
            throw new ProtocolViolationError(`a message from ${from} to ${to} on the connection with ${this.peerLaptopId}`);
          }
          this.events.message(this, frame.classTag, frame.message);
          return;
        }
        case 'classClaim':
          if (!session.classes.receiveProofs([frame.proof])) throw new ProtocolViolationError('too many class claims');
          if (session.classes.rematch()) this.events.classesChanged(this);
          return;
        case 'request':
          if (!session.classes.canReceive(frame.classTag)) {
            if (!session.classes.wasShared(frame.classTag)) throw new ProtocolViolationError('a request for a class the peer never proved');
            this.requests.answerError(frame.requestId, 'CLASS_NOT_SHARED'); // we left it a moment ago
            return;
          }
          // A closed duplicate cannot answer: the peer rejects its request as DISCONNECTED and retries on the winner.
          if (!this.draining) this.requests.serve(frame);
          return;
        case 'response':
          // While draining our requests were already rejected, so an answer to one is expected, not odd.
          if (!this.draining) this.requests.receiveResponse(frame);
          return;
        case 'auth':
          throw new ProtocolViolationError('a second auth frame');
      }
    } catch (error) {
      if (this.draining) this.stopDraining(causeOf(error), (error as Error).message);
      else this.close(causeOf(error), (error as Error).message);
    }
  }

  /** Cuts the socket now, even one still draining or waiting for the peer's close frame (used by stop()). */
  terminate(): void {
    this.draining = false;
    this.settings.clock.clearTimeout(this.graceTimer);
    this.socket.terminate();
  }

  /** A violation while draining: the connection is already closed and reported, so just cut it and log. */
  private stopDraining(cause: CloseCause, detail: string): void {
    this.draining = false;
    this.settings.counters.closes[cause]++;
    const fields = { connection: this.id, peer: this.peerLaptopId, address: this.remoteAddress, cause, detail };
    this.settings.logger.warn('dropped a connection that broke the protocol', fields);
    this.socket.terminate();
  }

  private announceNewClasses(classes: SessionClasses): void {
    for (const proof of classes.announceNew()) this.queueControl({ kind: 'classClaim', proof });
  }

  /** Encodes `frame` and queues it behind what is waiting; never blocks, never buffers past the queue limit. */
  private enqueue(frame: InnerFrame): 'queued' | DropReason {
    if (this.state !== 'open') return 'notConnected';
    let plaintext: Uint8Array;
    try {
      plaintext = encodeInnerFrame(frame, this.settings.maxFrameBytes);
    } catch (error) {
      if (error instanceof FrameTooLargeError) return 'tooLarge';
      throw error;
    }
    if (!this.queue.push(plaintext)) return 'queueFull';
    this.flush();
    return 'queued';
  }

  /** Control frames bypass the queue limit: they are tiny, rare, and must not be lost. */
  private queueControl(frame: InnerFrame): void {
    this.sendWire(sealEncoded(this.session!.sealer, encodeInnerFrame(frame, this.settings.maxFrameBytes)));
  }

  /** Moves queued frames to the socket while it keeps up; called again each time the socket takes a frame. */
  private flush(): void {
    const sealer = this.session?.sealer;
    const limit = this.settings.maxSocketBufferedBytes;
    while (this.state === 'open' && sealer && this.queue.length > 0 && this.socket.bufferedAmount < limit) {
      this.sendWire(sealEncoded(sealer, this.queue.shift()!), () => this.flush());
    }
  }

  private sendWire(bytes: Uint8Array, onWritten?: () => void): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.settings.counters.framesSent++;
    this.settings.counters.bytesSent += bytes.byteLength;
    this.socket.send(bytes, { binary: true }, (error) => {
      if (!error) onWritten?.();
    });
  }

  private scheduleHeartbeat(): void {
    const { clock, heartbeatIntervalMs, heartbeatTimeoutMs } = this.settings;
    this.heartbeatTimer = clock.setTimeout(() => {
      if (this.state !== 'open') return;
      const silentFor = clock.now() - this.lastHeardAt;
      if (silentFor >= heartbeatTimeoutMs) {
        this.close('heartbeatTimeout', `nothing heard for ${silentFor} ms`);
        return;
      }
      if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
      this.scheduleHeartbeat();
    }, heartbeatIntervalMs);
  }

  private onSocketError(error: Error): void {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // ws reports frames over maxPayload and broken WebSocket framing as errors before any message event.
    if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.close('tooLarge', error.message);
    else if (code.startsWith('WS_ERR_')) this.close('malformed', error.message);
    else this.close('socketError', error.message);
  }

  private onSocketClose(code: number, reason: string): void {
    this.settings.clock.clearTimeout(this.graceTimer);
    this.close('remoteClosed', `closed by the peer: ${code}${reason ? ` ${reason}` : ''}`);
  }

  private stopTimers(): void {
    for (const timer of [this.handshakeTimer, this.heartbeatTimer]) if (timer !== null) this.settings.clock.clearTimeout(timer);
    this.handshakeTimer = null;
    this.heartbeatTimer = null;
  }
}

function causeOf(error: unknown): CloseCause {
  if (error instanceof FrameTooLargeError) return 'tooLarge';
  if (error instanceof FrameDecodeError) return 'malformed';
  if (error instanceof FrameAuthenticationError) return 'authentication';
  if (error instanceof HandshakeError) {
    if (error.code === 'NO_SHARED_CLASS') return 'noSharedClass';
    if (error.code === 'UNEXPECTED_IDENTITY') return 'unexpectedIdentity';
    return 'handshake';
  }
  return 'protocol';
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
