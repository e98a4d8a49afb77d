// Laptops come and go: a restarted laptop (same identity, new port) is found again, redials back
// off with jitter, a silent peer is noticed by the heartbeat, and start/stop are idempotent.
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketTransport } from '../../../electron/peer/transport/transport';
import type { Clock } from '../../../electron/peer/transport/types';
import { Harness, LOOPBACK, sleep, waitFor, type TestNode } from './harness';
import { MessageGenerator, testSeed } from './random-messages';
import { TcpProxy } from './tcp-proxy';

const harness = new Harness();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await harness.stopAll();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A clock whose timers fire only when the test says so; `now` moves with them. */
class ManualClock implements Clock {
  private time = 0;
  private nextId = 1;
  readonly timers = new Map<number, { at: number; delay: number; callback: () => void }>();

  now = () => this.time;

  setTimeout = (callback: () => void, delay: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + delay, delay, callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /** Pending timers with a delay below `limit` (the redial timers, not the long handshake and heartbeat ones). */
  pendingBelow(limit: number): { id: number; delay: number }[] {
    return [...this.timers].filter(([, timer]) => timer.delay < limit).map(([id, timer]) => ({ id, delay: timer.delay }));
  }

  fire(id: number): void {
    const timer = this.timers.get(id)!;
    this.timers.delete(id);
    this.time = Math.max(this.time, timer.at);
    timer.callback();
  }
}

/** A port on 127.0.0.1 where nothing listens (dials to it are refused at once). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function expectExchange(gen: MessageGenerator, from: TestNode, to: TestNode): Promise<void> {
  const message = gen.message('app', from.id, to.id);
  const before = to.received.length;
  expect(from.transport.send(to.id, 'math', message)).toBe(true);
  await waitFor(() => to.received.length === before + 1, 'the message');
  expect(to.received.at(-1)?.message).toEqual(message);
}

describe('reconnection', () => {
  it('finds a laptop again after it stops and starts on a new port, with the same laptop id', async () => {
    const gen = new MessageGenerator(testSeed('reconnect restart'));
    const directory = await harness.dataDir();
    const a = await harness.node({ classes: { math: 'math' } });
    const b = await harness.node({ classes: { math: 'math' }, dataDir: directory });
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b), 'the first connection');
    await expectExchange(gen, a, b);

    const oldPort = b.transport.port;
    await b.transport.stop();
    await waitFor(() => !a.connectedTo(b), 'A to notice B left');
    expect(a.events.at(-1)).toMatchObject({ laptopId: b.id, state: 'disconnected', cause: 'remoteClosed' });
    // Something else takes B's old port, so A's redials there hang in the handshake.
    const squatted: Socket[] = [];
    const squatter = createServer((socket) => squatted.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => squatter.listen(oldPort, LOOPBACK, resolve));
    cleanups.push(async () => {
      for (const socket of squatted) socket.destroy();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    });

    const restarted = await harness.node({ classes: { math: 'math' }, dataDir: directory });
    expect(restarted.id).toBe(b.id); // the identity came back from the data directory
    expect(restarted.transport.port).not.toBe(oldPort);
    harness.link(a, restarted); // discovery reports the new address
    await waitFor(() => a.connectedTo(restarted) && restarted.connectedTo(a), 'the reconnection');
    await expectExchange(gen, a, restarted);
    await expectExchange(gen, restarted, a);
  });

  it('a restarted laptop that dials back is accepted while the other side is still backing off', async () => {
    const gen = new MessageGenerator(testSeed('reconnect dial back'));
    const directory = await harness.dataDir();
    const a = await harness.node({ classes: { math: 'math' }, backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const b = await harness.node({ classes: { math: 'math' }, dataDir: directory });
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b), 'the first connection');
    await b.transport.stop();
    await waitFor(() => !a.connectedTo(b), 'A to notice B left');
    const restarted = await harness.node({ classes: { math: 'math' }, dataDir: directory });
    harness.link(restarted, a);
    await waitFor(() => a.connectedTo(restarted), 'the reconnection');
    await expectExchange(gen, a, restarted);
  });

  it('redials with jittered exponential backoff, on the injected clock and randomness', async () => {
    const clock = new ManualClock();
    const a = await harness.node({
      classes: { math: 'math' },
      clock,
      random: () => 0.5, // jitter 0.5 × 0.5: every delay is three quarters of its ceiling
      backoff: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitter: 0.5 },
      handshakeTimeoutMs: 10_000,
    });
    const b = await harness.node({ classes: { math: 'math' } });
    a.transport.addPeer(b.id, { host: LOOPBACK, port: await closedPort() });
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      await waitFor(() => clock.pendingBelow(10_000).length === 1, `redial timer ${attempt}`);
      const [timer] = clock.pendingBelow(10_000);
      delays.push(timer!.delay);
      clock.fire(timer!.id);
    }
    expect(delays).toEqual([15, 30, 60, 120, 150, 150]);
    expect(a.transport.stats().closes.socketError).toBeGreaterThanOrEqual(6);

    // Discovery reports the right address: A dials at once, not after the backoff.
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b), 'the connection');
    // After a success the backoff starts over.
    await b.transport.stop();
    await waitFor(() => clock.pendingBelow(10_000).length === 1, 'the first redial timer after the drop');
    expect(clock.pendingBelow(10_000)[0]?.delay).toBe(15);
  });

  it('a peer that goes silent without closing is dropped by the heartbeat', async () => {
    const a = await harness.node({ classes: { math: 'math' }, heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 });
    const b = await harness.node({ classes: { math: 'math' } });
    const proxy = await TcpProxy.start(b.transport.port);
    cleanups.push(() => proxy.stop());
    a.transport.addPeer(b.id, { host: LOOPBACK, port: proxy.port });
    await waitFor(() => a.connectedTo(b), 'the connection through the proxy');
    await sleep(400); // pongs keep an idle connection alive well past the timeout
    expect(a.connectedTo(b)).toBe(true);
    proxy.blackhole();
    await waitFor(() => !a.connectedTo(b), 'the heartbeat to give up', 3000);
    expect(a.events.at(-1)).toMatchObject({ laptopId: b.id, state: 'disconnected', cause: 'heartbeatTimeout' });
  });
});

describe('start and stop', () => {
  it('are idempotent, and a stopped transport starts again', async () => {
    const gen = new MessageGenerator(testSeed('start stop'));
    const a = await harness.node({ classes: { math: 'math' } });
    const b = await harness.node({ classes: { math: 'math' } });
    await Promise.all([a.transport.start(), a.transport.start()]);
    harness.link(a, b);
    await waitFor(() => a.connectedTo(b), 'the connection');
    await Promise.all([a.transport.stop(), a.transport.stop()]);
    await a.transport.stop();
    expect(a.transport.stats().openConnections).toBe(0);
    expect(() => a.transport.port).toThrow();
    expect(a.transport.send(b.id, 'math', gen.message('vote', a.id, b.id))).toBe(false);

    await a.transport.start();
    // A kept B's address and dials it again; B learns A's new port from the connection.
    await waitFor(() => a.connectedTo(b) && b.connectedTo(a), 'the connection after the restart');
    await expectExchange(gen, b, a);
  });

  it('a port in use fails start() without wedging the transport', async () => {
    const a = await harness.node({ classes: { math: 'math' } });
    const clash = await harness.node({ classes: { math: 'math' } });
    await clash.transport.stop();
    const busy = new WebSocketTransport({
      identity: clash.identity,
      host: LOOPBACK,
      port: a.transport.port,
    });
    await expect(busy.start()).rejects.toThrow(/EADDRINUSE/);
    // The failure does not block later calls: they run (and here fail the same way) rather than hang.
    await expect(busy.start()).rejects.toThrow(/EADDRINUSE/);
    await busy.stop();
  });
});
