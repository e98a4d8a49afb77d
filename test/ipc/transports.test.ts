// The renderer's two ways to the peer give the same answers. The IPC path is assembled in one
// process from its real parts, with only the process boundaries faked (each crossing clones, as
// Electron's does): BridgeApiClient → window.quorum (createQuorumApi) → ipcMain → PeerRelay →
// parent port → PortServer → peer. The HTTP path is the headless node's real server on loopback.
// Both stand in front of the same fake peer, and each case runs against both.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { PortServer } from '../../electron/headless/port-server';
import { PeerRelay } from '../../electron/ipc/peer-relay';
import { createQuorumApi, type RendererIpc } from '../../electron/ipc/quorum-bridge';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../electron/ipc/renderer-channels';
import { ServiceError } from '../../electron/peer/service';
import { silentLogger } from '../../electron/peer/transport/types';
import type { ApiMethod } from '../../shared/api';
import { BridgeApiClient, type ApiClient } from '../../shared/client';
import { ApiRequestError } from '../../shared/http';
import { cannedResults, classStatus, exampleParams, FakePeerService } from '../headless/fake-service';
import { startTestServer, waitFor } from '../headless/support';

interface Transport {
  client: ApiClient;
  service: FakePeerService;
  /** Resolves once events sent from now on reach the client's listeners. */
  eventsFlowing(): Promise<void>;
  close(): Promise<void>;
}

/** The desktop app's path, with a structured clone at each process boundary. */
function ipcTransport(): Transport {
  const service = new FakePeerService();
  // The peer process's parent port and the main process's view of the utilityProcess.
  const parentPort = new EventEmitter() as EventEmitter & { postMessage(message: unknown): void };
  const portServer = new PortServer({ port: parentPort, logger: silentLogger, onStop: () => {} });
  const rendererListeners = new Set<(event: unknown, message: unknown) => void>();
  const relay = new PeerRelay({
    post: (message) => parentPort.emit('message', { data: structuredClone(message) }),
    onEvent: (message) => {
      for (const listener of rendererListeners) listener({}, structuredClone(message));
    },
    onReady: () => {},
    logger: silentLogger,
    timeoutMs: 5_000,
  });
  parentPort.postMessage = (message) => relay.receive(structuredClone(message));
  portServer.serve(service);
  // ipcRenderer in the preload, talking to ipcMain.handle(CALL_CHANNEL) in main.
  const ipcRenderer: RendererIpc = {
    invoke: async (channel, method, params) => {
      expect(channel).toBe(CALL_CHANNEL);
      return structuredClone(await relay.call(structuredClone(method), structuredClone(params)));
    },
    on: (channel, listener) => channel === EVENT_CHANNEL && rendererListeners.add(listener),
    removeListener: (channel, listener) => rendererListeners.delete(listener),
  };
  const client = new BridgeApiClient(createQuorumApi(ipcRenderer, '0.1.0'));
  return {
    client,
    service,
    eventsFlowing: async () => {},
    close: async () => {
      await client.close();
      portServer.close();
    },
  };
}

async function httpTransport(): Promise<Transport> {
  const test = await startTestServer();
  return {
    client: test.client,
    service: test.service,
    eventsFlowing: () => waitFor(() => test.client.connected, 5000, 'the event stream'),
    close: () => test.close(),
  };
}

const transports: [string, () => Transport | Promise<Transport>][] = [
  ['IPC (desktop app)', ipcTransport],
  ['HTTP (headless node)', httpTransport],
];

const open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((transport) => transport.close()));
});

describe.each(transports)('the renderer’s client over %s', (_, make) => {
  async function start(): Promise<Transport> {
    const transport = await make();
    open.push(transport);
    return transport;
  }

  // The methods the fake peer knows; a method added to the API is covered once the fake answers it.
  it.each(Object.keys(cannedResults) as ApiMethod[])('%s returns the peer’s result', async (method) => {
    const { client, service } = await start();
    expect(await client.call(method, exampleParams[method] as never)).toEqual({ ok: true, result: cannedResults[method] });
    expect(service.calls).toEqual([{ method, params: exampleParams[method] }]);
  });

  it('rejects from `methods` with the peer’s code and sentence', async () => {
    const { client, service } = await start();
    service.failNext('joinClass', new ServiceError('UNKNOWN_JOIN_CODE', 'No class has this join code.'));
    await expect(client.methods.joinClass({ joinCode: 'NOPE' })).rejects.toEqual(new ApiRequestError('UNKNOWN_JOIN_CODE', 'No class has this join code.'));
  });

  it('hides an internal failure behind one sentence', async () => {
    const { client, service } = await start();
    service.failNext('status', new RangeError('index 12 out of range'));
    expect(await client.call('status', {})).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: 'Something went wrong inside the Quorum node; its log has the details.' },
    });
  });

  it('refuses parameters the schema refuses, with the schema’s sentence, before the peer sees them', async () => {
    const { client, service } = await start();
    expect(await client.call('createClass', { name: 42 } as never)).toEqual({ ok: false, error: { code: 'INVALID_PARAMS', message: 'params.name must be text' } });
    expect(service.calls).toEqual([]);
  });

  it('refuses a method the API does not have', async () => {
    const { client, service } = await start();
    expect(await client.call('dropTables' as ApiMethod, {} as never)).toEqual({ ok: false, error: { code: 'UNKNOWN_METHOD', message: 'There is no such API method.' } });
    expect(service.calls).toEqual([]);
  });

  it('delivers the peer’s events until unsubscribed', async () => {
    const { client, service, eventsFlowing } = await start();
    const statuses: unknown[] = [];
    const stop = client.on('status', (payload) => statuses.push(payload));
    await eventsFlowing();
    service.emit('status', classStatus);
    await waitFor(() => statuses.length === 1, 5000, 'the status event');
    expect(statuses).toEqual([classStatus]);
    stop();
    service.emit('status', classStatus);
    service.emit('applied', { classId: 'class-1', index: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(statuses).toHaveLength(1);
  });
});
