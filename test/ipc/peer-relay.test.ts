// The main process's relay to one peer process: ids, timeouts, a dead process, and messages from
// the peer that are not what they should be.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeerRelay } from '../../electron/ipc/peer-relay';
import type { ApiEventMessage } from '../../shared/http';
import type { PeerReadyMessage } from '../../electron/ipc/peer-port-protocol';
import { recordingLogger } from '../headless/support';
import { FakePeerProcess } from './fake-peer-process';

function setUp(timeoutMs = 1000) {
  const process = new FakePeerProcess();
  const events: ApiEventMessage[] = [];
  const readies: PeerReadyMessage[] = [];
  const logger = recordingLogger();
  const relay = new PeerRelay({
    post: (message) => process.postMessage(message),
    onEvent: (message) => events.push(message),
    onReady: (message) => readies.push(message),
    logger,
    timeoutMs,
  });
  process.onMessage((message) => relay.receive(message));
  return { process, relay, events, readies, logger };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PeerRelay', () => {
  it('sends each call under its own id and matches the answers, in whatever order they come', async () => {
    const { process, relay } = setUp();
    const status = relay.call('status', {});
    const created = relay.call('createClass', { name: 'Physics 2B' });
    expect(process.posted).toEqual([
      { type: 'call', id: 1, method: 'status', params: {} },
      { type: 'call', id: 2, method: 'createClass', params: { name: 'Physics 2B' } },
    ]);
    process.answer(2, { classId: 'c', joinCode: 'J' });
    process.send({ type: 'response', id: 1, ok: false, error: { code: 'NOT_READY', message: 'Not yet.' } });
    expect(await created).toEqual({ ok: true, result: { classId: 'c', joinCode: 'J' } });
    expect(await status).toEqual({ ok: false, error: { code: 'NOT_READY', message: 'Not yet.' } });
    expect(relay.inFlight).toBe(0);
  });

  it.each([['dropTables'], ['constructor'], [42], [undefined]])('refuses the method %j without sending anything', async (method) => {
    const { process, relay } = setUp();
    expect(await relay.call(method, {})).toEqual({ ok: false, error: { code: 'UNKNOWN_METHOD', message: 'There is no such API method.' } });
    expect(process.posted).toEqual([]);
  });

  it('answers TIMEOUT when the peer takes too long, and drops the late answer', async () => {
    const { process, relay, logger } = setUp(1000);
    const call = relay.call('status', {});
    await vi.advanceTimersByTimeAsync(999);
    expect(relay.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await call).toEqual({ ok: false, error: { code: 'TIMEOUT', message: expect.stringMatching(/did not answer in time/) } });
    process.answer(1, { late: true });
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', message: 'dropped a response to no call in flight' }));
  });

  it('gives a backup or a restore as long as copying a whole class may take', async () => {
    const { process, relay } = setUp(1000);
    const backup = relay.call('exportBackup', { classId: 'c', folder: '/media/usb', passphrase: 'a long passphrase' });
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(relay.inFlight).toBe(1);
    process.answer(1, { file: '/media/usb/Physics.quorum-backup', bytes: 1 });
    expect(await backup).toEqual({ ok: true, result: { file: '/media/usb/Physics.quorum-backup', bytes: 1 } });
  });

  it('answers every call in flight at once when the process is gone, and every later call too', async () => {
    const { relay, process } = setUp();
    const first = relay.call('status', {});
    const second = relay.call('read', { classId: 'c', key: 'k' });
    const gone = { code: 'UNREACHABLE', message: 'The classroom service stopped.' };
    relay.disconnect(gone);
    expect(await first).toEqual({ ok: false, error: gone });
    expect(await second).toEqual({ ok: false, error: gone });
    expect(await relay.call('status', {})).toEqual({ ok: false, error: gone });
    expect(process.calls()).toHaveLength(2);
    // No timer is left behind to fire later.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes events and the ready message on', () => {
    const { process, events, readies } = setUp();
    process.send({ type: 'event', event: 'applied', payload: { classId: 'c', index: 3 } });
    process.send({ type: 'ready', laptopId: 'L1', address: 'L1@127.0.0.1:4242' });
    expect(events).toEqual([{ event: 'applied', payload: { classId: 'c', index: 3 } }]);
    expect(readies).toEqual([{ type: 'ready', laptopId: 'L1', address: 'L1@127.0.0.1:4242' }]);
  });

  it.each<[string, unknown]>([
    ['not an object', 'hello'],
    ['an event the API does not have', { type: 'event', event: 'exfiltrate', payload: {} }],
    ['a result without an id', { type: 'response', ok: true, result: 1 }],
    ['a response of another shape', { type: 'response', id: 1, ok: 1 }],
  ])('logs and drops a message that is %s, leaving the call waiting', async (_, message) => {
    const { process, relay, events, logger } = setUp();
    const call = relay.call('status', {});
    process.send(message);
    expect(events).toEqual([]);
    expect(relay.inFlight).toBe(1);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', message: 'dropped a malformed message from the peer' }));
    process.answer(1, { ok: true });
    expect(await call).toEqual({ ok: true, result: { ok: true } });
  });

  it('logs a refusal the peer could not match to a call', () => {
    const { process, logger } = setUp();
    process.send({ type: 'response', id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'A message to the peer must be an object.' } });
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', message: 'the peer refused a message it could not match to a call' }));
  });

  it('answers INVALID_PARAMS when the parameters cannot be sent', async () => {
    const { relay } = setUp();
    // FakePeerProcess clones as Electron does: a function cannot be cloned.
    expect(await relay.call('createClass', { name: () => 'x' })).toEqual({
      ok: false,
      error: { code: 'INVALID_PARAMS', message: 'These parameters cannot be sent to the classroom service.' },
    });
    expect(relay.inFlight).toBe(0);
  });
});
