// The test's side of node-agent.mjs: one real `quorum-node` per namespace, driven through the
// shared HttpApiClient whose requests the agent relays into the namespace (the node's API
// listens on the namespace's loopback, out of the root namespace's reach).
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ApiMethod, ApiParams, ApiResult, ClassStatus } from '../../shared/api';
import { HttpApiClient, type FetchFunction } from '../../shared/http';
import { lanScript, type Lan } from './netns';

const REPO_ROOT = join(import.meta.dirname, '../..');
const NODE_MAIN = join(REPO_ROOT, 'electron/headless/main.ts');
/** Each namespace has its own ports, so every laptop uses the same two. */
const TRANSPORT_PORT = 7000;
const API_PORT = 7100;
const STDERR_LINES_KEPT = 2_000;
/** Names of the x86-64 system calls a blocked Node process is usually found in. */
const X64_SYSCALLS: Record<number, string> = {
  0: 'read',
  1: 'write',
  7: 'poll',
  20: 'writev',
  72: 'fcntl',
  74: 'fsync',
  75: 'fdatasync',
  202: 'futex',
  232: 'epoll_wait',
  281: 'epoll_pwait',
  441: 'epoll_pwait2',
};
/** The calls among those whose first argument is a file descriptor. */
const FD_SYSCALLS = new Set(['read', 'write', 'writev', 'fcntl', 'fsync', 'fdatasync']);
/** How much longer than the agent's own timeout a relayed request may take before the test stops waiting. */
const AGENT_GRACE_MS = 10_000;

type AgentLine =
  | { type: 'ready'; pid: number; api: string; token: string; laptopId: string; address: string }
  | { type: 'line'; line: string }
  | { type: 'response'; id: number; status: number; body: string }
  | { type: 'response'; id: number; error: string }
  | { type: 'exit'; code: number | null; signal: string | null };

type Pending = { resolve: (response: { status: number; text(): Promise<string> }) => void; reject: (error: Error) => void };

export interface LaptopOptions {
  name: string;
  dataDir: string;
  /** The node's --log-level; default warn. */
  logLevel?: string;
  /** How long to wait for the ready line. */
  startTimeoutMs?: number;
  /** Where to append the node's stderr as it arrives, so a run that is killed still leaves it. */
  logFile?: string;
  /**
   * The node's entry: the TypeScript sources by default, or a built file such as
   * out/main/headless.js, which keeps running the same code while the sources are being edited.
   */
  main?: string;
  /** Extra environment for the agent and its node (NODE_OPTIONS, for one). */
  env?: Record<string, string>;
}

export class ClassroomLaptop {
  /** API calls that may wait for a commit (writes): the agent gives up after 60 s. */
  api!: HttpApiClient;
  /** API calls that should answer at once (status): a frozen or cut-off node is "unreachable" after 3 s. */
  quickApi!: HttpApiClient;
  /** The node's own pid (not the agent's), for SIGSTOP and SIGCONT. */
  pid = 0;
  laptopId = '';
  /** The tail of the node's stderr (its warnings and errors as JSON lines). */
  readonly stderr: string[] = [];
  readonly stdoutLines: string[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextRequest = 0;
  private ready: ((line: Extract<AgentLine, { type: 'ready' }>) => void) | null = null;
  private exitStatus: { code: number | null; signal: string | null } | null = null;
  private lastStatusProblem = 'none';

  private constructor(
    readonly hostIndex: number,
    readonly name: string,
    private readonly agent: ChildProcess,
    logFile: string | undefined,
  ) {
    createInterface({ input: agent.stdout! }).on('line', (line) => this.record(line));
    const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
    log?.on('error', () => {}); // a log that cannot be written must not fail the test
    createInterface({ input: agent.stderr! })
      .on('line', (line) => {
        this.stderr.push(line);
        if (this.stderr.length > STDERR_LINES_KEPT) this.stderr.shift();
        log?.write(`${line}\n`);
      })
      .once('close', () => log?.end());
    // Writing to an agent that just died fails with EPIPE; its 'exit' rejects what was pending.
    agent.stdin!.on('error', () => {});
    agent.once('exit', (code, signal) => {
      this.exitStatus ??= { code, signal };
      for (const request of this.pending.values()) request.reject(new Error(`${name}'s agent exited`));
      this.pending.clear();
    });
  }

  /** Starts the agent and its node in host `hostIndex`'s namespace and waits for the node's ready line. */
  static async start(lan: Lan, hostIndex: number, options: LaptopOptions): Promise<ClassroomLaptop> {
    const address = lan.host(hostIndex).address;
    const args = [
      ...['--data-dir', options.dataDir, '--name', options.name],
      ...['--host', address, '--port', String(TRANSPORT_PORT)],
      ...['--api-host', '127.0.0.1', '--api-port', String(API_PORT)],
      ...['--mdns-interface', address, '--log-level', options.logLevel ?? 'warn'],
    ];
    const main = options.main ?? NODE_MAIN;
    const agent = lan.spawnNode(hostIndex, lanScript('node-agent.mjs'), [JSON.stringify({ cwd: REPO_ROOT, main, args })], {
      tsx: false,
      ...(options.env ? { env: options.env } : {}),
    });
    const laptop = new ClassroomLaptop(hostIndex, options.name, agent, options.logFile);
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const ready = await new Promise<Extract<AgentLine, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.name} not ready after ${timeoutMs} ms: ${laptop.stderr.join('\n')}`)), timeoutMs);
      laptop.ready = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
      agent.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited before it was ready: ${laptop.stderr.join('\n')}`));
      });
    });
    laptop.pid = ready.pid;
    laptop.laptopId = ready.laptopId;
    const client = (timeout: number) => new HttpApiClient({ baseUrl: ready.api, token: ready.token, fetch: laptop.relay(timeout) });
    laptop.api = client(60_000);
    laptop.quickApi = client(3_000);
    return laptop;
  }

  /**
   * A fetch that the agent performs inside the namespace. The agent gives up after `timeoutMs`;
   * should its answer never come (an agent that hangs), the request fails here a little later.
   */
  private relay(timeoutMs: number): FetchFunction {
    return (url, init) =>
      new Promise((resolve, reject) => {
        if (this.exited()) return reject(new Error(`${this.name} is not running`));
        const id = ++this.nextRequest;
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`${this.name}'s agent did not answer ${url} within ${timeoutMs + AGENT_GRACE_MS} ms`));
        }, timeoutMs + AGENT_GRACE_MS);
        this.pending.set(id, {
          resolve: (response) => {
            clearTimeout(timer);
            resolve(response);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        this.agent.stdin!.write(`${JSON.stringify({ type: 'fetch', id, url, init, timeoutMs })}\n`);
      });
  }

  private record(text: string): void {
    let line: AgentLine;
    try {
      line = JSON.parse(text) as AgentLine;
    } catch {
      this.stderr.push(`(agent stdout) ${text}`);
      return;
    }
    if (line.type === 'ready') this.ready?.(line);
    else if (line.type === 'line') this.stdoutLines.push(line.line);
    else if (line.type === 'exit') this.exitStatus = { code: line.code, signal: line.signal };
    else if (line.type === 'response') {
      const request = this.pending.get(line.id);
      this.pending.delete(line.id);
      if (!request) return;
      if ('error' in line) request.reject(new Error(line.error));
      else request.resolve({ status: line.status, text: async () => line.body });
    }
  }

  /**
   * Calls `method` with the long timeout; a failure throws with the code, the message and the
   * tail of the node's log, which is where the details of an INTERNAL error are.
   */
  async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
    const response = await this.api.call(method, params);
    if (response.ok) return response.result;
    const log = this.stderr.slice(-10).join('\n    ');
    throw new Error(`${method} on ${this.name} failed: ${response.error.code}: ${response.error.message}\n  ${this.name}'s log ends:\n    ${log}`);
  }

  /** This laptop's status of its one class, or null when it has none or does not answer within 3 s. */
  async classStatus(): Promise<ClassStatus | null> {
    const response = await this.quickApi.call('status', {});
    if (!response.ok) this.lastStatusProblem = `${response.error.code}: ${response.error.message}`;
    else if (response.result.classes.length === 0) this.lastStatusProblem = 'no class';
    else return response.result.classes[0]!;
    return null;
  }

  /** Why the last `classStatus()` that gave null did, and what the node process is doing, for timeout messages. */
  describeSilence(): string {
    let state = 'no such process';
    try {
      // Field 3 of /proc/<pid>/stat is the state (R running, S sleeping, T stopped, Z zombie).
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      state = `state ${fields[0]}, ${((Number(fields[11]) + Number(fields[12])) / 100).toFixed(1)} s of CPU`;
      if (fields[0] === 'S' || fields[0] === 'D') state += `, ${whereBlocked(this.pid)}`;
    } catch {
      // gone
    }
    const agent = this.exited() ? `agent exited ${JSON.stringify(this.exitStatus)}` : 'agent running';
    return `${this.name}: ${this.lastStatusProblem}; node ${this.pid} ${state}; ${agent}`;
  }

  exited(): boolean {
    return this.exitStatus !== null || this.agent.exitCode !== null || this.agent.signalCode !== null;
  }

  /** Freezes the node like a laptop whose lid was closed: SIGSTOP, no code runs, sockets stay open. */
  freeze(): void {
    process.kill(this.nodePid(), 'SIGSTOP');
  }

  thaw(): void {
    process.kill(this.nodePid(), 'SIGCONT');
  }

  private nodePid(): number {
    // Never 0 or negative: process.kill would signal a whole process group, the test's own included.
    if (!(this.pid > 0)) throw new Error(`${this.name} has no node process`);
    return this.pid;
  }

  /** Closes the agent's stdin: it kills the node (SIGKILL) and exits. */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.agent.exitCode !== null || this.agent.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.agent.kill('SIGKILL');
        resolve();
      }, timeoutMs);
      this.agent.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.agent.stdin!.end();
    await exited;
  }
}

/**
 * Where a sleeping process's main thread waits, from /proc: the system call (with the file a
 * descriptor argument names) and the kernel function (wchan), e.g. "in write(2 → pipe:[4242]),
 * wchan pipe_write". A Node process idle in its event loop waits in epoll_wait; anywhere else, its
 * JavaScript cannot run until that call returns. (A main thread in futex waits for a lock: in
 * this suite that was Node 20's JWK export deadlock, see exportRawPublicKey in identity.ts.)
 */
function whereBlocked(pid: number): string {
  try {
    const wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8').trim() || '?';
    const [number, firstArgument] = readFileSync(`/proc/${pid}/syscall`, 'utf8').trim().split(' ');
    const call = process.arch === 'x64' ? (X64_SYSCALLS[Number(number)] ?? `syscall ${number}`) : `syscall ${number}`;
    let argument = '';
    if (FD_SYSCALLS.has(call) && firstArgument !== undefined) {
      const fd = Number.parseInt(firstArgument, 16);
      try {
        argument = `${fd} → ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
      } catch {
        argument = String(fd);
      }
    }
    return `in ${call}(${argument}), wchan ${wchan}`;
  } catch {
    return 'not known where';
  }
}
