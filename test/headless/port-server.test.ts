// The peer's API over Electron's parent port, as the desktop app's utilityProcess serves it: run in
// plain Node against a fake port (an EventEmitter that clones what is posted, as Electron does),
// first in front of the fake peer, then in front of a real ClassroomPeer on loopback.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PortServer } from '../../electron/headless/port-server';
import type { PeerToMainMessage } from '../../electron/ipc/peer-port-protocol';
import { ClassroomPeer } from '../../electron/peer/classroom-peer';
import { ServiceError, type PeerService } from '../../electron/peer/service';
import { silentLogger } from '../../electron/peer/transport/types';
import { cannedResults, classStatus, FakePeerService } from './fake-service';
import { recordingLogger, waitFor } from './support';

/** Electron's process.parentPort as the server sees it: messages in as {data}, posts structured-cloned out. */
class FakeParentPort extends EventEmitter {
  readonly posted: PeerToMainMessage[] = [];

  postMessage(message: unknown): void {
    this.posted.push(structuredClone(message) as PeerToMainMessage);
  }

  /** The app sends a message. */
  send(data: unknown): void {
    this.emit('message', { data, ports: [] });
  }

  responseTo(id: number | null): PeerToMainMessage | undefined {
    return this.posted.find((message) => message.type === 'response' && message.id === id);
  }

  async waitForResponse(id: number | null): Promise<PeerToMainMessage> {
    await waitFor(() => this.responseTo(id) !== undefined, 10_000, `the response to call ${id}`);
    return this.responseTo(id)!;
  }
}

const servers: PortServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A server on a fake port, serving `service`. */
function serveOverFakePort<S extends PeerService>(service: S) {
  const port = new FakeParentPort();
  const logger = recordingLogger();
  const stops: string[] = [];
  const server = new PortServer({ port, logger, onStop: (reason) => stops.push(reason) });
  servers.push(server);
  server.serve(service);
  return { port, logger, stops, server, service };
}

const setUp = () => serveOverFakePort(new FakePeerService());

describe('PortServer in front of a peer', () => {
  it('answers a call with the service’s result under the call’s id', async () => {
    const { port, service } = setUp();
    port.send({ type: 'call', id: 7, method: 'createClass', params: { name: 'Physics 2B' } });
    expect(await port.waitForResponse(7)).toEqual({ type: 'response', id: 7, ok: true, result: cannedResults.createClass });
    expect(service.calls).toEqual([{ method: 'createClass', params: { name: 'Physics 2B' } }]);
  });

  it('answers calls in flight independently, each under its own id', async () => {
    const { port } = setUp();
    port.send({ type: 'call', id: 1, method: 'status', params: {} });
    port.send({ type: 'call', id: 2, method: 'joinClass', params: { joinCode: 'JOIN-1234' } });
    expect(await port.waitForResponse(2)).toMatchObject({ ok: true, result: cannedResults.joinClass });
    expect(await port.waitForResponse(1)).toMatchObject({ ok: true, result: cannedResults.status });
  });

  it('passes a ServiceError on as its code and sentence', async () => {
    const { port, service } = setUp();
    service.failNext('joinClass', new ServiceError('UNKNOWN_JOIN_CODE', 'No class has this join code.'));
    port.send({ type: 'call', id: 3, method: 'joinClass', params: { joinCode: 'NOPE' } });
    expect(await port.waitForResponse(3)).toEqual({
      type: 'response',
      id: 3,
      ok: false,
      error: { code: 'UNKNOWN_JOIN_CODE', message: 'No class has this join code.' },
    });
  });

  it('turns any other failure into one sentence, and keeps the details for the log', async () => {
    const { port, service, logger } = setUp();
    service.failNext('status', new TypeError('cannot read properties of undefined (reading "term")'));
    port.send({ type: 'call', id: 4, method: 'status', params: {} });
    const response = await port.waitForResponse(4);
    expect(response).toEqual({
      type: 'response',
      id: 4,
      ok: false,
      error: { code: 'INTERNAL', message: 'Something went wrong inside the Quorum node; its log has the details.' },
    });
    expect(JSON.stringify(response)).not.toMatch(/term|TypeError|at /);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'an API method failed' }));
  });

  it('checks the parameters before the service sees them', async () => {
    const { port, service } = setUp();
    port.send({ type: 'call', id: 5, method: 'write', params: { classId: 'c', command: { op: 'drop', key: 'k' } } });
    expect(await port.waitForResponse(5)).toEqual({
      type: 'response',
      id: 5,
      ok: false,
      error: { code: 'INVALID_PARAMS', message: expect.stringMatching(/^params\.command\.op must be /) },
    });
    expect(service.calls).toEqual([]);
  });

  it.each<[string, unknown, number | null, string]>([
    ['not an object', 'status', null, 'BAD_REQUEST'],
    ['a call without an id', { type: 'call', method: 'status', params: {} }, null, 'BAD_REQUEST'],
    ['an unknown method', { type: 'call', id: 6, method: 'eval', params: {} }, 6, 'UNKNOWN_METHOD'],
    ['__proto__ as a method', { type: 'call', id: 6, method: '__proto__', params: {} }, 6, 'UNKNOWN_METHOD'],
  ])('answers a message that is %s with an error saying so', async (_, message, id, code) => {
    const { port, service, logger } = setUp();
    port.send(message);
    expect(await port.waitForResponse(id)).toMatchObject({ type: 'response', id, ok: false, error: { code } });
    expect(service.calls).toEqual([]);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: code === 'BAD_REQUEST' ? 'warn' : 'debug', message: 'refused a message from the app' }));
  });

  it('answers with INTERNAL when a result cannot be sent', async () => {
    const { port, service } = setUp();
    service.methods.status = async () => ({ ...cannedResults.status, later: () => 1 }) as never;
    port.send({ type: 'call', id: 8, method: 'status', params: {} });
    expect(await port.waitForResponse(8)).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('forwards every event of the service, and none after closing', () => {
    const { port, service, server } = setUp();
    service.emit('status', classStatus);
    service.emit('applied', { classId: 'class-1', index: 13 });
    service.emit('outbox', { classId: 'class-1', pending: 2 });
    expect(port.posted).toEqual([
      { type: 'event', event: 'status', payload: classStatus },
      { type: 'event', event: 'applied', payload: { classId: 'class-1', index: 13 } },
      { type: 'event', event: 'outbox', payload: { classId: 'class-1', pending: 2 } },
    ]);
    server.close();
    expect(service.listenerCount()).toBe(0);
    expect(port.listenerCount('message')).toBe(0);
    service.emit('applied', { classId: 'class-1', index: 14 });
    expect(port.posted).toHaveLength(3);
  });

  it('tells the node to stop when the app asks or the port closes', () => {
    const { port, stops } = setUp();
    port.send({ type: 'stop' });
    port.emit('close');
    expect(stops).toEqual(['asked', 'portClosed']);
  });

  it('refuses new calls once stopping, and still answers the calls under way', async () => {
    const { port, service, server } = setUp();
    let finish!: () => void;
    service.methods.recoveryPlan = () => new Promise((resolve) => (finish = () => resolve(cannedResults.recoveryPlan)));
    port.send({ type: 'call', id: 1, method: 'recoveryPlan', params: { classId: 'class-1' } });
    server.refuseNewCalls();
    port.send({ type: 'call', id: 2, method: 'status', params: {} });
    expect(await port.waitForResponse(2)).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringMatching(/shutting down/) } });
    finish();
    expect(await port.waitForResponse(1)).toMatchObject({ ok: true, result: cannedResults.recoveryPlan });
  });

  it('announces that the peer is ready', () => {
    const { port, server } = setUp();
    server.announceReady({ laptopId: 'laptop-a', address: 'laptop-a@192.168.1.20:4242' });
    expect(port.posted).toEqual([{ type: 'ready', laptopId: 'laptop-a', address: 'laptop-a@192.168.1.20:4242' }]);
  });
});

describe('PortServer before the peer is open', () => {
  it('holds the calls that come early and answers them once it serves', async () => {
    const port = new FakeParentPort();
    const server = new PortServer({ port, logger: silentLogger, onStop: () => {} });
    servers.push(server);
    port.send({ type: 'call', id: 1, method: 'status', params: {} });
    port.send({ type: 'call', id: 2, method: 'nope', params: {} });
    // A refusal needs no service; a call does.
    expect(port.posted).toEqual([expect.objectContaining({ id: 2, ok: false })]);
    server.serve(new FakePeerService());
    expect(await port.waitForResponse(1)).toMatchObject({ ok: true, result: cannedResults.status });
  });

  it('hears a stop while the peer opens, and refuses the calls it held', async () => {
    const port = new FakeParentPort();
    const stops: string[] = [];
    const server = new PortServer({ port, logger: silentLogger, onStop: (reason) => stops.push(reason) });
    servers.push(server);
    port.send({ type: 'call', id: 1, method: 'status', params: {} });
    port.send({ type: 'stop' });
    expect(stops).toEqual(['asked']);
    server.refuseNewCalls();
    expect(port.responseTo(1)).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
  });
});

describe('PortServer in front of a real ClassroomPeer', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates a class, writes and reads over the port, and forwards the peer’s events', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'quorum-port-'));
    dirs.push(dataDir);
    const peer = await ClassroomPeer.open({
      dataDir,
      displayName: 'Teacher',
      host: '127.0.0.1',
      port: 0,
      discovery: { enabled: false },
      logger: silentLogger,
    });
    try {
      const { port } = serveOverFakePort(peer);
      port.send({ type: 'call', id: 1, method: 'status', params: {} });
      expect(await port.waitForResponse(1)).toMatchObject({ ok: true, result: { displayName: 'Teacher', classes: [] } });

      port.send({ type: 'call', id: 2, method: 'createClass', params: { name: 'Physics 2B' } });
      const created = await port.waitForResponse(2);
      expect(created).toMatchObject({ ok: true, result: { classId: expect.any(String), joinCode: expect.any(String) } });
      const { classId } = (created as { result: { classId: string } }).result;

      port.send({ type: 'call', id: 3, method: 'write', params: { classId, command: { op: 'put', key: 'greeting', value: 'hello' }, waitMs: 5000 } });
      expect(await port.waitForResponse(3)).toMatchObject({ ok: true, result: { status: 'applied' } });
      port.send({ type: 'call', id: 4, method: 'read', params: { classId, key: 'greeting' } });
      expect(await port.waitForResponse(4)).toMatchObject({ ok: true, result: { key: 'greeting', value: 'hello' } });

      port.send({ type: 'call', id: 5, method: 'read', params: { classId: 'no-such-class', key: 'greeting' } });
      const missing = await port.waitForResponse(5);
      expect(missing).toMatchObject({ ok: false, error: { code: expect.any(String), message: expect.any(String) } });
      expect((missing as { error: { code: string } }).error.code).not.toBe('INTERNAL');

      await waitFor(() => port.posted.some((message) => message.type === 'event' && message.event === 'applied'), 10_000, 'an applied event');
    } finally {
      await peer.close();
    }
  });
});
