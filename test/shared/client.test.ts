// How the page picks its way to the peer (shared/client.ts, which renderer/src/lib/api-client.ts calls): the preload's window.quorum in the desktop app, else the
// HTTP API of the node that served it, with the token from the address's fragment.
import { describe, expect, it, vi } from 'vitest';
import type { QuorumApi } from '../../shared/api';
import { BridgeApiClient, connectApi, tokenFromFragment } from '../../shared/client';
import { HttpApiClient } from '../../shared/http';

const preload: QuorumApi = {
  version: '0.1.0',
  call: async () => ({ ok: false, error: { code: 'X', message: 'not used' } }),
  on: () => () => {},
};

describe('connectApi', () => {
  it('uses window.quorum when the preload set it, wherever the page came from', () => {
    const connection = connectApi({ quorum: preload, location: { origin: 'null', hash: '' } });
    expect(connection).toMatchObject({ kind: 'desktop', version: '0.1.0' });
    expect(connection.kind === 'desktop' && connection.client).toBeInstanceOf(BridgeApiClient);
  });

  it('uses the HTTP API of the page’s own origin with the token from the fragment', async () => {
    const requests: { url: string; authorization: string | undefined }[] = [];
    const fetch = async (url: string, init: { headers: Record<string, string> }) => {
      requests.push({ url, authorization: init.headers['authorization'] });
      return { status: 200, text: async () => JSON.stringify({ ok: true, result: { ok: true } }) };
    };
    vi.stubGlobal('fetch', fetch);
    try {
      const connection = connectApi({ location: { origin: 'http://127.0.0.1:41234', hash: '#token=abc-DEF_123' } });
      expect(connection.kind).toBe('browser');
      if (connection.kind !== 'browser') return;
      expect(connection.client).toBeInstanceOf(HttpApiClient);
      await connection.client.call('addPeerAddress', { address: 'L@10.0.0.2:4242' });
      expect(requests).toEqual([{ url: 'http://127.0.0.1:41234/api/addPeerAddress', authorization: 'Bearer abc-DEF_123' }]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it.each<[string, { origin: string; hash: string }, RegExp]>([
    ['a page opened from a file', { origin: 'null', hash: '#token=abc' }, /address its node printed/],
    ['an address without the token', { origin: 'http://127.0.0.1:41234', hash: '' }, /no access token/],
    ['an empty token', { origin: 'http://127.0.0.1:41234', hash: '#token=' }, /no access token/],
  ])('says why it cannot connect for %s', (_, location, reason) => {
    expect(connectApi({ location })).toEqual({ kind: 'unavailable', reason: expect.stringMatching(reason) });
  });
});

describe('tokenFromFragment', () => {
  it.each<[string, string | null]>([
    ['#token=abc', 'abc'],
    ['token=abc', 'abc'],
    ['#token=abc&view=grades', 'abc'],
    ['#view=grades&token=abc', 'abc'],
    ['#token=a%2Bb', 'a+b'],
    ['#', null],
    ['', null],
    ['#tokens=abc', null],
  ])('%j gives %j', (hash, token) => {
    expect(tokenFromFragment(hash)).toBe(token);
  });
});

describe('BridgeApiClient', () => {
  it('ends its subscriptions when closed, once each', async () => {
    let unsubscribed = 0;
    const client = new BridgeApiClient({ ...preload, on: () => () => void unsubscribed++ });
    const stop = client.on('status', () => {});
    client.on('applied', () => {});
    stop();
    stop();
    await client.close();
    expect(unsubscribed).toBe(2);
    expect(() => client.on('status', () => {})).toThrow(/closed/);
  });

  it('turns a broken bridge into UNREACHABLE and a strange answer into BAD_RESPONSE', async () => {
    const broken = new BridgeApiClient({ ...preload, call: () => Promise.reject(new Error('context destroyed')) });
    expect(await broken.call('status', {})).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    const strange = new BridgeApiClient({ ...preload, call: async () => 'yes' as never });
    expect(await strange.call('status', {})).toMatchObject({ ok: false, error: { code: 'BAD_RESPONSE' } });
  });
});
