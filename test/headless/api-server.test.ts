// The API over real HTTP on 127.0.0.1, in front of a fake peer: every method, the event stream,
// and every way a request is refused.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiEventName, ApiEvents, ApiMethod } from '../../shared/api';
import { apiEventNames, apiMethods, ApiRequestError, EVENTS_PATH, EVENTS_PROTOCOL, HttpApiClient, MAX_BODY_BYTES } from '../../shared/http';
import { ServiceError } from '../../electron/peer/service';
import { startApiServer } from '../../electron/headless/api-server';
import { cannedResults, classStatus, exampleParams, FakePeerService } from './fake-service';
import { authorized, openSocket, rawRequest, recordingLogger, startTestServer, TOKEN, waitFor, type TestServer } from './support';

const running: TestServer[] = [];
async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const test = await startTestServer(options);
  running.push(test);
  return test;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((test) => test.close()));
});

function eventsUrl(test: TestServer, query = ''): string {
  return `${test.server.url.replace('http', 'ws')}${EVENTS_PATH}${query}`;
}

describe('methods over HTTP', () => {
  it.each(apiMethods.map((method) => [method]))('%s round-trips through the client', async (method: ApiMethod) => {
    const { client, service } = await start();
    const response = await client.call(method, exampleParams[method] as never);
    expect(response).toEqual({ ok: true, result: cannedResults[method] });
    expect(service.calls).toEqual([{ method, params: exampleParams[method] }]);
  });

  it('covers every method of the API', () => {
    expect([...apiMethods].sort()).toEqual(Object.keys(cannedResults).sort());
  });

  it('offers the same methods as functions that resolve with the result', async () => {
    const { client } = await start();
    await expect(client.methods.status({})).resolves.toEqual(cannedResults.status);
    await expect(client.methods.read(exampleParams.read)).resolves.toEqual(cannedResults.read);
  });

  it('passes a ServiceError through with its code and message', async () => {
    const { client, server, service } = await start();
    service.failNext('joinClass', new ServiceError('UNKNOWN_JOIN_CODE', 'No class has this join code.'));
    expect(await client.call('joinClass', { joinCode: 'NOPE' })).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_JOIN_CODE', message: 'No class has this join code.' },
    });
    service.failNext('joinClass', new ServiceError('NOT_LEADER', 'Try again in a moment.'));
    const raw = await rawRequest(server.url, { method: 'POST', path: '/api/joinClass', headers: authorized(), body: '{"joinCode":"x"}' });
    expect(raw.status).toBe(200);
    service.failNext('write', new ServiceError('NO_QUORUM', 'The class cannot be reached.'));
    await expect(client.methods.write(exampleParams.write)).rejects.toEqual(new ApiRequestError('NO_QUORUM', 'The class cannot be reached.'));
  });

  it('answers INTERNAL for any other failure, with the stack in the log only', async () => {
    const { client, server, service, logger } = await start();
    const secret = new TypeError('cannot read properties of undefined (reading "term") at /secret/path.ts');
    service.failNext('status', secret);
    const raw = await rawRequest(server.url, { method: 'POST', path: '/api/status', headers: authorized(), body: '{}' });
    expect(raw.status).toBe(500);
    expect(raw.json).toEqual({ ok: false, error: { code: 'INTERNAL', message: expect.any(String) } });
    expect(raw.text).not.toContain('secret');
    expect(raw.text).not.toContain('TypeError');
    expect(raw.text).not.toMatch(/\bat\s/);
    const logged = logger.entries.find((entry) => entry.level === 'error');
    expect(logged?.fields?.['error']).toBe(secret);
    expect(logged?.fields?.['method']).toBe('status');

    service.failNext('status', 'a thrown string');
    expect(await client.call('status', {})).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('takes an empty body as no parameters', async () => {
    const { server } = await start();
    const raw = await rawRequest(server.url, { method: 'POST', path: '/api/status', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(raw.status).toBe(200);
    expect(raw.json).toEqual({ ok: true, result: cannedResults.status });
  });

  it('says UNREACHABLE when nobody answers', async () => {
    const { server } = await start();
    const url = server.url;
    await server.close();
    const client = new HttpApiClient({ baseUrl: url, token: TOKEN });
    expect(await client.call('status', {})).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
  });
});

describe('refusals', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer wrong' }],
    ['a token one character short', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['the token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ['the token without a scheme', { authorization: TOKEN }],
    ['the token in the query', {}, `?token=${TOKEN}`],
  ])('401 for %s, with no details', async (_name, headers: Record<string, string>, query = '') => {
    const { server, service } = await start();
    const raw = await rawRequest(server.url, {
      method: 'POST',
      path: `/api/status${query}`,
      headers: { 'content-type': 'application/json', ...headers },
      body: '{}',
    });
    expect(raw.status).toBe(401);
    expect(raw.headers['www-authenticate']).toBe('Bearer');
    expect(raw.json).toEqual({ ok: false, error: { code: 'UNAUTHORIZED', message: 'This request needs the node’s API token.' } });
    expect(service.calls).toEqual([]);
  });

  it('answers 401 at once to a large upload without the token, without reading it', async () => {
    const { server, service } = await start();
    const raw = await rawRequest(server.url, {
      method: 'POST',
      path: '/api/createClass',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(4 * MAX_BODY_BYTES) }),
    });
    expect(raw.status).toBe(401);
    expect(raw.headers['connection']).toBe('close');
    expect(service.calls).toEqual([]);
  });

  it('checks the token before saying whether a method exists', async () => {
    const { server } = await start();
    const known = await rawRequest(server.url, { method: 'POST', path: '/api/status' });
    const unknown = await rawRequest(server.url, { method: 'POST', path: '/api/noSuchMethod' });
    expect([known.status, unknown.status]).toEqual([401, 401]);
    expect(known.text).toBe(unknown.text);
  });

  it('accepts the scheme in any case', async () => {
    const { server } = await start();
    const raw = await rawRequest(server.url, { method: 'POST', path: '/api/status', headers: { authorization: `bearer ${TOKEN}` } });
    expect(raw.status).toBe(200);
  });

  it.each(['/api/noSuchMethod', '/api/constructor', '/api/__proto__', '/api/toString', '/api/status/more', '/api/', '/api', '/api/st%61tus'])(
    '404 for %s',
    async (path) => {
      const { server } = await start();
      const raw = await rawRequest(server.url, { method: 'POST', path, headers: authorized(), body: '{}' });
      expect(raw.status).toBe(404);
      expect(raw.json).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    },
  );

  it.each(['GET', 'PUT', 'DELETE', 'OPTIONS'])('405 for %s on a method', async (verb) => {
    const { server } = await start();
    const raw = await rawRequest(server.url, { method: verb, path: '/api/status', headers: authorized() });
    expect(raw.status).toBe(405);
    expect(raw.headers['allow']).toBe('POST');
    expect(raw.json).toMatchObject({ ok: false, error: { code: 'METHOD_NOT_ALLOWED' } });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])('415 for %s', async (type) => {
    const { server } = await start();
    const raw = await rawRequest(server.url, { method: 'POST', path: '/api/status', headers: authorized({ 'content-type': type }), body: '{}' });
    expect(raw.status).toBe(415);
    expect(raw.json).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  it.each(['{', '{"name":', 'nul', "{'name':'x'}", '{"name":"x"}}', '\u0000', '\uFFFF{}'])('400 for the malformed JSON %j', async (body) => {
    const { server, service } = await start();
    const raw = await rawRequest(server.url, { method: 'POST', path: '/api/createClass', headers: authorized(), body });
    expect(raw.status).toBe(400);
    expect(raw.json).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: 'The parameters are not valid JSON.' } });
    expect(service.calls).toEqual([]);
  });

  it.each([
    ['status', { extra: 1 }, 'params.extra is not expected here'],
    ['status', [], 'params must be an object'],
    ['status', null, 'params must be an object'],
    ['createClass', {}, 'params.name is missing'],
    ['createClass', { name: 5 }, 'params.name must be text'],
    ['createClass', 'Physics', 'params must be an object'],
    ['joinClass', { joinCode: null }, 'params.joinCode must be text'],
    ['write', { classId: 'c', command: { op: 'drop', key: 'k' } }, 'params.command.op must be "put" or "delete"'],
    ['write', { classId: 'c', command: { op: 'put', key: 'k' } }, 'params.command.value is missing'],
    ['write', { classId: 'c', command: { op: 'delete', key: 'k', value: 'v' } }, 'params.command.value is not expected here'],
    ['write', { classId: 'c', command: { op: 'put', key: 'k', value: 'v' }, waitMs: -1 }, 'params.waitMs must be a whole number, 0 or more'],
    ['write', { classId: 'c', command: { op: 'put', key: 'k', value: 'v' }, waitMs: 1.5 }, 'params.waitMs must be a whole number, 0 or more'],
    ['write', { classId: 'c', command: [] }, 'params.command must be an object'],
    ['read', { classId: 'c', key: 'k', linearizable: 'yes' }, 'params.linearizable must be true or false'],
    ['addPeerAddress', { address: ['a'] }, 'params.address must be text'],
  ])('400 INVALID_PARAMS for %s %j', async (method, params, message) => {
    const { server, service } = await start();
    const raw = await rawRequest(server.url, { method: 'POST', path: `/api/${method}`, headers: authorized(), body: JSON.stringify(params) });
    expect(raw.status).toBe(400);
    expect(raw.json).toEqual({ ok: false, error: { code: 'INVALID_PARAMS', message } });
    expect(service.calls).toEqual([]);
  });

  it('400 INVALID_PARAMS for a __proto__ field (JSON.parse makes it an own field)', async () => {
    const { server, service } = await start();
    const body = '{"classId":"c","key":"k","__proto__":{"linearizable":true}}';
    const raw = await rawRequest(server.url, { method: 'POST', path: '/api/read', headers: authorized(), body });
    expect(raw.json).toEqual({ ok: false, error: { code: 'INVALID_PARAMS', message: 'params.__proto__ is not expected here' } });
    expect(service.calls).toEqual([]);
  });

  it('413 for a body over the limit, declared or streamed', async () => {
    const { server, service } = await start();
    const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) });
    const declared = await rawRequest(server.url, { method: 'POST', path: '/api/createClass', headers: authorized(), body: big });
    expect(declared.status).toBe(413);
    expect(declared.json).toMatchObject({ ok: false, error: { code: 'BODY_TOO_LARGE' } });
    const streamed = await rawRequest(server.url, {
      method: 'POST',
      path: '/api/createClass',
      headers: authorized({ 'transfer-encoding': 'chunked' }),
      body: big,
    });
    expect(streamed.status).toBe(413);
    expect(service.calls).toEqual([]);
    // A body just under the limit is fine.
    const fits = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES - 20) });
    const accepted = await rawRequest(server.url, { method: 'POST', path: '/api/createClass', headers: authorized(), body: fits });
    expect(accepted.status).toBe(200);
  });

  it('403 for pages of other origins; the page of this node is fine', async () => {
    const { server } = await start();
    const host = new URL(server.url).host;
    const foreign = await rawRequest(server.url, {
      method: 'POST',
      path: '/api/status',
      headers: authorized({ origin: 'http://evil.example' }),
    });
    expect(foreign.status).toBe(403);
    expect(foreign.json).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_ORIGIN' } });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const own = await rawRequest(server.url, { method: 'POST', path: '/api/status', headers: authorized({ origin: `http://${host}` }) });
    expect(own.status).toBe(200);
    expect(own.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends the security headers and no caching with every API answer', async () => {
    const { server } = await start();
    for (const raw of [
      await rawRequest(server.url, { method: 'POST', path: '/api/status', headers: authorized() }),
      await rawRequest(server.url, { method: 'POST', path: '/api/status' }),
    ]) {
      expect(raw.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
        'content-type': 'application/json; charset=utf-8',
      });
      expect(raw.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  it('426 for the event path without an upgrade; 404 for anything else without static files', async () => {
    const { server } = await start();
    expect((await rawRequest(server.url, { path: EVENTS_PATH, headers: authorized() })).status).toBe(426);
    const page = await rawRequest(server.url, { path: '/' });
    expect(page.status).toBe(404);
    expect(page.json).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('events over the WebSocket', () => {
  it('delivers every event, in order, to every listener', async () => {
    const { client, service } = await start();
    const seen: { event: ApiEventName; payload: unknown }[] = [];
    const connected = new Promise<void>((resolve) => client.onConnectionChange((up) => up && resolve()));
    client.on('status', (payload) => seen.push({ event: 'status', payload }));
    client.on('applied', (payload) => seen.push({ event: 'applied', payload }));
    client.on('outbox', (payload) => seen.push({ event: 'outbox', payload }));
    const second: ApiEvents['applied'][] = [];
    client.on('applied', (payload) => second.push(payload));
    await connected;
    service.emit('status', classStatus);
    service.emit('applied', { classId: 'class-1', index: 14 });
    service.emit('outbox', { classId: 'class-1', pending: 2 });
    service.emit('applied', { classId: 'class-1', index: 15 });
    await waitFor(() => seen.length === 4, 5000, 'four events');
    expect(seen).toEqual([
      { event: 'status', payload: classStatus },
      { event: 'applied', payload: { classId: 'class-1', index: 14 } },
      { event: 'outbox', payload: { classId: 'class-1', pending: 2 } },
      { event: 'applied', payload: { classId: 'class-1', index: 15 } },
    ]);
    expect(second).toEqual([
      { classId: 'class-1', index: 14 },
      { classId: 'class-1', index: 15 },
    ]);
  });

  it('stops delivering to a listener after it unsubscribes', async () => {
    const { client, service } = await start();
    const first: number[] = [];
    const other: number[] = [];
    const connected = new Promise<void>((resolve) => client.onConnectionChange((up) => up && resolve()));
    const unsubscribe = client.on('applied', (payload) => first.push(payload.index));
    client.on('applied', (payload) => other.push(payload.index));
    await connected;
    service.emit('applied', { classId: 'c', index: 1 });
    await waitFor(() => other.length === 1);
    unsubscribe();
    service.emit('applied', { classId: 'c', index: 2 });
    await waitFor(() => other.length === 2);
    expect(first).toEqual([1]);
  });

  it.each([
    ['no token', '', undefined, undefined, 'HTTP 401'],
    ['a wrong query token', '?token=wrong', undefined, undefined, 'HTTP 401'],
    ['a wrong protocol token', '', ['quorum.wrong'], undefined, 'HTTP 401'],
    ['a wrong header token', '', undefined, { authorization: 'Bearer wrong' }, 'HTTP 401'],
    ['a foreign origin', `?token=${TOKEN}`, undefined, { origin: 'http://evil.example' }, 'HTTP 403'],
  ])('refuses an event stream with %s', async (_name, query, protocols: string[] | undefined, headers: Record<string, string> | undefined, error) => {
    const test = await start();
    await expect(openSocket(eventsUrl(test, query), protocols, headers)).rejects.toThrow(error);
    expect(test.server.stats().clients).toBe(0);
  });

  it.each([
    ['the header', '', undefined, { authorization: `Bearer ${TOKEN}` }, ''],
    ['the query', `?token=${encodeURIComponent(TOKEN)}`, undefined, undefined, ''],
    ['the protocol alone', '', [`quorum.${TOKEN}`], undefined, `quorum.${TOKEN}`],
    ['the protocol next to quorum-events', '', [EVENTS_PROTOCOL, `quorum.${TOKEN}`], undefined, EVENTS_PROTOCOL],
  ])('accepts the token in %s', async (_name, query, protocols: string[] | undefined, headers: Record<string, string> | undefined, selected) => {
    const test = await start();
    const socket = await openSocket(eventsUrl(test, query), protocols, headers);
    expect(socket.protocol).toBe(selected);
    await waitFor(() => test.server.stats().clients === 1);
    const message = once(socket, 'message');
    test.service.emit('outbox', { classId: 'c', pending: 1 });
    const [data] = await message;
    expect(JSON.parse(String(data))).toEqual({ event: 'outbox', payload: { classId: 'c', pending: 1 } });
    socket.terminate();
  });

  it('refuses upgrades on other paths', async () => {
    const test = await start();
    await expect(openSocket(`${test.server.url.replace('http', 'ws')}/api/status?token=${TOKEN}`)).rejects.toThrow('HTTP 404');
    await expect(openSocket(`${test.server.url.replace('http', 'ws')}/?token=${TOKEN}`)).rejects.toThrow('HTTP 404');
  });

  it('refuses event streams beyond the limit with 503', async () => {
    const test = await start({ maxEventClients: 2 });
    const sockets = [await openSocket(eventsUrl(test, `?token=${TOKEN}`)), await openSocket(eventsUrl(test, `?token=${TOKEN}`))];
    await waitFor(() => test.server.stats().clients === 2);
    await expect(openSocket(eventsUrl(test, `?token=${TOKEN}`))).rejects.toThrow('HTTP 503');
    for (const socket of sockets) socket.terminate();
  });

  it('drops a client that stops reading, and keeps serving the others', async () => {
    const test = await start({ maxEventBufferedBytes: 64 * 1024 });
    const fast = await openSocket(eventsUrl(test, `?token=${TOKEN}`));
    let received = 0;
    fast.on('message', () => received++);
    const stalled = await stalledEventClient(test.server.url);
    await waitFor(() => test.server.stats().clients === 2);
    const big = { ...classStatus, name: 'x'.repeat(256 * 1024) };
    let sent = 0;
    // Loopback buffers hold a few megabytes before the stalled client's backlog shows on our side.
    while (test.server.stats().droppedSlowClients === 0 && sent < 400) {
      test.service.emit('status', big);
      sent++;
      await waitFor(() => received === sent, 5000, `event ${sent} at the fast client`);
    }
    expect(test.server.stats()).toMatchObject({ droppedSlowClients: 1, clients: 1 });
    expect(test.logger.entries.some((entry) => entry.level === 'warn' && entry.message.includes('fell behind'))).toBe(true);
    test.service.emit('applied', { classId: 'c', index: 1 });
    await waitFor(() => received === sent + 1);
    stalled.destroy();
    fast.terminate();
  });

  it('listens to the peer only while a stream is open', async () => {
    const service = new FakePeerService();
    const server = await startApiServer({ service, token: TOKEN, logger: recordingLogger(), port: 0 });
    // Nobody to tell: the peer builds no events for this server.
    expect(service.listenerCount()).toBe(0);
    const first = await openSocket(`${server.url.replace('http', 'ws')}${EVENTS_PATH}?token=${TOKEN}`);
    const second = await openSocket(`${server.url.replace('http', 'ws')}${EVENTS_PATH}?token=${TOKEN}`);
    await waitFor(() => server.stats().clients === 2);
    expect(service.listenerCount()).toBe(apiEventNames.length);
    first.close();
    await waitFor(() => server.stats().clients === 1);
    expect(service.listenerCount()).toBe(apiEventNames.length);
    second.close();
    await waitFor(() => server.stats().clients === 0);
    expect(service.listenerCount()).toBe(0);
    await server.close();
  });

  it('closes the streams and unsubscribes from the peer when the server stops', async () => {
    const service = new FakePeerService();
    const server = await startApiServer({ service, token: TOKEN, logger: recordingLogger(), port: 0 });
    const socket = await openSocket(`${server.url.replace('http', 'ws')}${EVENTS_PATH}?token=${TOKEN}`);
    await waitFor(() => server.stats().clients === 1);
    expect(service.listenerCount()).toBe(apiEventNames.length);
    const closed = once(socket, 'close');
    await server.close();
    const [code] = await closed;
    expect(code).toBe(1001);
    expect(service.listenerCount()).toBe(0);
    expect(service.closed).toBe(0); // the server never closes the peer
    await server.close(); // idempotent
  });

  it('reconnects the client after the node comes back', async () => {
    const first = await start();
    const port = first.server.port;
    const changes: boolean[] = [];
    first.client.onConnectionChange((connected) => changes.push(connected));
    const indexes: number[] = [];
    first.client.on('applied', (payload) => indexes.push(payload.index));
    await waitFor(() => first.client.connected);
    await first.server.close();
    await waitFor(() => changes.includes(false));
    const service = new FakePeerService();
    const second = await startApiServer({ service, token: TOKEN, logger: recordingLogger(), port });
    try {
      await waitFor(() => first.client.connected && second.stats().clients === 1, 5000, 'the reconnect');
      service.emit('applied', { classId: 'c', index: 9 });
      await waitFor(() => indexes.length === 1);
      expect(indexes).toEqual([9]);
      expect(changes).toEqual([true, false, true]);
    } finally {
      await first.client.close();
      await second.close();
    }
  });
});

/** A WebSocket client that completes the handshake and then never reads again. */
async function stalledEventClient(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.write(
    [
      `GET ${EVENTS_PATH}?token=${TOKEN} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  let head = '';
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    head += chunk.toString('latin1');
  }
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  socket.pause();
  socket.on('error', () => {});
  return socket;
}
