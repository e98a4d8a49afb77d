// A LAN made of Linux network namespaces, for tests that need real sockets, real multicast and
// real link failures without touching the host's network.
//
//   switch namespace  <prefix>-sw : bridge br0 (multicast snooping off), ports p1..pN
//   host namespaces   <prefix>-h1..hN : lan0 = 10.77.<run>.<i>/24, lo up, 224.0.0.0/4 via lan0
//
// Each veth pair is created directly between the switch namespace and a host namespace, so no
// interface ever exists in the root namespace and the host's own interfaces are never involved.
//
// Every host knows every other host's MAC address from the start (permanent neighbour entries).
// The kernel's ARP table is one table for all namespaces, and it holds at most gc_thresh3
// (default 1024) learned entries machine-wide: a LAN of 31 hosts that all talk to each other
// needs 31 × 30, and once the table is full a packet to a neighbour not yet resolved, a TCP SYN
// included, is dropped without a word (dmesg: "neighbour: arp_cache: neighbor table overflow!").
// Permanent entries do not count against that limit, so a large LAN cannot starve itself, the
// other LANs of parallel runs, or the machine. ARP is not what these tests are about.
// Names carry a per-run prefix `ql-<pid>-<random>` so parallel runs never collide; `create()`
// first removes namespaces left by runs whose process is gone (a crashed or killed test run).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Every namespace this harness makes starts with this, followed by `-<pid>-`. */
export const NAMESPACE_BASE = 'ql';
/** The signals that end a test run (Ctrl-C, kill, a closed terminal); a live LAN is removed first. */
const TERMINATING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** The interface of a host namespace that plugs into the switch. */
export const LAN_INTERFACE = 'lan0';
const REPO_ROOT = dirname(dirname(import.meta.dirname));
const NETNS_DIR = '/run/netns';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One laptop of the LAN: a namespace with one interface into the switch. */
export interface LanHost {
  /** 1-based, as in the address. */
  readonly index: number;
  readonly namespace: string;
  /** The host's current IPv4 address on lan0 (changes with `readdress`). */
  address: string;
  /** The bridge port in the switch namespace that this host's cable plugs into. */
  readonly switchPort: string;
}

export interface Availability {
  ok: boolean;
  /** Why namespaces cannot be made here, or 'ok'. */
  reason: string;
}

/** Runs a command and resolves with its exit code and output; never rejects for a non-zero exit. */
export function run(command: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (error && code !== 0 ? error.message : '')) });
    });
    // A command that is not installed closes its stdin at once: the exec error above says so, not an EPIPE thrown from nowhere.
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs a command and throws with its stderr when it fails. */
async function must(command: string, args: string[], input?: string): Promise<string> {
  const result = await run(command, args, input);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/**
 * Whether this machine can build a LAN: running as root, `ip netns` works, and veth pairs and
 * bridges can be made. Leaves nothing behind.
 */
export async function available(): Promise<Availability> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux, not ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (run the tests as root)' };
  const which = await run('ip', ['-V']);
  if (which.code !== 0) return { ok: false, reason: `iproute2 'ip' is not usable: ${which.stderr.trim()}` };
  const probe = `${NAMESPACE_BASE}-${process.pid}-probe${randomBytes(2).toString('hex')}`;
  try {
    await must('ip', ['netns', 'add', probe]);
    await must('ip', ['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
    await must('ip', ['-n', probe, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
    return { ok: true, reason: 'ok' };
  } catch (error) {
    return { ok: false, reason: `cannot create namespaces, bridges or veths here: ${(error as Error).message}` };
  } finally {
    await run('ip', ['netns', 'del', probe]);
  }
}

/**
 * Removes namespaces of this harness whose creating process no longer exists. Namespaces of
 * live runs (parallel test files, other checkouts) are left alone.
 */
export async function removeLeftovers(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of listNamespaces()) {
    const match = new RegExp(`^${NAMESPACE_BASE}-(\\d+)-`).exec(name);
    if (!match || processAlive(Number(match[1]))) continue;
    await killProcessesIn(name);
    await run('ip', ['netns', 'del', name]);
    removed.push(name);
  }
  return removed;
}

/** Names of every named network namespace on this machine. */
export function listNamespaces(): string[] {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function killProcessesIn(namespace: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', namespace]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface CreateLanOptions {
  /** Defaults to a fresh `ql-<pid>-<random>`. */
  prefix?: string;
  /** The third octet of every address (10.77.<run>.<i>); random by default. */
  run?: number;
}

export interface SpawnNodeOptions {
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  /** Load the script through tsx (default). False for a plain .mjs that should start fast and small. */
  tsx?: boolean;
}

/** A LAN of `size` hosts plugged into one switch; `destroy()` removes all of it. */
export class Lan {
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;
  private readonly exitHandler = (): void => this.destroySync();

  private constructor(
    readonly prefix: string,
    readonly run: number,
    readonly switchNamespace: string,
    readonly hosts: LanHost[],
  ) {
    process.once('exit', this.exitHandler);
    Lan.live.add(this);
    if (Lan.live.size === 1) for (const signal of TERMINATING_SIGNALS) process.on(signal, Lan.onTerminatingSignal);
  }

  /** LANs not destroyed yet, for the signal handler. */
  private static readonly live = new Set<Lan>();

  /**
   * Ctrl-C or a kill ends Node without running 'exit' listeners, which would leave the LAN
   * behind until the next run's `removeLeftovers()`. While a LAN exists, the terminating signals
   * remove it first, then end the process with the same signal as if nobody had listened.
   */
  private static readonly onTerminatingSignal = (signal: NodeJS.Signals): void => {
    for (const lan of [...Lan.live]) lan.destroySync();
    Lan.stopListening();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  private static forget(lan: Lan): void {
    Lan.live.delete(lan);
    if (Lan.live.size === 0) Lan.stopListening();
  }

  private static stopListening(): void {
    for (const signal of TERMINATING_SIGNALS) process.removeListener(signal, Lan.onTerminatingSignal);
  }

  /** Builds the LAN; on any failure removes what it made and rethrows. */
  static async create(size: number, options: CreateLanOptions = {}): Promise<Lan> {
    if (!Number.isInteger(size) || size < 1 || size > 250) throw new RangeError(`a LAN has 1 to 250 hosts, not ${size}`);
    await removeLeftovers();
    const prefix = options.prefix ?? `${NAMESPACE_BASE}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const runOctet = options.run ?? randomInt(0, 256);
    const hosts: LanHost[] = Array.from({ length: size }, (_, i) => ({
      index: i + 1,
      namespace: `${prefix}-h${i + 1}`,
      address: `10.77.${runOctet}.${i + 1}`,
      switchPort: `p${i + 1}`,
    }));
    const lan = new Lan(prefix, runOctet, `${prefix}-sw`, hosts);
    try {
      await lan.build();
      return lan;
    } catch (error) {
      await lan.destroy();
      throw error;
    }
  }

  private async build(): Promise<void> {
    const sw = this.switchNamespace;
    await must('ip', ['netns', 'add', sw]);
    await must('ip', ['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    // Without snooping the bridge floods multicast to every port, like a cheap classroom switch.
    await must('ip', ['-n', sw, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await must('ip', ['-n', sw, 'link', 'set', 'br0', 'up']);
    await Promise.all(this.hosts.map((host) => this.plugIn(host)));
    await Promise.all(this.hosts.map((host) => this.introduceNeighbours(host)));
  }

  /** Gives `host` a permanent neighbour entry for every other host (see the top of this file). */
  private async introduceNeighbours(host: LanHost): Promise<void> {
    const others = this.hosts.filter((other) => other !== host);
    if (others.length === 0) return;
    const commands = others.map((other) => neighbourCommand('replace', other.address, macAddress(this.run, other.index)));
    await must('ip', ['-n', host.namespace, '-batch', '-'], `${commands.join('\n')}\n`);
  }

  private async plugIn(host: LanHost): Promise<void> {
    const ns = host.namespace;
    await must('ip', ['netns', 'add', ns]);
    const mac = macAddress(this.run, host.index);
    await must('ip', ['-n', this.switchNamespace, 'link', 'add', host.switchPort, 'type', 'veth', 'peer', 'name', LAN_INTERFACE, 'address', mac, 'netns', ns]);
    await must('ip', ['-n', this.switchNamespace, 'link', 'set', host.switchPort, 'master', 'br0', 'up']);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // So that `readdress` (add the new address, delete the old) keeps the new one: without it the
    // kernel deletes secondary addresses together with the primary.
    await must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.conf.${LAN_INTERFACE}.promote_secondaries=1`]);
    await must('ip', ['-n', ns, 'addr', 'add', `${host.address}/24`, 'dev', LAN_INTERFACE]);
    await must('ip', ['-n', ns, 'link', 'set', LAN_INTERFACE, 'up']);
    await must('ip', ['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', LAN_INTERFACE]);
  }

  host(index: number): LanHost {
    const host = this.hosts[index - 1];
    if (!host) throw new RangeError(`no host ${index} in a LAN of ${this.hosts.length}`);
    return host;
  }

  /** Runs `command` inside host `index`'s namespace. */
  exec(index: number, command: string[], input?: string): Promise<CommandResult> {
    return run('ip', ['netns', 'exec', this.host(index).namespace, ...command], input);
  }

  /**
   * Starts `node --import tsx <script> ...args` (or, with `tsx: false`, `node <script> ...args`)
   * inside host `index`'s namespace, from the repository root. The child is killed by `destroy()`
   * if still running.
   */
  spawnNode(index: number, script: string, args: string[] = [], options: SpawnNodeOptions = {}): ChildProcess {
    const loader = options.tsx === false ? [] : ['--import', 'tsx'];
    const child = spawn('ip', ['netns', 'exec', this.host(index).namespace, process.execPath, ...loader, script, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Whether host `from` reaches host `to`: a TCP connection attempt to a closed port is answered
   * with a reset when the path works both ways, and times out when it does not. Needs no ping
   * and no listener.
   */
  async canReach(from: number, to: number, timeoutMs = 1_000): Promise<boolean> {
    const script = `
      const socket = require('node:net').connect({ host: process.argv[1], port: 9 });
      const done = (code) => { socket.destroy(); process.exit(code); };
      socket.setTimeout(${timeoutMs}, () => done(1));
      socket.on('connect', () => done(0));
      socket.on('error', (error) => done(error.code === 'ECONNREFUSED' ? 0 : 1));`;
    const result = await this.exec(from, [process.execPath, '-e', script, this.host(to).address]);
    return result.code === 0;
  }

  /** Unplugs host `index`'s cable at the switch (its lan0 loses carrier) or plugs it back. */
  async setConnected(index: number, connected: boolean): Promise<void> {
    await must('ip', ['-n', this.switchNamespace, 'link', 'set', this.host(index).switchPort, connected ? 'up' : 'down']);
  }

  /** Gives host `index` a new address, the way a DHCP renewal might: the new one is added before the old one goes. */
  async readdress(index: number, address: string): Promise<void> {
    const host = this.host(index);
    if (!address.startsWith(`10.77.${this.run}.`)) throw new RangeError(`${address} is outside this LAN (10.77.${this.run}.0/24)`);
    await must('ip', ['-n', host.namespace, 'addr', 'add', `${address}/24`, 'dev', LAN_INTERFACE]);
    await must('ip', ['-n', host.namespace, 'addr', 'del', `${host.address}/24`, 'dev', LAN_INTERFACE]);
    // The others learn the new address at once and forget the old one, which may be given to another host.
    const commands = [neighbourCommand('replace', address, macAddress(this.run, index)), neighbourCommand('del', host.address)];
    const others = this.hosts.filter((other) => other !== host);
    await Promise.all(others.map((other) => must('ip', ['-n', other.namespace, '-batch', '-'], `${commands.join('\n')}\n`)));
    host.address = address;
  }

  /** Drops `percent` % of the packets host `index` sends (nftables, inside its namespace); 0 removes the rule. */
  async setLoss(index: number, percent: number): Promise<void> {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new RangeError(`loss is 0 to 100 %, not ${percent}`);
    const ns = this.host(index).namespace;
    await run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'q']);
    if (percent === 0) return;
    const script = [
      'add table inet q',
      'add chain inet q out { type filter hook output priority 0 ; }',
      percent === 100 ? 'add rule inet q out drop' : `add rule inet q out numgen random mod 100 < ${percent} drop`,
    ].join('\n');
    const result = await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], script);
    if (result.code !== 0) {
      const hint = /ENOENT|not found/i.test(result.stderr) ? ' (install nftables: apt-get install -y nftables)' : '';
      throw new Error(`nft failed${hint}: ${result.stderr.trim()}`);
    }
  }

  /** Limits what host `index` sends to `rate` (tc tbf syntax, e.g. '1mbit'); null removes the limit. */
  async setBandwidth(index: number, limit: { rate: string; burst?: string; latency?: string } | null): Promise<void> {
    const ns = this.host(index).namespace;
    if (limit === null) {
      await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', LAN_INTERFACE, 'root']);
      return;
    }
    const args = ['qdisc', 'replace', 'dev', LAN_INTERFACE, 'root', 'tbf', 'rate', limit.rate];
    args.push('burst', limit.burst ?? '32kbit', 'latency', limit.latency ?? '400ms');
    await must('ip', ['netns', 'exec', ns, 'tc', ...args]);
  }

  /** Every namespace of this LAN, switch first. */
  namespaces(): string[] {
    return [this.switchNamespace, ...this.hosts.map((host) => host.namespace)];
  }

  /** Kills the children it started and removes every namespace (and with them every veth and the bridge). Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.exitHandler);
    Lan.forget(this);
    await Promise.all([...this.children].map((child) => killAndWait(child)));
    for (const ns of this.namespaces()) {
      // A process left in a namespace would keep it (and its veth) alive after `ip netns del`.
      if (listNamespaces().includes(ns)) await killProcessesIn(ns);
      await run('ip', ['netns', 'del', ns]);
    }
  }

  /** Last-resort cleanup when the test process exits without calling `destroy()`. */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.exitHandler);
    Lan.forget(this);
    for (const child of this.children) child.kill('SIGKILL');
    for (const ns of this.namespaces()) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
        for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // best effort: the next run's removeLeftovers() finishes the job
      }
    }
  }
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGKILL');
  });
}

/** Host `index`'s MAC address on `run`'s LAN: locally administered, unique within the LAN. */
function macAddress(run: number, index: number): string {
  const hex = (byte: number) => byte.toString(16).padStart(2, '0');
  return `02:77:00:${hex(run)}:${hex(index >> 8)}:${hex(index & 0xff)}`;
}

/** One line of `ip -batch` that sets (`replace`) or removes (`del`) the permanent neighbour entry of `address` on the LAN interface. */
function neighbourCommand(verb: 'replace' | 'del', address: string, mac?: string): string {
  return verb === 'replace'
    ? `neigh replace ${address} lladdr ${mac} dev ${LAN_INTERFACE} nud permanent`
    : `neigh del ${address} dev ${LAN_INTERFACE}`;
}

/**
 * How often, since boot, the kernel could not add an entry to its ARP table because the table was
 * full (the sum of `table_fulls` in /proc/net/stat/arp_cache), or null where that cannot be read.
 * Each time, a packet was dropped; a test can compare the count before and after to tell.
 */
export function neighbourTableOverflows(): number | null {
  try {
    const [header, ...perCpu] = readFileSync('/proc/net/stat/arp_cache', 'utf8').trim().split('\n');
    const column = header!.trim().split(/\s+/).indexOf('table_fulls');
    if (column < 0) return null;
    return perCpu.reduce((sum, line) => sum + parseInt(line.trim().split(/\s+/)[column]!, 16), 0);
  } catch {
    return null;
  }
}

/** The path of a file in this folder, for `spawnNode`. */
export function lanScript(name: string): string {
  return join(import.meta.dirname, name);
}
