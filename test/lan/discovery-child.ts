// The test's side of discovery-node.ts: starts it in a namespace, records everything it reports,
// and waits for conditions with a deadline (polling, never a fixed sleep).
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { DiscoveredPeer, LostPeer, MdnsDiscoveryOptions } from '../../electron/peer/discovery';
import { lanScript, type Lan } from './netns';

export type ChildEvent =
  | { type: 'ready'; laptopId: string }
  | { type: 'peer'; peer: DiscoveredPeer }
  | { type: 'peerLost'; lost: LostPeer }
  | { type: 'log'; level: string; message: string; fields?: Record<string, unknown> }
  | { type: 'peers'; peers: DiscoveredPeer[] }
  | { type: 'stopped' };

/** Something the test has seen, with when (ms since the epoch, in the test process). */
export type Recorded = ChildEvent & { at: number };

/** Polls `condition` every 50 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(describe: string, condition: () => T | undefined | null | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export class DiscoveryChild {
  readonly events: Recorded[] = [];
  readonly stderr: string[] = [];
  /** What this laptop reports now: the last `peer` of each key not followed by a `peerLost`. */
  readonly view = new Map<string, DiscoveredPeer>();

  private constructor(
    readonly hostIndex: number,
    readonly laptopId: string,
    private readonly process: ChildProcess,
  ) {
    createInterface({ input: process.stdout! }).on('line', (line) => this.record(line));
    createInterface({ input: process.stderr! }).on('line', (line) => this.stderr.push(line));
  }

  /** Starts discovery in host `hostIndex` bound to its address, and waits until it is running. */
  static async start(lan: Lan, hostIndex: number, options: Omit<MdnsDiscoveryOptions, 'interface'>): Promise<DiscoveryChild> {
    const process = lan.spawnNode(hostIndex, lanScript('discovery-node.ts'), [
      JSON.stringify({ ...options, interface: lan.host(hostIndex).address }),
    ]);
    const child = new DiscoveryChild(hostIndex, options.laptopId, process);
    await waitFor(`laptop ${hostIndex} to start`, () => child.events.some((event) => event.type === 'ready') || child.exited(), 20_000);
    if (child.exited()) throw new Error(`laptop ${hostIndex} exited: ${child.stderr.join('\n')}`);
    return child;
  }

  private record(line: string): void {
    let event: ChildEvent;
    try {
      event = JSON.parse(line) as ChildEvent;
    } catch {
      this.stderr.push(`(stdout) ${line}`);
      return;
    }
    this.events.push({ ...event, at: Date.now() });
    if (event.type === 'peer') this.view.set(event.peer.key, event.peer);
    if (event.type === 'peerLost') this.view.delete(event.lost.key);
  }

  exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  send(command: object): void {
    this.process.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** Laptop ids this laptop reports now, sorted. */
  reportedIds(): string[] {
    return [...this.view.values()].map((peer) => peer.laptopId ?? peer.key).sort();
  }

  peerEvents(): DiscoveredPeer[] {
    return this.events.flatMap((event) => (event.type === 'peer' ? [event.peer] : []));
  }

  lostEvents(): (LostPeer & { at: number })[] {
    return this.events.flatMap((event) => (event.type === 'peerLost' ? [{ ...event.lost, at: event.at }] : []));
  }

  logs(level?: string): { message: string; fields?: Record<string, unknown> }[] {
    return this.events.flatMap((event) => (event.type === 'log' && (!level || event.level === level) ? [event] : []));
  }

  /** Asks it to stop with a goodbye and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.exited()) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.send({ cmd: 'stop' });
    await exited;
  }

  /** Kills it: no goodbye, it just stops answering. */
  async kill(): Promise<void> {
    if (this.exited()) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGKILL');
    await exited;
  }
}
