// The phases of bench/peer.ts on a class of 3 voters: commit latency with one writer, throughput
// with many, resident memory, failover after kill -9 of the leader, catch-up of a new laptop.
import WebSocket from 'ws';
import { HttpApiClient } from '../../shared/http';
import type { NodeHandle } from '../../test/integration/headless-cluster';
import { memory, type Memory } from '../proc-stats';
import { addNodes, appliedIndex, classAmong, connect, cpuOf, leaderOf, settled, write, type ClassUnderTest } from './class-under-test';
import { live, median, pidOf, round, sleep, summary, until } from './harness';
import { cpuMsPerWrite, measureWindow } from './write-window';

export const LATENCY_WRITES = 2_000;
const LATENCY_WARMUP = 100;
/** Local reads of one key: the HTTP round trip without Raft. */
const FLOOR_READS = 500;
export const CONCURRENT_WRITERS = 64;
const THROUGHPUT_WARMUP_MS = 1_000;
const THROUGHPUT_MEASURE_MS = 5_000;
export const FAILOVER_ROUNDS = 5;
export const CATCHUP_WRITES = 10_000;
/** The class runtime snapshots and compacts its log past this many applied entries (class-runtime.ts). */
const COMPACTION_ENTRIES = 10_000;

export async function measureLatency(test: ClassUnderTest, deadline: number) {
  const leader = await leaderOf(test, deadline);
  for (let i = 0; i < LATENCY_WARMUP && Date.now() < deadline; i++) await write(test, leader);

  const reads: number[] = [];
  for (let i = 0; i < FLOOR_READS && Date.now() < deadline; i++) {
    const start = performance.now();
    await leader.api.methods.read({ classId: test.classId, key: 'k1' });
    reads.push(performance.now() - start);
  }

  const latencies: number[] = [];
  let notApplied = 0;
  const nodes = live(test.cluster);
  const cpuBefore = cpuOf(nodes);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < LATENCY_WRITES && Date.now() < deadline; i++) {
    const start = performance.now();
    const applied = await write(test, leader);
    latencies.push(performance.now() - start);
    if (!applied) notApplied++;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuOf(nodes);
  const client = process.cpuUsage(clientBefore);
  return {
    writes: latencies.length,
    notApplied,
    writesPerSecond: round(latencies.length / seconds),
    latencyMs: summary(latencies),
    readLatencyMs: summary(reads),
    cpuMsPerWrite: cpuMsPerWrite(nodes, leader, cpuBefore, cpuAfter, latencies.length, (client.user + client.system) / 1000),
  };
}

/** CONCURRENT_WRITERS loops of sequential writes, writer i to targets[i % targets.length]. */
export async function measureThroughput(test: ClassUnderTest, targets: NodeHandle[], deadline: number) {
  const options = { writers: CONCURRENT_WRITERS, warmupMs: THROUGHPUT_WARMUP_MS, measureMs: THROUGHPUT_MEASURE_MS, deadline };
  return measureWindow(test, targets, options, async (_writer, node) => ((await write(test, node)) ? 'applied' : 'pending'));
}

export function residentMemory(nodes: NodeHandle[]) {
  return nodes.map((node) => ({ node: node.name, ...roundMemory(memory(pidOf(node))) }));
}

export function roundMemory(m: Memory | null) {
  return m ? { rssMiB: round(m.rssMiB), peakMiB: round(m.peakMiB) } : { rssMiB: NaN, peakMiB: NaN };
}

/** An event-stream client of its own, so it can be closed without touching `node.api`. */
function eventClient(node: NodeHandle): HttpApiClient {
  const line = node.lines.find((l) => l.startsWith('quorum-node ready '))!;
  const ready = JSON.parse(line.slice('quorum-node ready '.length)) as { api: string; token: string };
  return new HttpApiClient({ baseUrl: ready.api, token: ready.token, WebSocket: WebSocket as never, reconnectDelayMs: 100 });
}

/** Kill -9 the leader; time until a write sent (and re-sent) to a survivor is applied there. */
async function failoverRound(test: ClassUnderTest, kill: number, deadline: number) {
  await settled(test, deadline);
  // A leader that held on for a second: not one still settling after the previous round.
  const leader = await leaderOf(test, deadline);
  await sleep(1_000);
  if ((await leaderOf(test, deadline)) !== leader) throw new Error('leadership moved while settling');
  const survivors = live(test.cluster).filter((node) => node !== leader);
  const target = survivors[kill % survivors.length]!;

  // Survivors' status events say when they learn of the new leader (debounced by 50 ms on the node).
  const watchers = survivors.map(eventClient);
  let leaderSeenMs: number | null = null;
  let killedAt = 0;
  await Promise.all(
    watchers.map(
      (client) =>
        new Promise<void>((resolveOpen) => {
          const timer = setTimeout(resolveOpen, 2_000);
          client.onConnectionChange((open) => open && (clearTimeout(timer), resolveOpen()));
          client.on('status', (status) => {
            if (killedAt && leaderSeenMs === null && status.classId === test.classId && status.leader && status.leader !== leader.laptopId) {
              leaderSeenMs = performance.now() - killedAt;
            }
          });
        }),
    ),
  );

  try {
    const killing = test.cluster.kill(leader);
    killedAt = performance.now();
    let attempts = 0;
    let appliedMs: number | null = null;
    while (appliedMs === null && Date.now() < deadline) {
      attempts++;
      // Pending after waitMs: the router keeps delivering it; we send another, as a client would.
      if (await write(test, target, 5_000).catch(() => false)) appliedMs = performance.now() - killedAt;
      else await sleep(10);
    }
    await killing;
    if (appliedMs === null) throw new Error('no write applied after the kill');
    // The event comes up to 50 ms after the change, possibly after the write returned.
    for (let waited = 0; leaderSeenMs === null && waited < 1_500; waited += 50) await sleep(50);
    return {
      killed: leader.name,
      writeTo: target.name,
      failoverMs: round(appliedMs),
      leaderSeenMs: leaderSeenMs === null ? null : round(leaderSeenMs),
      attempts,
    };
  } finally {
    await Promise.all(watchers.map((client) => client.close()));
    if (!leader.process) await test.cluster.start(leader);
  }
}

export async function measureFailover(test: ClassUnderTest, deadline: number) {
  const rounds = [];
  for (let kill = 0; kill < FAILOVER_ROUNDS && Date.now() < deadline; kill++) {
    rounds.push(await failoverRound(test, kill, Math.min(deadline, Date.now() + 30_000)));
  }
  await settled(test, deadline);
  return {
    rounds,
    medianMs: round(median(rounds.map((r) => r.failoverMs))),
    medianLeaderSeenMs: round(median(rounds.flatMap((r) => (r.leaderSeenMs === null ? [] : [r.leaderSeenMs])))),
  };
}

/**
 * A new class on the laptops of `previous` gets exactly CATCHUP_WRITES writes; then a new laptop
 * is timed from joinClass until it has applied the leader's index with the same digest.
 */
export async function measureCatchUp(previous: ClassUnderTest, deadline: number) {
  const test = await classAmong(previous.cluster, live(previous.cluster), deadline);
  const leader = await leaderOf(test, deadline);
  const writesStarted = performance.now();
  let remaining = CATCHUP_WRITES;
  await Promise.all(
    Array.from({ length: CONCURRENT_WRITERS }, async () => {
      while (remaining > 0 && Date.now() < deadline) {
        remaining--;
        if (!(await write(test, leader).catch(() => false))) remaining++;
      }
    }),
  );
  const writeSeconds = (performance.now() - writesStarted) / 1000;
  const leaderIndex = await settled(test, deadline);

  const [newcomer] = await addNodes(test.cluster, ['newcomer'], 1);
  const members = live(test.cluster).filter((node) => node !== newcomer);
  await connect([newcomer!], members);
  await connect(members, [newcomer!]);
  await sleep(1_000); // the connections' handshakes are not part of catching up
  const rssBefore = memory(pidOf(newcomer!));

  const started = performance.now();
  await newcomer!.api.methods.joinClass({ joinCode: test.joinCode });
  let reachedMs = 0;
  let digestsMatch = false;
  let index = 0;
  await until("the newcomer at the leader's index with the same digest", deadline, async () => {
    const [mine, theirs] = await Promise.all([appliedIndex(newcomer!, test.classId), appliedIndex(leader, test.classId)]);
    if (mine < theirs || mine === 0) return null;
    reachedMs ||= performance.now() - started;
    const [a, b] = await Promise.all(
      [newcomer!, leader].map(async (node) => (await node.api.methods.status({})).classes.find((c) => c.classId === test.classId)!),
    );
    digestsMatch = a.applied === b.applied && a.digest === b.digest;
    index = a.applied;
    return digestsMatch;
  }, 25);
  const doneMs = performance.now() - started;
  return {
    classWrites: test.writesApplied,
    leaderAppliedIndexAtJoin: leaderIndex,
    writing: { seconds: round(writeSeconds), writesPerSecond: round(test.writesApplied / Math.max(writeSeconds, 1e-9)) },
    // Past the compaction threshold the leader no longer has entry 1: the newcomer gets a snapshot and the tail.
    compactedBeforeJoin: leaderIndex > COMPACTION_ENTRIES,
    catchUpMs: round(reachedMs),
    catchUpWithDigestCheckMs: round(doneMs),
    appliedIndex: index,
    digestsMatch,
    newcomerRss: { beforeJoin: roundMemory(rssBefore), after: roundMemory(memory(pidOf(newcomer!))) },
  };
}
