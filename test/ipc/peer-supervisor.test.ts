// The main process keeping its peer process alive: start, relay, restart after a crash (and give
// up after too many), and stop gracefully on quit, killing only a peer that takes too long.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeerSupervisor, type PeerProcessState, type PeerSupervisorOptions } from '../../electron/ipc/peer-supervisor';
import type { ApiEventMessage } from '../../shared/http';
import { recordingLogger } from '../headless/support';
import { FakePeerProcess } from './fake-peer-process';

function setUp(options: Partial<PeerSupervisorOptions> = {}) {
  const processes: FakePeerProcess[] = [];
  const events: ApiEventMessage[] = [];
  const states: PeerProcessState[] = [];
  const logger = recordingLogger();
  const supervisor = new PeerSupervisor({
    startProcess: () => {
      const process = new FakePeerProcess();
      processes.push(process);
      return process;
    },
    onEvent: (message) => events.push(message),
    onStateChange: (state) => states.push(state),
    logger,
    callTimeoutMs: 10_000,
    stopTimeoutMs: 3_000,
    restartDelayMs: 500,
    maxRestarts: 2,
    restartWindowMs: 60_000,
    ...options,
  });
  const latest = () => processes[processes.length - 1]!;
  return { supervisor, processes, latest, events, states, logger };
}

const READY = { type: 'ready', laptopId: 'L1', address: 'L1@127.0.0.1:4242' } as const;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PeerSupervisor', () => {
  it('starts the peer, is ready when the peer says so, and relays calls and events', async () => {
    const { supervisor, processes, latest, events, states } = setUp();
    supervisor.start();
    supervisor.start(); // idempotent
    expect(processes).toHaveLength(1);
    expect(supervisor.state).toBe('starting');
    // Calls sent while the peer opens are answered once it is open.
    const status = supervisor.call('status', {});
    latest().send(READY);
    expect(supervisor.state).toBe('ready');
    latest().answer(1, { laptopId: 'L1' });
    expect(await status).toEqual({ ok: true, result: { laptopId: 'L1' } });
    latest().send({ type: 'event', event: 'outbox', payload: { classId: 'c', pending: 1 } });
    expect(events).toEqual([{ event: 'outbox', payload: { classId: 'c', pending: 1 } }]);
    expect(states).toEqual(['starting', 'ready']);
  });

  it('answers the calls in flight when the peer dies, and restarts it', async () => {
    const { supervisor, processes, latest, states } = setUp();
    supervisor.start();
    latest().send(READY);
    const call = supervisor.call('write', { classId: 'c', command: { op: 'put', key: 'k', value: 'v' } });
    // A crash may report any code, 0 included: an exit nobody asked for is unexpected.
    latest().exit(0);
    expect(await call).toEqual({ ok: false, error: { code: 'UNREACHABLE', message: expect.stringMatching(/stopped before it answered/) } });
    expect(supervisor.state).toBe('restarting');
    expect(await supervisor.call('status', {})).toEqual({ ok: false, error: { code: 'UNREACHABLE', message: expect.stringMatching(/restarting/) } });

    await vi.advanceTimersByTimeAsync(500);
    expect(processes).toHaveLength(2);
    const second = latest();
    second.send(READY);
    const status = supervisor.call('status', {});
    // The new process numbers its calls afresh; a late message from the dead one matches nothing.
    processes[0]!.send({ type: 'response', id: 1, ok: true, result: 'stale' });
    second.answer(1, { laptopId: 'L1' });
    expect(await status).toEqual({ ok: true, result: { laptopId: 'L1' } });
    expect(states).toEqual(['starting', 'ready', 'restarting', 'starting', 'ready']);
  });

  it('gives up after too many crashes in a row and says so', async () => {
    const { supervisor, processes, latest, states } = setUp({ maxRestarts: 2, restartWindowMs: 60_000 });
    supervisor.start();
    for (let crash = 0; crash < 3; crash++) {
      latest().exit(1);
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(processes).toHaveLength(3);
    expect(supervisor.state).toBe('failed');
    expect(states.at(-1)).toBe('failed');
    expect(await supervisor.call('status', {})).toMatchObject({ ok: false, error: { code: 'UNREACHABLE', message: expect.stringMatching(/could not be kept running/) } });
    // Starting again (a person asked) gets a fresh set of restarts.
    supervisor.start();
    expect(processes).toHaveLength(4);
  });

  it('forgets crashes older than the restart window', async () => {
    const { supervisor, processes, latest } = setUp({ maxRestarts: 1, restartWindowMs: 10_000 });
    supervisor.start();
    latest().exit(1);
    await vi.advanceTimersByTimeAsync(500);
    await vi.advanceTimersByTimeAsync(20_000);
    latest().exit(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(processes).toHaveLength(3);
    expect(supervisor.state).toBe('starting');
  });

  it('counts a process that cannot even be started as a crash', async () => {
    let attempts = 0;
    const process = new FakePeerProcess();
    const { supervisor, logger } = setUp({
      startProcess: () => {
        if (attempts++ === 0) throw new Error('spawn ENOENT');
        return process;
      },
    });
    supervisor.start();
    expect(supervisor.state).toBe('restarting');
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'could not start the peer process' }));
    await vi.advanceTimersByTimeAsync(500);
    expect(supervisor.state).toBe('starting');
  });

  it('stops gracefully: asks, refuses new calls, still relays the answers under way, and does not restart', async () => {
    const { supervisor, processes, latest, states } = setUp();
    supervisor.start();
    latest().send(READY);
    const underWay = supervisor.call('status', {});
    const stopped = supervisor.stop();
    expect(supervisor.stop()).toBe(stopped);
    expect(latest().posted.at(-1)).toEqual({ type: 'stop' });
    expect(supervisor.state).toBe('stopping');
    expect(await supervisor.call('status', {})).toEqual({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringMatching(/shutting down/) } });
    latest().answer(1, { laptopId: 'L1' });
    expect(await underWay).toEqual({ ok: true, result: { laptopId: 'L1' } });
    // The leadership hand-off takes a moment; then the process exits.
    await vi.advanceTimersByTimeAsync(1_000);
    latest().exit(0);
    await stopped;
    expect(supervisor.state).toBe('stopped');
    expect(latest().kills).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(processes).toHaveLength(1);
    expect(states).toEqual(['starting', 'ready', 'stopping', 'stopped']);
  });

  it('kills a peer that does not stop in time', async () => {
    const { supervisor, latest, logger } = setUp({ stopTimeoutMs: 3_000 });
    supervisor.start();
    const stopped = supervisor.stop();
    await vi.advanceTimersByTimeAsync(2_999);
    expect(latest().kills).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(latest().kills).toBe(1);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'warn', message: 'the peer process did not stop in time; killing it' }));
    latest().exit(null);
    await stopped;
    expect(supervisor.state).toBe('stopped');
  });

  it('stops waiting for a peer that does not even exit when killed', async () => {
    const { supervisor, logger } = setUp({ stopTimeoutMs: 3_000 });
    supervisor.start();
    const stopped = supervisor.stop();
    await vi.advanceTimersByTimeAsync(3_000 + 5_000);
    await stopped;
    expect(supervisor.state).toBe('stopped');
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'the peer process did not exit after it was killed' }));
  });

  it('stops at once while waiting to restart, without starting another peer', async () => {
    const { supervisor, processes, latest } = setUp();
    supervisor.start();
    latest().exit(1);
    await supervisor.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(processes).toHaveLength(1);
    expect(supervisor.state).toBe('stopped');
  });
});
