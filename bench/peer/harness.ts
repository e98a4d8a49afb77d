// What every phase of bench/peer.ts runs inside: clusters that are always stopped, deadlines,
// probes that cannot hang, a count of the CPU other programs take meanwhile, and statistics.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadlessCluster, type NodeHandle } from '../../test/integration/headless-cluster';
import { cpuSeconds, machineBusySeconds } from '../proc-stats';

const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

const clusters = new Set<HeadlessCluster>();

/** Runs `body` on a fresh cluster and always stops its nodes and removes its folders. */
export async function withCluster<T>(body: (cluster: HeadlessCluster) => Promise<T>): Promise<T> {
  // The built node, as installed laptops run it (bench/peer.ts builds it first).
  const cluster = new HeadlessCluster({ entry: 'built' });
  clusters.add(cluster);
  try {
    return await body(cluster);
  } finally {
    await cluster.destroy().catch((error: unknown) => console.error('could not stop a cluster cleanly:', error));
    clusters.delete(cluster);
  }
}

/** Stops every node of every cluster still running (on a signal, or when the run overruns). */
export async function destroyAll(): Promise<void> {
  await Promise.all([...clusters].map((cluster) => cluster.destroy().catch(() => undefined)));
  clusters.clear();
}

/**
 * Stops every node when the run goes past `limitMs` or on SIGINT and SIGTERM, and exits. Returns
 * what disarms the time limit, for a run that ended in time.
 */
export function stopEverythingOnOverrunOrSignal(limitMs: number): () => void {
  const watchdog = setTimeout(() => {
    console.error(`the benchmark ran past ${limitMs / 60_000} minutes: stopping every node`);
    void destroyAll().finally(() => process.exit(1));
  }, limitMs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: stopping every node`);
      void destroyAll().finally(() => process.exit(130));
    });
  }
  return () => clearTimeout(watchdog);
}

/**
 * Runs `start` with bench/cpu-profile-hook.mjs in the environment of the nodes it starts when
 * `dir` is given: each writes a V8 CPU profile to <dir>/<pid>.cpuprofile when it stops (not
 * when killed with SIGKILL).
 */
export async function withCpuProfileHook<T>(dir: string | null, start: () => Promise<T>): Promise<T> {
  if (!dir) return start();
  mkdirSync(dir, { recursive: true });
  // Node refuses --cpu-prof in NODE_OPTIONS; the hook does the same from inside.
  process.env['NODE_OPTIONS'] = `--import=${join(BENCH_DIR, 'cpu-profile-hook.mjs')}`;
  process.env['QUORUM_CPU_PROFILE_DIR'] = dir;
  try {
    return await start();
  } finally {
    delete process.env['NODE_OPTIONS'];
    delete process.env['QUORUM_CPU_PROFILE_DIR'];
  }
}

export const pidOf = (node: NodeHandle): number => node.process?.pid ?? -1;

export const live = (cluster: HeadlessCluster): NodeHandle[] => cluster.nodes.filter((node) => node.process);

export class PhaseTimeoutError extends Error {}

/** `body` gets a deadline to check in its loops; the race is the backstop if it hangs anyway. */
export async function bounded<T>(what: string, limitMs: number, body: (deadline: number) => Promise<T>): Promise<T> {
  const deadline = Date.now() + limitMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PhaseTimeoutError(`${what} took longer than ${limitMs / 1000} s`)), limitMs + 5_000);
  });
  try {
    return await Promise.race([body(deadline), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * CPU seconds this process and its nodes use while it runs: nodes are sampled every 250 ms, so
 * one killed or started meanwhile counts too (a killed one up to its last sample).
 */
class OwnCpu {
  private readonly bench = process.cpuUsage();
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly timer = setInterval(() => this.sample(false), 250);

  constructor() {
    this.sample(true);
  }

  /** Stops sampling; the CPU seconds used since construction. */
  stop(): number {
    this.sample(false);
    clearInterval(this.timer);
    const bench = process.cpuUsage(this.bench);
    let seconds = (bench.user + bench.system) / 1e6;
    for (const [pid, last] of this.last) seconds += last - this.first.get(pid)!;
    return seconds;
  }

  private sample(initial: boolean): void {
    for (const cluster of clusters) {
      for (const node of live(cluster)) {
        const pid = pidOf(node);
        const seconds = cpuSeconds(pid);
        if (seconds === null) continue;
        // A node started after the first sample counts from its start.
        if (!this.first.has(pid)) this.first.set(pid, initial ? seconds : 0);
        this.last.set(pid, seconds);
      }
    }
  }
}

/** A phase that finished: its figures, and the cores other programs kept busy meanwhile. */
export type PhaseFigures<T> = T & { otherCpuCores: number | null; stealCores: number | null };
export type PhaseResult<T> = PhaseFigures<T> | { error: string };

/**
 * Runs a phase; a failure is recorded as its result and the run goes on. Each result says how
 * many cores other programs (and, on a virtual machine, other guests: steal) kept busy meanwhile:
 * on a small machine that skews every figure.
 */
export async function phase<T extends object>(name: string, body: () => Promise<T>): Promise<PhaseResult<T>> {
  const started = Date.now();
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${name}...\n`);
  const machineBefore = machineBusySeconds();
  const own = new OwnCpu();
  try {
    const result = await body();
    const ownSeconds = own.stop();
    const machineAfter = machineBusySeconds();
    const seconds = (Date.now() - started) / 1000;
    const measured = machineBefore !== null && machineAfter !== null;
    const otherCpuCores = measured ? round(Math.max(0, machineAfter.busy - machineBefore.busy - ownSeconds) / seconds, 2) : null;
    const stealCores = measured ? round((machineAfter.steal - machineBefore.steal) / seconds, 2) : null;
    process.stderr.write(`  done in ${seconds.toFixed(1)} s; other programs kept ${otherCpuCores ?? '?'} cores busy (of which stolen by the hypervisor ${stealCores ?? '?'})\n`);
    return { ...result, otherCpuCores, stealCores };
  } catch (error) {
    own.stop();
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`  FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s: ${message}\n`);
    return { error: message };
  }
}

export function progress(what: string, since: number): void {
  process.stderr.write(`  ${what} (${((Date.now() - since) / 1000).toFixed(1)} s)\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** Probes until it answers something truthy; a probe still unanswered at the deadline fails too. */
export async function until<T>(what: string, deadline: number, probe: () => Promise<T | null | undefined | false>, everyMs = 100): Promise<T> {
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<'hung'>((resolveHung) => (timer = setTimeout(() => resolveHung('hung'), Math.max(0, deadline - Date.now()) + 1_000)));
    const value = await Promise.race([probe().catch(() => null), hung]).finally(() => clearTimeout(timer));
    if (value === 'hung') throw new Error(`${what}: a probe got no answer before the deadline`);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in time`);
    await sleep(everyMs);
  }
}

/** `call` on `node`, or an error saying whether the node is alive and busy when it does not answer in time. */
export async function answerFrom<T>(node: NodeHandle, what: string, call: Promise<T>, limitMs = 15_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout('timeout'), limitMs)));
  const outcome = await Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  if (outcome !== 'timeout') return outcome as T;
  const pid = pidOf(node);
  const before = cpuSeconds(pid);
  await sleep(1_000);
  const after = cpuSeconds(pid);
  const state = before === null || after === null ? 'not running' : `running, ${Math.round((after - before) * 100)} % of a core busy`;
  throw new Error(`${node.name} did not answer ${what} within ${limitMs / 1000} s (${state})`);
}

// ---- statistics ---------------------------------------------------------------------------------

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summary(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50), 3),
    p90: round(percentile(sorted, 90), 3),
    p99: round(percentile(sorted, 99), 3),
    max: round(sorted[sorted.length - 1] ?? NaN, 3),
    mean: round(mean, 3),
  };
}

export const median = (values: readonly number[]): number => percentile([...values].sort((a, b) => a - b), 50);

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Run a benchmark of built nodes to its end: `main`'s results printed by `print` and written to
 * bench/results/<name>.json; every node stopped, even on failure or overrun; the process then
 * exits (keep-alive sockets to stopped nodes and the like must not hold it open).
 */
export async function runNodeBenchmark<R>(name: string, limitMs: number, main: () => Promise<R>, print: (results: R) => void): Promise<never> {
  const disarm = stopEverythingOnOverrunOrSignal(limitMs);
  try {
    const results = await main();
    print(results);
    const out = join(import.meta.dirname, '..', 'results', `${name}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${out}`);
  } finally {
    disarm();
    await destroyAll();
  }
  process.exit(0);
}
