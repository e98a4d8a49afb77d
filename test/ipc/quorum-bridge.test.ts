// `window.quorum` as the preload builds it, over a fake ipcRenderer: exactly the typed API, names
// checked before anything is sent, and whatever comes back checked before the page sees it.
import { describe, expect, it, vi } from 'vitest';
import { createQuorumApi, type RendererIpc } from '../../electron/ipc/quorum-bridge';
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../electron/ipc/renderer-channels';
import type { ApiMethod, ApiParams } from '../../shared/api';

type IpcListener = (event: unknown, message: unknown) => void;

class FakeIpcRenderer implements RendererIpc {
  readonly invoked: { channel: string; args: unknown[] }[] = [];
  readonly listeners = new Map<string, Set<IpcListener>>();
  answer: (method: unknown, params: unknown) => Promise<unknown> = async () => ({ ok: true, result: { answered: true } });

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    return this.answer(args[0], args[1]);
  }

  on(channel: string, listener: IpcListener): void {
    if (!this.listeners.has(channel)) this.listeners.set(channel, new Set());
    this.listeners.get(channel)!.add(listener);
  }

  removeListener(channel: string, listener: IpcListener): void {
    this.listeners.get(channel)?.delete(listener);
  }

  /** The main process sends `message` on `channel`. */
  send(channel: string, message: unknown): void {
    for (const listener of [...(this.listeners.get(channel) ?? [])]) listener({ sender: 'ipc' }, message);
  }

  listenerCount(channel: string): number {
    return this.listeners.get(channel)?.size ?? 0;
  }
}

/** Calls with names and parameters the types would refuse: the page may pass anything at run time. */
const untyped = (api: ReturnType<typeof createQuorumApi>) => api as unknown as { call(method: unknown, params: unknown): Promise<unknown>; on(event: unknown, listener: unknown): () => void };

describe('createQuorumApi', () => {
  it('exposes the version, call and on, and nothing else', () => {
    const api = createQuorumApi(new FakeIpcRenderer(), '0.1.0');
    expect(Object.keys(api).sort()).toEqual(['call', 'on', 'version']);
    expect(api.version).toBe('0.1.0');
  });

  it('sends a call on the call channel and returns the main process’s response', async () => {
    const ipc = new FakeIpcRenderer();
    const api = createQuorumApi(ipc, '0.1.0');
    expect(await api.call('createClass', { name: 'Physics 2B' })).toEqual({ ok: true, result: { answered: true } });
    expect(ipc.invoked).toEqual([{ channel: CALL_CHANNEL, args: ['createClass', { name: 'Physics 2B' }] }]);
  });

  it.each([['dropTables'], ['__proto__'], ['toString'], [7], [null]])('refuses the method %j without sending it', async (method) => {
    const ipc = new FakeIpcRenderer();
    const api = createQuorumApi(ipc, '0.1.0');
    expect(await untyped(api).call(method, {})).toEqual({ ok: false, error: { code: 'UNKNOWN_METHOD', message: 'There is no such API method.' } });
    expect(ipc.invoked).toEqual([]);
  });

  it('turns a failed invoke into UNREACHABLE and a strange answer into BAD_RESPONSE, never a rejection', async () => {
    const ipc = new FakeIpcRenderer();
    const api = createQuorumApi(ipc, '0.1.0');
    ipc.answer = async () => {
      throw new Error("No handler registered for 'quorum:call'");
    };
    expect(await api.call('status', {} as ApiParams<'status'>)).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    ipc.answer = async () => ({ result: 'no ok field' });
    expect(await api.call('status', {})).toMatchObject({ ok: false, error: { code: 'BAD_RESPONSE' } });
  });

  it('delivers events to the listeners of that event until they unsubscribe, with one IPC listener for all', () => {
    const ipc = new FakeIpcRenderer();
    const api = createQuorumApi(ipc, '0.1.0');
    const applied: unknown[] = [];
    const outbox: unknown[] = [];
    const stopApplied = api.on('applied', (payload) => applied.push(payload));
    const stopOutbox = api.on('outbox', (payload) => outbox.push(payload));
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(1);
    ipc.send(EVENT_CHANNEL, { event: 'applied', payload: { classId: 'c', index: 1 } });
    ipc.send(EVENT_CHANNEL, { event: 'outbox', payload: { classId: 'c', pending: 2 } });
    stopApplied();
    ipc.send(EVENT_CHANNEL, { event: 'applied', payload: { classId: 'c', index: 2 } });
    expect(applied).toEqual([{ classId: 'c', index: 1 }]);
    expect(outbox).toEqual([{ classId: 'c', pending: 2 }]);
    stopOutbox();
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(0);
  });

  it('ignores event messages that are not events of the API', () => {
    const ipc = new FakeIpcRenderer();
    const api = createQuorumApi(ipc, '0.1.0');
    const heard: unknown[] = [];
    api.on('status', (payload) => heard.push(payload));
    for (const message of [null, 'status', { event: 'status' }, { event: 'constructor', payload: {} }, { payload: {} }]) ipc.send(EVENT_CHANNEL, message);
    expect(heard).toEqual([]);
  });

  it('keeps delivering when one listener throws', () => {
    const ipc = new FakeIpcRenderer();
    const api = createQuorumApi(ipc, '0.1.0');
    const heard: unknown[] = [];
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    api.on('applied', () => {
      throw new Error('broken screen');
    });
    api.on('applied', (payload) => heard.push(payload));
    ipc.send(EVENT_CHANNEL, { event: 'applied', payload: { classId: 'c', index: 1 } });
    expect(heard).toEqual([{ classId: 'c', index: 1 }]);
    expect(consoleError).toHaveBeenCalledOnce();
    consoleError.mockRestore();
  });

  it('refuses to subscribe to a name that is not an event, or without a function', () => {
    const api = createQuorumApi(new FakeIpcRenderer(), '0.1.0');
    expect(() => untyped(api).on('shutdown', () => {})).toThrow(/no event called "shutdown"/);
    expect(() => untyped(api).on('status', 'not a function')).toThrow(/must be a function/);
  });

  it('derives the methods it accepts from the API, so a new method needs no change here', async () => {
    const { apiMethods } = await import('../../shared/http');
    const ipc = new FakeIpcRenderer();
    const api = createQuorumApi(ipc, '0.1.0');
    for (const method of apiMethods) await api.call(method as ApiMethod, {} as never);
    expect(ipc.invoked.map((call) => call.args[0])).toEqual([...apiMethods]);
  });
});
