// Real headless nodes as separate processes on loopback, for integration tests: start, kill -9,
// restart with the same data directory and ports, and talk to each through its HTTP API.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { HttpApiClient } from '../../shared/http';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'electron/headless/main.ts');

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
    };
    this.nodes.push(node);
    await this.start(node, extraArgs);
    return node;
  }

  /** Start (or restart) `node` and wait for its ready line. */
  async start(node: NodeHandle, extraArgs: string[] = []): Promise<void> {
    const args = [
      '--import',
      'tsx',
      MAIN,
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
      'warn',
      ...extraArgs,
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    node.process = child;
    node.lines = [];
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
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

export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
