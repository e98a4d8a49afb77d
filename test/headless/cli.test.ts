// The `quorum-node` command line: what it accepts, what it prints, and how it starts and stops,
// run against a fake peer.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HttpApiClient } from '../../shared/http';
import { ServiceError } from '../../electron/peer/service';
import { parseArguments, runCli, USAGE, type CliDependencies, type CliOptions, type PeerOpenOptions } from '../../electron/headless/cli';
import { TOKEN_FILE } from '../../electron/headless/token';
import { cannedResults, FakePeerService } from './fake-service';
import { rawRequest, waitFor } from './support';

const defaults: Omit<CliOptions, 'dataDir'> = {
  name: null,
  host: '0.0.0.0',
  port: 0,
  apiHost: '127.0.0.1',
  apiPort: 0,
  createClass: null,
  join: null,
  peers: [],
  discovery: true,
  mdnsInterface: null,
  logLevel: 'info',
  staticDir: null,
  httpApi: false,
};

describe('parseArguments', () => {
  it.each<[string[], Partial<CliOptions>]>([
    [['--data-dir', 'd'], {}],
    [['--data-dir=d'], {}],
    [['--data-dir', 'd', '--name', 'Teacher laptop'], { name: 'Teacher laptop' }],
    [['--data-dir', 'd', '--name=Room 12'], { name: 'Room 12' }],
    [['--data-dir', 'd', '--port', '4242', '--host', '192.168.1.20'], { port: 4242, host: '192.168.1.20' }],
    [['--data-dir', 'd', '--api-port', '8080', '--api-host', '0.0.0.0'], { apiPort: 8080, apiHost: '0.0.0.0' }],
    [['--data-dir', 'd', '--port', '0', '--api-port', '65535'], { port: 0, apiPort: 65535 }],
    [['--data-dir', 'd', '--create-class', 'Physics 2B'], { createClass: 'Physics 2B' }],
    [['--data-dir', 'd', '--join', 'ABCD-EFGH'], { join: 'ABCD-EFGH' }],
    [
      ['--data-dir', 'd', '--peer', 'LAPTOPB@192.168.1.21:4242', '--peer=10.0.0.2:7000', '--peer', 'LAPTOPC@[fe80::1]:1'],
      { peers: ['LAPTOPB@192.168.1.21:4242', '10.0.0.2:7000', 'LAPTOPC@[fe80::1]:1'] },
    ],
    [['--data-dir', 'd', '--peer', 'LAPTOPB@teacher.local:4242'], { peers: ['LAPTOPB@teacher.local:4242'] }],
    [['--data-dir', 'd', '--no-discovery'], { discovery: false }],
    [['--data-dir', 'd', '--mdns-interface', '192.168.1.20'], { mdnsInterface: '192.168.1.20' }],
    [['--data-dir', 'd', '--log-level', 'debug'], { logLevel: 'debug' }],
    [['--data-dir', 'd', '--log-level=error'], { logLevel: 'error' }],
    [['--data-dir', 'd', '--static-dir', 'out/renderer'], { staticDir: 'out/renderer' }],
    [['--name', 'x', '--data-dir', ' d '], { name: 'x' }],
    [['--data-dir', 'd', '--http-api'], { httpApi: true }],
    [['--data-dir', 'd', '--snapshot-every', '20'], { snapshotEvery: 20 }],
    [['--data-dir', 'd', '--backup-minute-ms', '5000'], { backupMinuteMs: 5000 }],
    [['--data-dir', 'd', '--class-rules', '2'], { classRules: 2 }],
  ])('accepts %j', (argv, expected) => {
    expect(parseArguments(argv)).toEqual({ kind: 'run', options: { ...defaults, dataDir: 'd', ...expected } });
  });

  it.each([[['--help']], [['--data-dir', 'd', '--help']], [['--help', '--bogus']]])('%j asks for help', (argv) => {
    expect(parseArguments(argv)).toEqual({ kind: 'help' });
  });

  it.each<[string[], RegExp]>([
    [[], /^--data-dir is required/],
    [['--name', 'x'], /^--data-dir is required/],
    [['--data-dir'], /^--data-dir needs a value$/],
    [['--data-dir', '--name', 'x'], /^--data-dir needs a value$/],
    [['--data-dir', ''], /^--data-dir may not be empty$/],
    [['--data-dir', 'd', '--data-dir', 'e'], /^--data-dir was given more than once$/],
    [['--data-dir', 'd', '--bogus'], /^unknown option --bogus$/],
    [['--data-dir', 'd', '-p', '4'], /^unexpected argument "-p"$/],
    [['--data-dir', 'd', 'extra'], /^unexpected argument "extra"$/],
    [['--data-dir', 'd', '--'], /^unexpected argument "--"$/],
    [['--data-dir', 'd', '--port', '70000'], /^--port must be a port number from 0 to 65535, not "70000"$/],
    [['--data-dir', 'd', '--snapshot-every', '0'], /^--snapshot-every must be a number of log entries from 1 to 9999999, not "0"$/],
    [['--data-dir', 'd', '--backup-minute-ms', '999'], /^--backup-minute-ms must be a number of milliseconds from 1000 to 60000, not "999"$/],
    [['--data-dir', 'd', '--class-rules', '0'], /^--class-rules must be a rules version from 1 to 99, not "0"$/],
    [['--data-dir', 'd', '--port', '-1'], /^--port must be a port number/],
    [['--data-dir', 'd', '--port', '12ab'], /^--port must be a port number/],
    [['--data-dir', 'd', '--port', '4.5'], /^--port must be a port number/],
    [['--data-dir', 'd', '--api-port', ''], /^--api-port must be a port number/],
    [['--data-dir', 'd', '--host', ''], /^--host must be an address/],
    [['--data-dir', 'd', '--api-host', 'a b'], /^--api-host must be an address/],
    [['--data-dir', 'd', '--name', '  '], /^--name may not be empty$/],
    [['--data-dir', 'd', '--create-class', ''], /^--create-class may not be empty$/],
    [['--data-dir', 'd', '--join='], /^--join may not be empty$/],
    [['--data-dir', 'd', '--peer', '192.168.1.21'], /^--peer takes an address like LAPTOPID@192.168.1.20:4242/],
    [['--data-dir', 'd', '--peer', 'L@h:0'], /^--peer takes an address/],
    [['--data-dir', 'd', '--peer', 'L@h:99999'], /^--peer takes an address/],
    [['--data-dir', 'd', '--peer', 'http://h:1'], /^--peer takes an address/],
    [['--data-dir', 'd', '--no-discovery=yes'], /^--no-discovery takes no value$/],
    [['--data-dir', 'd', '--http-api=yes'], /^--http-api takes no value$/],
    [['--data-dir', 'd', '--no-discovery', '--mdns-interface', '10.0.0.1'], /^--mdns-interface has no use with --no-discovery$/],
    [['--data-dir', 'd', '--mdns-interface', 'eth0'], /^--mdns-interface takes the IP address/],
    [['--data-dir', 'd', '--log-level', 'verbose'], /^--log-level must be debug, info, warn, error, not "verbose"$/],
    [['--data-dir', 'd', '--constructor'], /^unknown option --constructor$/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseArguments(argv);
    expect(parsed.kind).toBe('error');
    expect(parsed.kind === 'error' ? parsed.message : '').toMatch(message);
  });
});

const directories: string[] = [];
async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'quorum-cli-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

interface Harness {
  dependencies: CliDependencies;
  service: FakePeerService;
  opened: PeerOpenOptions[];
  signals: EventEmitter;
  exits: number[];
  stdout: string[];
  stderr: string[];
  /** The JSON of the first stdout line starting with `quorum-node <word>`, once it is there. */
  line(word: string): Promise<Record<string, string>>;
}

function harness(overrides: Partial<CliDependencies> = {}, service = new FakePeerService()): Harness {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const signals = new EventEmitter();
  const exits: number[] = [];
  const opened: PeerOpenOptions[] = [];
  const lines = () => stdout.join('').split('\n');
  return {
    service,
    opened,
    signals,
    exits,
    stdout,
    stderr,
    dependencies: {
      openPeer: async (options) => {
        opened.push(options);
        return service;
      },
      stdout: (text) => stdout.push(text),
      stderr: (text) => stderr.push(text),
      signals,
      exit: (code) => exits.push(code),
      defaultName: 'test-laptop',
      ...overrides,
    },
    async line(word) {
      const prefix = `quorum-node ${word} `;
      await waitFor(() => lines().some((line) => line.startsWith(prefix)), 5000, `the ${word} line`);
      return JSON.parse(lines().find((line) => line.startsWith(prefix))!.slice(prefix.length)) as Record<string, string>;
    },
  };
}

describe('runCli', () => {
  it('prints the usage for --help and exits 0', async () => {
    const test = harness();
    expect(await runCli(['--help'], test.dependencies)).toBe(0);
    expect(test.stdout.join('')).toBe(USAGE);
    expect(test.opened).toEqual([]);
  });

  it('explains a bad option, shows the usage and exits 2', async () => {
    const test = harness();
    expect(await runCli(['--data-dir', 'd', '--port', 'many'], test.dependencies)).toBe(2);
    const output = test.stderr.join('');
    expect(output).toMatch(/^quorum-node: --port must be a port number from 0 to 65535, not "many"\n\nUsage: /);
    expect(test.stdout).toEqual([]);
    expect(test.opened).toEqual([]);
  });

  it('starts, prints the ready line, serves the API, and stops on SIGTERM', async () => {
    const dataDir = await temporaryDirectory();
    const test = harness();
    const exitCode = runCli(['--data-dir', dataDir, '--port', '4242', '--log-level', 'debug'], test.dependencies);
    const ready = await test.line('ready');
    expect(test.stdout[0]).toMatch(/^quorum-node ready \{"api":"http:\/\/127\.0\.0\.1:\d+","token":"[A-Za-z0-9_-]{43}","laptopId":"laptop-a","address":"laptop-a@192\.168\.1\.20:4242"\}\n$/);
    expect(test.opened).toEqual([
      {
        dataDir,
        displayName: 'test-laptop',
        host: '0.0.0.0',
        port: 4242,
        discovery: { enabled: true },
        logger: expect.objectContaining({ component: 'node.peer', level: 'debug' }),
      },
    ]);
    const client = new HttpApiClient({ baseUrl: ready['api']!, token: ready['token']!, WebSocket });
    expect(await client.call('status', {})).toEqual({ ok: true, result: cannedResults.status });

    test.signals.emit('SIGTERM');
    expect(await exitCode).toBe(0);
    expect(test.service.closed).toBe(1);
    expect(test.exits).toEqual([]);
    expect(await client.call('status', {})).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
    expect(test.signals.listenerCount('SIGTERM') + test.signals.listenerCount('SIGINT')).toBe(0);
    // Every line on stderr is one JSON log record.
    const records = test.stderr.join('').trim().split('\n').map((line) => JSON.parse(line) as { component: string; message: string });
    expect(records.map((record) => record.message)).toEqual(expect.arrayContaining(['created the API token', 'API listening', 'stopping', 'stopped']));
    expect(records.every((record) => record.component.startsWith('node'))).toBe(true);
  });

  it('adds the peers, creates and joins classes, and prints what it made', async () => {
    const dataDir = await temporaryDirectory();
    const test = harness();
    const exitCode = runCli(
      [
        '--data-dir', dataDir, '--name', 'Room 12', '--no-discovery', '--create-class', 'Physics 2B', '--join', 'JOIN-9999',
        '--peer', 'LAPTOPB@10.0.0.2:4242', '--peer', 'LAPTOPC@10.0.0.3:4242',
      ],
      test.dependencies,
    );
    expect(await test.line('class')).toEqual(cannedResults.createClass);
    expect(await test.line('joined')).toEqual(cannedResults.joinClass);
    expect(test.stdout.map((text) => text.split(' ')[1])).toEqual(['ready', 'class', 'joined']);
    expect(test.service.calls).toEqual([
      { method: 'status', params: {} },
      { method: 'addPeerAddress', params: { address: 'LAPTOPB@10.0.0.2:4242' } },
      { method: 'addPeerAddress', params: { address: 'LAPTOPC@10.0.0.3:4242' } },
      { method: 'createClass', params: { name: 'Physics 2B' } },
      { method: 'joinClass', params: { joinCode: 'JOIN-9999' } },
    ]);
    expect(test.opened[0]).toMatchObject({ displayName: 'Room 12', discovery: { enabled: false } });
    test.signals.emit('SIGINT');
    expect(await exitCode).toBe(0);
  });

  it('passes the mDNS interface to the peer', async () => {
    const test = harness();
    const exitCode = runCli(['--data-dir', await temporaryDirectory(), '--mdns-interface', '192.168.1.20'], test.dependencies);
    await test.line('ready');
    expect(test.opened[0]?.discovery).toEqual({ enabled: true, interface: '192.168.1.20' });
    test.signals.emit('SIGTERM');
    expect(await exitCode).toBe(0);
  });

  it('keeps the token across runs', async () => {
    const dataDir = await temporaryDirectory();
    const tokens: string[] = [];
    for (let run = 0; run < 2; run++) {
      const test = harness();
      const exitCode = runCli(['--data-dir', dataDir], test.dependencies);
      tokens.push((await test.line('ready'))['token']!);
      test.signals.emit('SIGTERM');
      expect(await exitCode).toBe(0);
    }
    expect(tokens[0]).toBe(tokens[1]);
  });

  it('exits 1 with a sentence when the peer does not open', async () => {
    const test = harness({
      openPeer: async () => {
        throw new Error('the data directory is locked by another node');
      },
    });
    expect(await runCli(['--data-dir', await temporaryDirectory()], test.dependencies)).toBe(1);
    expect(test.stderr.join('')).toContain('quorum-node: could not open the peer: the data directory is locked by another node\n');
    expect(test.stdout).toEqual([]);
  });

  it('exits 1 after closing the peer when joining fails', async () => {
    const service = new FakePeerService();
    service.failNext('joinClass', new ServiceError('UNKNOWN_JOIN_CODE', 'No class has this join code.'));
    const test = harness({}, service);
    expect(await runCli(['--data-dir', await temporaryDirectory(), '--join', 'NOPE'], test.dependencies)).toBe(1);
    expect(test.stderr.join('')).toContain('quorum-node: could not join the class: No class has this join code. (UNKNOWN_JOIN_CODE)\n');
    expect(service.closed).toBe(1);
  });

  it('exits 1 after closing the peer when the API port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const test = harness();
      expect(await runCli(['--data-dir', await temporaryDirectory(), '--api-port', String(port)], test.dependencies)).toBe(1);
      expect(test.stderr.join('')).toContain(`quorum-node: could not serve the API on 127.0.0.1:${port}: `);
      expect(test.service.closed).toBe(1);
    } finally {
      blocker.close();
    }
  });

  it('forces the exit on a second signal while the peer is closing', async () => {
    const service = new FakePeerService();
    let finishClose!: () => void;
    service.close = () => new Promise<void>((resolve) => (finishClose = resolve));
    const test = harness({}, service);
    const exitCode = runCli(['--data-dir', await temporaryDirectory()], test.dependencies);
    await test.line('ready');
    test.signals.emit('SIGTERM');
    await waitFor(() => finishClose !== undefined, 5000, 'the close');
    expect(test.exits).toEqual([]);
    test.signals.emit('SIGINT');
    expect(test.exits).toEqual([1]);
    finishClose();
    expect(await exitCode).toBe(0);
  });

  it('stops without serving when the signal comes while the peer opens', async () => {
    const service = new FakePeerService();
    let finishOpen!: () => void;
    const test = harness({
      openPeer: () => new Promise((resolve) => (finishOpen = () => resolve(service))),
    });
    const exitCode = runCli(['--data-dir', await temporaryDirectory()], test.dependencies);
    await waitFor(() => finishOpen !== undefined, 5000, 'the open');
    test.signals.emit('SIGINT');
    finishOpen();
    expect(await exitCode).toBe(0);
    expect(test.stdout).toEqual([]);
    expect(service.closed).toBe(1);
  });

  it('serves the default UI folder when it exists, and refuses an explicit one that does not', async () => {
    const site = await temporaryDirectory();
    await mkdir(join(site, 'assets'));
    await writeFile(join(site, 'index.html'), '<!doctype html>');
    const test = harness({ defaultStaticDir: site });
    const exitCode = runCli(['--data-dir', await temporaryDirectory()], test.dependencies);
    const ready = await test.line('ready');
    const page = await rawRequest(ready['api']!, { path: '/' });
    expect(page.status).toBe(200);
    expect(page.text).toBe('<!doctype html>');
    test.signals.emit('SIGTERM');
    expect(await exitCode).toBe(0);

    const missing = harness();
    expect(await runCli(['--data-dir', 'd', '--static-dir', join(site, 'nope')], missing.dependencies)).toBe(2);
    expect(missing.stderr.join('')).toMatch(/--static-dir ".*nope" is not a directory/);
  });

  it('makes the data directory absolute for the peer', async () => {
    const test = harness();
    const relativeDir = join('node_modules', '.tmp', `quorum-cli-${process.pid}`);
    directories.push(relativeDir);
    const exitCode = runCli(['--data-dir', relativeDir], test.dependencies);
    await test.line('ready');
    expect(isAbsolute(test.opened[0]!.dataDir)).toBe(true);
    test.signals.emit('SIGTERM');
    expect(await exitCode).toBe(0);
  });
});

/** Electron's process.parentPort as the node sees it under the desktop app. */
class FakeParentPort extends EventEmitter {
  readonly posted: Record<string, unknown>[] = [];

  postMessage(message: unknown): void {
    this.posted.push(structuredClone(message) as Record<string, unknown>);
  }

  send(data: unknown): void {
    this.emit('message', { data, ports: [] });
  }

  async waitFor(type: string, id?: number): Promise<Record<string, unknown>> {
    const match = (message: Record<string, unknown>) => message['type'] === type && (id === undefined || message['id'] === id);
    await waitFor(() => this.posted.some(match), 5000, `a ${type} message`);
    return this.posted.find(match)!;
  }
}

describe('runCli under the desktop app (a utilityProcess with a parent port)', () => {
  it('serves the API over the port and opens no HTTP port, then stops when the app asks', async () => {
    const dataDir = await temporaryDirectory();
    const port = new FakeParentPort();
    const test = harness({ parentPort: port });
    const exitCode = runCli(['--data-dir', dataDir, '--no-discovery'], test.dependencies);
    expect(await port.waitFor('ready')).toEqual({ type: 'ready', laptopId: 'laptop-a', address: 'laptop-a@192.168.1.20:4242' });
    port.send({ type: 'call', id: 1, method: 'createClass', params: { name: 'Physics 2B' } });
    expect(await port.waitFor('response', 1)).toEqual({ type: 'response', id: 1, ok: true, result: cannedResults.createClass });

    port.send({ type: 'stop' });
    expect(await exitCode).toBe(0);
    expect(test.service.closed).toBe(1);
    expect(port.listenerCount('message')).toBe(0);
    // No ready line (nothing to connect to), no API token, no HTTP server.
    expect(test.stdout).toEqual([]);
    expect(existsSync(join(dataDir, TOKEN_FILE))).toBe(false);
    const messages = test.stderr.join('').trim().split('\n').map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).not.toContain('API listening');
    expect(messages).toEqual(expect.arrayContaining(['stopping', 'stopped']));
  });

  it('serves HTTP too when --http-api asks, with the ready line', async () => {
    const port = new FakeParentPort();
    const test = harness({ parentPort: port });
    const exitCode = runCli(['--data-dir', await temporaryDirectory(), '--http-api'], test.dependencies);
    const ready = await test.line('ready');
    await port.waitFor('ready');
    const client = new HttpApiClient({ baseUrl: ready['api']!, token: ready['token']!, WebSocket });
    expect(await client.call('status', {})).toEqual({ ok: true, result: cannedResults.status });
    port.send({ type: 'stop' });
    expect(await exitCode).toBe(0);
    expect(await client.call('status', {})).toMatchObject({ ok: false, error: { code: 'UNREACHABLE' } });
  });

  it('stops gracefully when the port closes, or on SIGTERM, as a plain node does', async () => {
    for (const stop of [(port: FakeParentPort) => port.emit('close'), (_: FakeParentPort, signals: EventEmitter) => signals.emit('SIGTERM')]) {
      const port = new FakeParentPort();
      const test = harness({ parentPort: port });
      const exitCode = runCli(['--data-dir', await temporaryDirectory()], test.dependencies);
      await port.waitFor('ready');
      stop(port, test.signals);
      expect(await exitCode).toBe(0);
      expect(test.service.closed).toBe(1);
    }
  });

  it('refuses new calls while it stops, and answers the call under way', async () => {
    const service = new FakePeerService();
    let finishClose!: () => void;
    service.close = () => new Promise<void>((resolve) => (finishClose = resolve));
    let finishPlan!: () => void;
    service.methods.recoveryPlan = () => new Promise((resolve) => (finishPlan = () => resolve(cannedResults.recoveryPlan)));
    const port = new FakeParentPort();
    const test = harness({ parentPort: port }, service);
    const exitCode = runCli(['--data-dir', await temporaryDirectory()], test.dependencies);
    await port.waitFor('ready');
    port.send({ type: 'call', id: 1, method: 'recoveryPlan', params: { classId: 'class-1' } });
    port.send({ type: 'stop' });
    await waitFor(() => finishClose !== undefined, 5000, 'the close');
    port.send({ type: 'call', id: 2, method: 'status', params: {} });
    expect(await port.waitFor('response', 2)).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    finishPlan();
    expect(await port.waitFor('response', 1)).toMatchObject({ ok: true, result: cannedResults.recoveryPlan });
    finishClose();
    expect(await exitCode).toBe(0);
  });

  it('hears a stop while the peer opens, and closes it without serving', async () => {
    const service = new FakePeerService();
    let finishOpen!: () => void;
    const port = new FakeParentPort();
    const test = harness({ parentPort: port, openPeer: () => new Promise((resolve) => (finishOpen = () => resolve(service))) });
    const exitCode = runCli(['--data-dir', await temporaryDirectory()], test.dependencies);
    await waitFor(() => finishOpen !== undefined, 5000, 'the open');
    port.send({ type: 'call', id: 1, method: 'status', params: {} });
    port.send({ type: 'stop' });
    finishOpen();
    expect(await exitCode).toBe(0);
    expect(service.closed).toBe(1);
    expect(service.calls).toEqual([]);
    expect(port.posted).toEqual([{ type: 'response', id: 1, ok: false, error: { code: 'UNAVAILABLE', message: expect.any(String) } }]);
  });

  it('exits 1 when the peer does not open, and lets go of the port', async () => {
    const port = new FakeParentPort();
    const test = harness({
      parentPort: port,
      openPeer: async () => {
        throw new Error('the data directory is locked by another node');
      },
    });
    expect(await runCli(['--data-dir', await temporaryDirectory()], test.dependencies)).toBe(1);
    expect(test.stderr.join('')).toContain('quorum-node: could not open the peer: the data directory is locked by another node\n');
    expect(port.listenerCount('message')).toBe(0);
  });
});
