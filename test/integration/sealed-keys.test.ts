// The laptop's keys at rest, end to end without the Electron binary: the real headless entry
// (electron/headless/main.ts with a real ClassroomPeer) runs as a plain node, then as the app's
// peer process behind the main process's real supervisor, which answers its seal requests with a
// stand-in for safeStorage (AES-GCM under a test key: the computer user's keyring). Only
// utilityProcess is replaced, by Node's fork with a parent-port shim, as in utility-process.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PEER_NODE_FLAGS } from '../../electron/headless/runtime-flags';
import { PeerSupervisor, type PeerProcess, type PeerProcessState } from '../../electron/ipc/peer-supervisor';
import { VAULT_KEY_FILE } from '../../electron/peer/secrets';
import { recordingLogger, waitFor } from '../headless/support';
import { testKeyring, type TestKeyring } from '../peer/secrets/test-keyring';
import { forkPeerProcess } from './forked-peer-process';

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'electron/headless/main.ts');
const KEY_FILES = ['identity.pem', 'user-key.pem', 'classes.json'];
const NODE_ARGS = ['--name', 'Teacher', '--host', '127.0.0.1', '--no-discovery', '--log-level', 'warn'];

const cleanUps: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

function dataDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'quorum-sealed-'));
  cleanUps.push(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** The headless node on its own (no parent port), until it has created a class; then stopped. */
async function runPlainNode(directory: string): Promise<{ laptopId: string; classId: string }> {
  const child = spawn(process.execPath, [...PEER_NODE_FLAGS, '--import', 'tsx', ENTRY, '--data-dir', directory, ...NODE_ARGS, '--create-class', 'Physics 2B'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanUps.push(() => void (child.exitCode === null && child.kill('SIGKILL')));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = (word: string) => JSON.parse(stdout.split('\n').find((text) => text.startsWith(`quorum-node ${word} `))!.slice(word.length + 13)) as Record<string, string>;
  await waitFor(() => stdout.includes('quorum-node class '), 30_000, `the plain node's class line; it logged:\n${stderr}`);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  return { laptopId: line('ready')['laptopId']!, classId: line('class')['classId']! };
}

interface App {
  supervisor: PeerSupervisor;
  children: ChildProcess[];
  stderr: string[];
  states: PeerProcessState[];
  call(method: string, params: unknown): Promise<Record<string, unknown>>;
  waitForState(state: PeerProcessState): Promise<void>;
}

/** The desktop app's main process on `directory`, with `keyring` as its safeStorage. */
function startApp(directory: string, keyring: TestKeyring): App {
  const children: ChildProcess[] = [];
  const stderr: string[] = [];
  const states: PeerProcessState[] = [];
  const supervisor = new PeerSupervisor({
    startProcess: (): PeerProcess => forkPeerProcess(['--data-dir', directory, ...NODE_ARGS], { children, stderr }),
    onEvent: () => {},
    onStateChange: (state) => states.push(state),
    logger: recordingLogger(),
    keyring,
    restartDelayMs: 100,
    maxRestarts: 1,
  });
  cleanUps.push(async () => {
    await supervisor.stop();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  supervisor.start();
  return {
    supervisor,
    children,
    stderr,
    states,
    call: async (method, params) => {
      const response = await supervisor.call(method, params);
      if (!response.ok) throw new Error(`${method} failed: ${response.error.message}`);
      return response.result as Record<string, unknown>;
    },
    waitForState: (state) => waitFor(() => states.includes(state), 30_000, `the state ${state}; the peer logged:\n${stderr.join('')}`),
  };
}

/** Who this laptop is to the class: its laptop id, its user and that user's role. */
async function whoAmI(app: App, classId: string): Promise<{ laptopId: unknown; userId: unknown; role: unknown }> {
  const status = await app.call('status', {});
  const overview = (await app.call('classroom', { classId })) as { me: { userId: string; role: string } };
  return { laptopId: status['laptopId'], userId: overview.me.userId, role: overview.me.role };
}

function keyFilesOn(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => KEY_FILES.some((key) => name.startsWith(key)) || name === VAULT_KEY_FILE)
    .sort();
}

const posixOnly = process.platform === 'win32' ? it.skip : it;

describe('the laptop’s keys at rest, through the real peer process', () => {
  posixOnly('a plain node keeps 0600 files; the app seals them on its first start, and unseals them on the next as the same laptop and user', async () => {
    const directory = dataDir();
    const plain = await runPlainNode(directory);
    expect(keyFilesOn(directory)).toEqual(['classes.json', 'identity.pem', 'user-key.pem']);
    for (const name of KEY_FILES) expect(statSync(join(directory, name)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(directory, 'identity.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    const keyring = testKeyring();
    const first = startApp(directory, keyring);
    await first.waitForState('ready');
    const before = await whoAmI(first, plain.classId);
    expect(before).toMatchObject({ laptopId: plain.laptopId, role: 'teacher' });
    await first.supervisor.stop();

    expect(keyFilesOn(directory)).toEqual(['classes.json.sealed', 'identity.pem.sealed', 'user-key.pem.sealed', VAULT_KEY_FILE]);
    for (const name of ['identity.pem.sealed', 'user-key.pem.sealed']) {
      const bytes = readFileSync(join(directory, name));
      expect(bytes.toString('latin1')).not.toContain('PRIVATE KEY');
      expect(() => createPrivateKey({ key: bytes, format: 'pem' })).toThrow();
    }
    expect(readFileSync(join(directory, 'classes.json.sealed')).toString('latin1')).not.toContain('Physics 2B');
    expect(keyring.seals).toBe(1);

    const second = startApp(directory, testKeyring({ key: keyring.key }));
    await second.waitForState('ready');
    expect(await whoAmI(second, plain.classId)).toEqual(before);
  }, 90_000);

  it('with another user’s keyring the peer does not start: it says why and leaves the keys as they were', async () => {
    const directory = dataDir();
    const owner = startApp(directory, testKeyring());
    await owner.waitForState('ready');
    await owner.call('createClass', { name: 'Physics 2B' });
    await owner.supervisor.stop();
    const sealed = Object.fromEntries(keyFilesOn(directory).map((name) => [name, readFileSync(join(directory, name)).toString('base64')]));

    const stranger = startApp(directory, testKeyring());
    await stranger.waitForState('failed');
    expect(stranger.children.map((child) => child.exitCode)).toEqual([1, 1]);
    expect(stranger.stderr.join('')).toContain(
      'quorum-node: could not open the peer: Quorum cannot unlock this laptop’s keys: they were locked by another user account on this computer, or the computer’s keyring was reset since. Nothing was changed.',
    );
    expect(Object.fromEntries(keyFilesOn(directory).map((name) => [name, readFileSync(join(directory, name)).toString('base64')]))).toEqual(sealed);
    expect(existsSync(join(directory, 'identity.pem'))).toBe(false);
  }, 90_000);
});
