// The browser-side client of shared/http.ts against fake fetch and WebSocket: what it sends, and
// how it copes with answers and frames that are not what it expects.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiEventNames, apiMethods, ApiRequestError, eventsProtocols, HttpApiClient, isApiMethod, type FetchFunction } from '../../shared/http';

function fetchAnswering(status: number, body: string) {
  const requests: { url: string; init: Parameters<FetchFunction>[1] }[] = [];
  const fetch: FetchFunction = async (url, init) => {
    requests.push({ url, init });
    return { status, text: async () => body };
  };
  return { fetch, requests };
}

class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closed = false;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeWebSocket.instances.push(this);
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(data: unknown): void {
    this.onmessage?.({ data });
  }

  drop(): void {
    this.readyState = 3;
    this.onclose?.({});
  }

  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
}

afterEach(() => {
  FakeWebSocket.instances = [];
  vi.restoreAllMocks();
});

describe('HttpApiClient', () => {
  it('posts the params as JSON with the token, to /api/<method>', async () => {
    const { fetch, requests } = fetchAnswering(200, '{"ok":true,"result":{"classId":"c"}}');
    const client = new HttpApiClient({ baseUrl: 'http://127.0.0.1:4000/', token: 'secret', fetch });
    expect(await client.call('joinClass', { joinCode: 'J' })).toEqual({ ok: true, result: { classId: 'c' } });
    expect(requests).toEqual([
      {
        url: 'http://127.0.0.1:4000/api/joinClass',
        init: { method: 'POST', headers: { authorization: 'Bearer secret', 'content-type': 'application/json' }, body: '{"joinCode":"J"}' },
      },
    ]);
  });

  it.each([
    [502, '<html>Bad gateway</html>'],
    [200, '{"ok":true}'],
    [200, '{"ok":false,"error":{"code":1}}'],
    [200, 'null'],
  ])('says BAD_RESPONSE for HTTP %i %s', async (status, body) => {
    const client = new HttpApiClient({ baseUrl: 'http://x', token: 't', fetch: fetchAnswering(status, body).fetch });
    expect(await client.call('status', {})).toMatchObject({ ok: false, error: { code: 'BAD_RESPONSE', message: expect.stringContaining(`HTTP ${status}`) } });
  });

  it('rejects with ApiRequestError from methods', async () => {
    const { fetch } = fetchAnswering(200, '{"ok":false,"error":{"code":"NO_QUORUM","message":"later"}}');
    const client = new HttpApiClient({ baseUrl: 'http://x', token: 't', fetch });
    const error = await client.methods.status({}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({ code: 'NO_QUORUM', message: 'later', name: 'ApiRequestError' });
    expect(Object.keys(client.methods).sort()).toEqual([...apiMethods].sort());
  });

  it('needs a WebSocket for events where there is no global one', () => {
    const client = new HttpApiClient({ baseUrl: 'http://x', token: 't', fetch: fetchAnswering(200, '').fetch });
    if (!('WebSocket' in globalThis)) expect(() => client.on('status', () => {})).toThrow(/needs a WebSocket/);
  });

  it('opens one stream with the token as a subprotocol, ignores frames it does not know, and isolates listeners', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = new HttpApiClient({ baseUrl: 'https://node.local:4000', token: 'secret', fetch: fetchAnswering(200, '').fetch, WebSocket: FakeWebSocket });
    const applied: unknown[] = [];
    client.on('applied', () => {
      throw new Error('broken listener');
    });
    client.on('applied', (payload) => applied.push(payload));
    client.on('status', () => {});
    expect(FakeWebSocket.instances).toHaveLength(1);
    const socket = FakeWebSocket.instances[0]!;
    expect(socket.url).toBe('wss://node.local:4000/api/events');
    expect(socket.protocols).toEqual(eventsProtocols('secret'));
    socket.open();
    for (const frame of ['not json', '{"event":"nope","payload":1}', '{"payload":1}', '[]', new Uint8Array([1]), '{"event":"constructor"}']) socket.receive(frame);
    socket.receive('{"event":"applied","payload":{"classId":"c","index":1}}');
    expect(applied).toEqual([{ classId: 'c', index: 1 }]);
    expect(errors).toHaveBeenCalledTimes(1);
    await client.close();
    expect(socket.closed).toBe(true);
    expect(() => client.on('status', () => {})).toThrow(/closed/);
  });

  it('reconnects with a growing delay and reports the connection', async () => {
    vi.useFakeTimers();
    try {
      const client = new HttpApiClient({
        baseUrl: 'http://x',
        token: 't',
        fetch: fetchAnswering(200, '').fetch,
        WebSocket: FakeWebSocket,
        reconnectDelayMs: 100,
        maxReconnectDelayMs: 300,
      });
      const changes: boolean[] = [];
      client.onConnectionChange((connected) => changes.push(connected));
      client.on('status', () => {});
      FakeWebSocket.instances[0]!.open();
      FakeWebSocket.instances[0]!.drop();
      await vi.advanceTimersByTimeAsync(99);
      expect(FakeWebSocket.instances).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeWebSocket.instances).toHaveLength(2);
      FakeWebSocket.instances[1]!.drop(); // never opened: the delay doubles
      await vi.advanceTimersByTimeAsync(200);
      expect(FakeWebSocket.instances).toHaveLength(3);
      FakeWebSocket.instances[2]!.drop();
      await vi.advanceTimersByTimeAsync(300); // capped
      expect(FakeWebSocket.instances).toHaveLength(4);
      FakeWebSocket.instances[3]!.open();
      expect(client.connected).toBe(true);
      expect(changes).toEqual([true, false, false, false, true]);
      await client.close();
      FakeWebSocket.instances[3]!.drop();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(FakeWebSocket.instances).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the derived tables', () => {
  it('name every method and event once', () => {
    expect(new Set(apiMethods).size).toBe(apiMethods.length);
    expect([...apiEventNames].sort()).toEqual(['applied', 'backupProgress', 'backupStatus', 'joining', 'outbox', 'status']);
  });

  it.each(['status', 'write'])('%s is a method', (name) => expect(isApiMethod(name)).toBe(true));
  it.each(['events', 'constructor', '__proto__', 'hasOwnProperty', 'Status', ''])('%s is not a method', (name) => expect(isApiMethod(name)).toBe(false));
});
