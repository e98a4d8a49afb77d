// Real headless nodes as separate processes on loopback, for integration tests: start, kill -9,
// stop with a signal, restart with the same data directory and ports, and talk to each through
// its HTTP API.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { HttpApiClient } from '../../shared/http';
import type { LogLevel, LogRecord } from '../../electron/headless/logger';
import { PEER_NODE_FLAGS } from '../../electron/headless/runtime-flags';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'electron/headless/main.ts');
/** The same node as plain JavaScript, from `npm run build`. */
export const BUILT_MAIN = join(ROOT, 'out/main/headless.js');

export interface NodeHandle {
  name: string;
  dataDir: string;
  transportPort: number;
  apiPort: number;
  laptopId: string;
  api: HttpApiClient;
  process: ChildProcess | null;
  /** stdout lines of the current run. */
  lines: string[];
  /** Log records (stderr) of the current run, at the cluster's log level. */
  logs: LogRecord[];
}

export interface HeadlessClusterOptions {
  /** The nodes' --log-level; default warn, which keeps a long run's logs small. */
  logLevel?: LogLevel;
  /**
   * Run the TypeScript sources through tsx (the default: tests need no build), or the built
   * `out/main/headless.js` with plain node, as an installed app would (benchmarks).
   */
  entry?: 'sources' | 'built';
  /** Options every node of the cluster gets on every start (e.g. --snapshot-every), before each start's own. */
  nodeArgs?: string[];
}

/** How a node's process ended. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From sending the signal to the process being gone, its output read to the end. */
  elapsedMs: number;
}

/** A free loopback port (bound and released; another process could take it, rarely). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export class HeadlessCluster {
  readonly nodes: NodeHandle[] = [];
  private readonly root = mkdtempSync(join(tmpdir(), 'quorum-cluster-'));
  private readonly logLevel: LogLevel;
  private readonly entryArgs: string[];
  private readonly nodeArgs: string[];

  constructor(options: HeadlessClusterOptions = {}) {
    this.logLevel = options.logLevel ?? 'warn';
    this.nodeArgs = options.nodeArgs ?? [];
    this.entryArgs = [...PEER_NODE_FLAGS, ...(options.entry === 'built' ? [BUILT_MAIN] : ['--import', 'tsx', MAIN])];
  }

  async add(name: string, extraArgs: string[] = []): Promise<NodeHandle> {
    const node: NodeHandle = {
      name,
      dataDir: join(this.root, name),
      transportPort: await freePort(),
      apiPort: await freePort(),
      laptopId: '',
      api: null as unknown as HttpApiClient,
      process: null,
      lines: [],
      logs: [],
    };
    this.nodes.push(node);
    await this.start(node, extraArgs);
    return node;
  }

  /** Start (or restart) `node` and wait for its ready line. */
  async start(node: NodeHandle, extraArgs: string[] = []): Promise<void> {
    const args = [
      ...this.entryArgs,
      '--data-dir',
      node.dataDir,
      '--name',
      node.name,
      '--host',
      '127.0.0.1',
      '--port',
      String(node.transportPort),
      '--api-port',
      String(node.apiPort),
      '--no-discovery',
      '--log-level',
      this.logLevel,
      ...this.nodeArgs,
      ...extraArgs,
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    node.process = child;
    node.lines = [];
    node.logs = [];
    let stderr = '';
    let stderrBuffer = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr = (stderr + text).slice(-4000);
      stderrBuffer += text;
      let newline: number;
      while ((newline = stderrBuffer.indexOf('\n')) >= 0) {
        const line = stderrBuffer.slice(0, newline);
        stderrBuffer = stderrBuffer.slice(newline + 1);
        const record = parseLogRecord(line);
        if (record) node.logs.push(record);
      }
    });
    const ready = await new Promise<{ api: string; token: string; laptopId: string }>((resolveReady, reject) => {
      let buffer = '';
      const timer = setTimeout(() => reject(new Error(`${node.name} did not start: ${stderr}`)), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          node.lines.push(line);
          if (line.startsWith('quorum-node ready ')) {
            clearTimeout(timer);
            resolveReady(JSON.parse(line.slice('quorum-node ready '.length)));
          }
        }
      });
      child.once('exit', (code) => reject(new Error(`${node.name} exited with ${code}: ${stderr}`)));
    });
    node.laptopId = ready.laptopId;
    node.api = new HttpApiClient({ baseUrl: ready.api, token: ready.token, WebSocket: WebSocket as never });
  }

  /** SIGKILL: no shutdown code runs, exactly like pulling the plug. */
  async kill(node: NodeHandle): Promise<void> {
    const child = node.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
    child.kill('SIGKILL');
    await exited;
    node.process = null;
  }

  /**
   * Send `signal` (SIGTERM, SIGINT: a graceful stop) and wait until the process is gone and its
   * last log lines are read. One still running after `killAfterMs` is killed with SIGKILL, which
   * the returned exit shows, so that a hung shutdown fails an assertion rather than the test's timeout.
   */
  async stop(node: NodeHandle, signal: NodeJS.Signals, killAfterMs = 30_000): Promise<NodeExit> {
    const child = node.process;
    if (!child || child.exitCode !== null) throw new Error(`${node.name} is not running`);
    const started = performance.now();
    // 'close', not 'exit': it comes after stdout and stderr have ended.
    const closed = new Promise<Omit<NodeExit, 'elapsedMs'>>((resolveClose) =>
      child.once('close', (code, closedBy) => resolveClose({ code, signal: closedBy })),
    );
    child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const exit = await closed;
    clearTimeout(killer);
    node.process = null;
    return { ...exit, elapsedMs: performance.now() - started };
  }

  /** Every node learns every other's address (the manual fallback; discovery is off on loopback). */
  async connectAll(): Promise<void> {
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a !== b) await a.api.methods.addPeerAddress({ address: `${b.laptopId}@127.0.0.1:${b.transportPort}` });
      }
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const child = node.process;
        if (!child || child.exitCode !== null) return;
        const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A log line as a record; null for anything else on stderr (a crash from tsx, say), which stays in the tail. */
function parseLogRecord(line: string): LogRecord | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && 'message' in value ? (value as LogRecord) : null;
  } catch {
    return null;
  }
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
