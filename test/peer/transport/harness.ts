// Real transports on 127.0.0.1 for tests: make nodes, link them, wait for conditions, and speak
// the protocol by hand from a raw `ws` client. Never binds or dials anything but loopback.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Message } from '../../../electron/raft/types';
import { ClassKeyring } from '../../../electron/peer/transport/class-proofs';
import { Handshake, type HandshakeResult } from '../../../electron/peer/transport/handshake';
import { generateIdentity, loadOrCreateIdentity, type Identity } from '../../../electron/peer/transport/identity';
import { openFrame, sealEncoded, sealFrame } from '../../../electron/peer/transport/record-cipher';
import { decodeFrame, type InnerFrame } from '../../../electron/peer/transport/codec';
import { WebSocketTransport, type WebSocketTransportOptions } from '../../../electron/peer/transport/transport';
import type { Logger, PeerAddress, PeerStateEvent } from '../../../electron/peer/transport/types';

export const LOOPBACK = '127.0.0.1';

/** A 32-byte class secret named by `label`; the same label gives the same secret. */
export function classSecret(label: string): Uint8Array {
  return new TextEncoder().encode(`class secret: ${label}`.padEnd(32, '.'));
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields?: Record<string, unknown>;
}

export interface Received {
  from: string;
  classTag: string;
  message: Message;
}

export interface TestNode {
  id: string;
  identity: Identity;
  transport: WebSocketTransport;
  received: Received[];
  events: PeerStateEvent[];
  logs: LogEntry[];
  address(): PeerAddress;
  connectedTo(other: TestNode): boolean;
}

export interface NodeOptions extends Partial<Omit<WebSocketTransportOptions, 'classes'>> {
  /** Class tag → secret label (see classSecret). */
  classes?: Record<string, string>;
  /** Load the identity from here instead of making a fresh one. */
  dataDir?: string;
}

/** Timings short enough for tests, long enough not to flake on a busy machine. */
const TEST_DEFAULTS: Partial<WebSocketTransportOptions> = {
  host: LOOPBACK,
  port: 0,
  backoff: { initialDelayMs: 20, maxDelayMs: 200 },
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 5000,
  handshakeTimeoutMs: 3000,
  closeGraceMs: 300,
};

export class Harness {
  private readonly nodes: TestNode[] = [];
  private readonly directories: string[] = [];
  private readonly sockets: WebSocket[] = [];

  async node(options: NodeOptions = {}): Promise<TestNode> {
    const logs: LogEntry[] = [];
    const identity = options.dataDir ? await loadOrCreateIdentity(options.dataDir) : generateIdentity();
    const classes = Object.entries(options.classes ?? {}).map(([tag, label]) => [tag, classSecret(label)] as const);
    const logger = options.logger ?? capture(logs);
    // host last: whatever a test passes, these transports listen on loopback only.
    const transport = new WebSocketTransport({ ...TEST_DEFAULTS, ...options, identity, classes, logger, host: LOOPBACK });
    const node: TestNode = {
      id: identity.laptopId,
      identity,
      transport,
      received: [],
      events: [],
      logs,
      address: () => ({ host: LOOPBACK, port: transport.port }),
      connectedTo: (other) => transport.peerStats(other.id)?.connected ?? false,
    };
    transport.onMessage((from, classTag, message) => node.received.push({ from, classTag, message }));
    transport.onPeerState((event) => node.events.push(event));
    await transport.start();
    this.nodes.push(node);
    return node;
  }

  async dataDir(): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), 'quorum-transport-'));
    this.directories.push(directory);
    return directory;
  }

  /** Tells `from` where `to` listens, as discovery would. */
  link(from: TestNode, to: TestNode): void {
    from.transport.addPeer(to.id, to.address());
  }

  /** Opens a raw WebSocket to `node`, recording everything it receives. */
  async rawSocket(node: TestNode): Promise<RawSocket> {
    const socket = new WebSocket(`ws://${LOOPBACK}:${node.transport.port}/`);
    this.sockets.push(socket);
    const raw: RawSocket = {
      socket,
      received: [],
      closed: new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    };
    socket.on('message', (data) => raw.received.push(new Uint8Array(data as Buffer)));
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return raw;
  }

  /**
   * A raw client that performs the handshake by hand (as `identity`, proving `classes`), then
   * lets the test send whatever sealed frames it likes. Resolves once both sides are authenticated.
   */
  async handshakeByHand(node: TestNode, classes: Record<string, string>, identity = generateIdentity()): Promise<HandRolled> {
    const raw = await this.rawSocket(node);
    const keyring = new ClassKeyring();
    for (const [tag, label] of Object.entries(classes)) keyring.set(tag, classSecret(label));
    const handshake = new Handshake({ role: 'initiator', identity, keyring, expectedLaptopId: node.id, maxFrameBytes: 1 << 22 });
    const sent: Uint8Array[] = [];
    const send = (bytes: Uint8Array) => {
      sent.push(bytes);
      raw.socket.send(bytes);
    };
    send(handshake.hello);
    let seen = 0;
    const session = await new Promise<HandshakeResult>((resolve, reject) => {
      const onMessage = () => {
        while (seen < raw.received.length) {
          const step = handshake.receive(raw.received[seen++]!);
          if (step.reply) send(step.reply);
          if (step.result) {
            raw.socket.off('message', onMessage);
            resolve(step.result);
            return; // what follows is sealed traffic, for openNew
          }
        }
      };
      raw.socket.on('message', onMessage);
      void raw.closed.then((close) => reject(new Error(`closed during the handshake: ${close.code} ${close.reason}`)));
    });
    return {
      ...raw,
      identity,
      session,
      sent,
      seal: (frame) => sealFrame(session.sealer, frame, 1 << 22),
      sealBytes: (plaintext) => sealEncoded(session.sealer, plaintext),
      send,
      openNew: () => {
        const frames: InnerFrame[] = [];
        while (seen < raw.received.length) {
          const frame = decodeFrame(raw.received[seen++]!, 1 << 22);
          if (frame.kind !== 'sealed') throw new Error(`a ${frame.kind} frame after the handshake`);
          frames.push(openFrame(session.opener, frame, 1 << 22));
        }
        return frames;
      },
    };
  }

  async stopAll(): Promise<void> {
    for (const socket of this.sockets.splice(0)) socket.terminate();
    await Promise.all(this.nodes.splice(0).map((node) => node.transport.stop()));
    await Promise.all(this.directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
  }
}

export interface RawSocket {
  socket: WebSocket;
  /** Every binary message received, in order. */
  received: Uint8Array[];
  closed: Promise<{ code: number; reason: string }>;
}

export interface HandRolled extends RawSocket {
  identity: Identity;
  session: HandshakeResult;
  /** Every message this client sent, in order (hello, auth, then whatever the test sent). */
  sent: Uint8Array[];
  /** Seals `frame` with the next counter, without sending it. */
  seal(frame: InnerFrame): Uint8Array;
  /** Seals arbitrary plaintext (a malformed inner frame, say) with the next counter. */
  sealBytes(plaintext: Uint8Array): Uint8Array;
  send(bytes: Uint8Array): void;
  /** Opens the sealed frames the node sent since the last call (or the handshake), in order. */
  openNew(): InnerFrame[];
}

function capture(logs: LogEntry[]): Logger {
  return {
    debug: (message, fields) => logs.push({ level: 'debug', message, fields }),
    info: (message, fields) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    error: (message, fields) => logs.push({ level: 'error', message, fields }),
  };
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs` (generous: CI machines are busy). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Links every pair of nodes both ways at once (so every pair dials simultaneously) and waits
 * until each pair is connected over exactly one connection: the tie-break has settled.
 */
export async function connectAll(harness: Harness, nodes: TestNode[]): Promise<void> {
  for (const a of nodes) for (const b of nodes) if (a !== b) harness.link(a, b);
  await waitFor(
    () =>
      nodes.every(
        (a) => a.transport.stats().openConnections === nodes.length - 1 && nodes.every((b) => a === b || a.connectedTo(b)),
      ),
    'every pair to connect over one connection',
  );
}
