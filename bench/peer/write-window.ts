// Many concurrent writers through the nodes' HTTP API, measured over a window: what bench/peer.ts
// does with key-value writes and bench/classroom-writes.ts with signed classroom commands. Each
// writer waits for its last write before sending the next; writes completing inside the window
// count, and every process's CPU time is read at the window's edges.
import type { NodeHandle } from '../../test/integration/headless-cluster';
import { cpuOf, leaderOf, type ClassUnderTest } from './class-under-test';
import { live, round, summary } from './harness';

/** What became of one write, as its caller was told. */
export type WriteOutcome = 'applied' | 'refused' | 'pending';

export interface WindowOptions {
  writers: number;
  /** Writes completing before this are not counted: the pipeline fills up meanwhile. */
  warmupMs: number;
  measureMs: number;
  deadline: number;
}

/**
 * One write by `writer` through `node`: its outcome, or null when this writer has nothing more it
 * can write (it then stops). A thrown error counts as a failed write and the writer goes on.
 */
export type WriteOnce = (writer: number, node: NodeHandle) => Promise<WriteOutcome | null>;

/** CPU milliseconds each process spent per committed command: where the cycles go. */
export function cpuMsPerWrite(nodes: NodeHandle[], leader: NodeHandle, before: number[], after: number[], writes: number, clientMs: number) {
  const perNode = nodes.map((node, i) => ({ node: node.name, leader: node === leader, ms: round(((after[i]! - before[i]!) * 1000) / writes, 3) }));
  return { nodes: perNode, benchClient: round(clientMs / writes, 3) };
}
export type CpuPerWrite = ReturnType<typeof cpuMsPerWrite>;

/** `options.writers` loops of `writeOnce`, writer i through targets[i % targets.length]. */
export async function measureWindow(test: ClassUnderTest, targets: NodeHandle[], options: WindowOptions, writeOnce: WriteOnce) {
  const { writers, warmupMs, measureMs, deadline } = options;
  const leader = await leaderOf(test, deadline);
  const nodes = live(test.cluster);
  const windowStart = performance.now() + warmupMs;
  const windowEnd = windowStart + measureMs;
  const latencies: number[] = [];
  let applied = 0;
  let refused = 0;
  let pending = 0;
  let failed = 0;
  let cpuBefore: number[] = [];
  let cpuAfter: number[] = [];
  let clientBefore = process.cpuUsage();
  let client = { user: 0, system: 0 };
  const openWindow = setTimeout(() => {
    cpuBefore = cpuOf(nodes);
    clientBefore = process.cpuUsage();
  }, warmupMs);
  const closeWindow = setTimeout(() => {
    cpuAfter = cpuOf(nodes);
    client = process.cpuUsage(clientBefore);
  }, warmupMs + measureMs);

  const writer = async (index: number) => {
    const node = targets[index % targets.length]!;
    while (performance.now() < windowEnd && Date.now() < deadline) {
      const start = performance.now();
      let outcome: WriteOutcome | null;
      try {
        outcome = await writeOnce(index, node);
      } catch {
        failed++;
        continue;
      }
      if (outcome === null) return;
      const end = performance.now();
      // Completions inside the window count, whenever they started: the pipeline is full by then.
      if (end < windowStart || end > windowEnd) continue;
      if (outcome === 'applied') {
        applied++;
        latencies.push(end - start);
      } else if (outcome === 'refused') refused++;
      else pending++;
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, i) => writer(i)));
  clearTimeout(openWindow);
  clearTimeout(closeWindow);
  const measured = cpuAfter.length > 0;
  const seconds = measureMs / 1000;
  // A refused command went through the log and every replica's rules just like an applied one.
  const committed = applied + refused;
  return {
    targets: targets.map((node) => (node === leader ? `${node.name} (leader)` : node.name)),
    writers,
    writesPerSecond: round(applied / seconds),
    applied,
    refused,
    pending,
    failed,
    latencyMs: summary(latencies),
    cpuMsPerWrite: measured && committed > 0 ? cpuMsPerWrite(nodes, leader, cpuBefore, cpuAfter, committed, (client.user + client.system) / 1000) : null,
    cpuCoresBusy: measured
      ? {
          nodes: round(cpuAfter.reduce((sum, v, i) => sum + v - cpuBefore[i]!, 0) / seconds, 2),
          benchClient: round((client.user + client.system) / 1e6 / seconds, 2),
        }
      : null,
  };
}
export type WindowResult = Awaited<ReturnType<typeof measureWindow>>;
