// The desktop app's peer process, end to end without the Electron binary: the main process's real
// supervisor and relay drive the real headless entry (electron/headless/main.ts with a real
// ClassroomPeer) in a child process, where a shim stands in for Electron's parentPort. Only the
// utilityProcess itself is replaced, by Node's fork with structured-clone messages.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TOKEN_FILE } from '../../electron/headless/token';
import { PeerSupervisor, type PeerProcess, type PeerProcessState } from '../../electron/ipc/peer-supervisor';
import type { ApiEventMessage } from '../../shared/http';
import { recordingLogger, waitFor } from '../headless/support';
import { forkPeerProcess } from './forked-peer-process';

interface Harness {
  supervisor: PeerSupervisor;
  children: ChildProcess[];
  stdout: string[];
  /** The peer processes' logs, kept for a failing test's message rather than printed. */
  stderr: string[];
  events: ApiEventMessage[];
  states: PeerProcessState[];
  dataDir: string;
  waitForState(state: PeerProcessState, count?: number): Promise<void>;
}

const cleanUps: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanUps.splice(0).map((cleanUp) => cleanUp()));
});

function startApp(): Harness {
  const dataDir = mkdtempSync(join(tmpdir(), 'quorum-utility-'));
  const children: ChildProcess[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const events: ApiEventMessage[] = [];
  const states: PeerProcessState[] = [];
  // What electron/main/peer-process.ts passes, with loopback and no mDNS for the test.
  const args = ['--data-dir', dataDir, '--name', 'Teacher', '--host', '127.0.0.1', '--no-discovery', '--log-level', 'warn'];
  const supervisor = new PeerSupervisor({
    startProcess: (): PeerProcess => forkPeerProcess(args, { children, stdout, stderr }),
    onEvent: (message) => events.push(message),
    onStateChange: (state) => states.push(state),
    logger: recordingLogger(),
    stopTimeoutMs: 20_000,
    restartDelayMs: 100,
  });
  cleanUps.push(async () => {
    await supervisor.stop();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    supervisor,
    children,
    stdout,
    stderr,
    events,
    states,
    dataDir,
    waitForState: async (state, count = 1) => {
      try {
        await waitFor(() => states.filter((seen) => seen === state).length >= count, 30_000, `the state ${state}`);
      } catch (error) {
        throw new Error(`${(error as Error).message}; the peer logged:\n${stderr.join('')}`);
      }
    },
  };
}

describe('the headless entry as the desktop app’s peer process', () => {
  it('serves the API and its events over the parent port, opens no HTTP port, and stops gracefully when asked', async () => {
    const app = startApp();
    app.supervisor.start();
    await app.waitForState('ready');

    const status = await app.supervisor.call('status', {});
    expect(status).toMatchObject({ ok: true, result: { displayName: 'Teacher', classes: [] } });
    const created = await app.supervisor.call('createClass', { name: 'Physics 2B' });
    expect(created).toMatchObject({ ok: true, result: { classId: expect.any(String), joinCode: expect.any(String) } });
    const classId = (created as { result: { classId: string } }).result.classId;
    const written = await app.supervisor.call('write', { classId, command: { op: 'put', key: 'greeting', value: 'hello' }, waitMs: 5000 });
    expect(written).toMatchObject({ ok: true, result: { status: 'applied' } });
    expect(await app.supervisor.call('read', { classId, key: 'greeting' })).toMatchObject({ ok: true, result: { value: 'hello' } });
    await waitFor(() => app.events.some((message) => message.event === 'applied' && message.payload.classId === classId), 10_000, 'an applied event');

    expect(await app.supervisor.call('createClass', { name: 7 })).toEqual({ ok: false, error: { code: 'INVALID_PARAMS', message: 'params.name must be text' } });
    expect(await app.supervisor.call('dropTables', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });

    const [child] = app.children;
    const exited = new Promise<number | null>((resolveExit) => child!.once('exit', (code) => resolveExit(code)));
    await app.supervisor.stop();
    expect(await exited).toBe(0);
    expect(app.supervisor.state).toBe('stopped');
    expect(app.children).toHaveLength(1);
    // Nothing for a browser: no ready line with an address and token, no token file.
    expect(app.stdout.join('')).not.toContain('quorum-node ready');
    expect(existsSync(join(app.dataDir, TOKEN_FILE))).toBe(false);
  });

  it('restarts a peer process that was killed, on the same data', async () => {
    const app = startApp();
    app.supervisor.start();
    await app.waitForState('ready');
    const created = await app.supervisor.call('createClass', { name: 'Physics 2B' });
    const classId = (created as { result: { classId: string } }).result.classId;

    app.children[0]!.kill('SIGKILL');
    await app.waitForState('restarting');
    await app.waitForState('ready', 2);
    expect(app.children).toHaveLength(2);
    const status = await app.supervisor.call('status', {});
    expect(status).toMatchObject({ ok: true, result: { classes: [expect.objectContaining({ classId })] } });
  });
});
