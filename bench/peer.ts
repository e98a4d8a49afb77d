// End-to-end benchmark of the peer: real headless nodes (test/integration/headless-cluster.ts) as
// separate processes on loopback, driven only through their HTTP API. Figures only, no assertions.
//   npm run build && npx tsx bench/peer.ts [--phases latency,throughput,failover,catchup,idle] [--cpu-prof <dir>]
// Prints a table and writes bench/results/peer.json. On a class of 3 voters: commit latency with
// one writer, throughput with 64 writers, resident memory, failover after kill -9 of the leader,
// catch-up of a laptop joining a class of 10,000 writes; then idle CPU and bytes per laptop in a
// class of 31. The benchmark client shares the machine's cores with every node (and with anything
// else running: each phase reports how many cores other programs kept busy), so a small machine
// gives lower figures than a classroom of separate laptops would.
// Every phase has a time limit; the nodes are stopped and their folders removed on every exit
// path except kill -9 of this process.
// --cpu-prof <dir>: the 3 nodes of the first class write V8 CPU profiles to <dir>/<pid>.cpuprofile
// when they stop (bench/cpu-profile-hook.mjs). Nodes killed by the failover phase write none, so
// combine it with --phases latency or --phases throughput.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classOf, leaderOf, type ClassUnderTest } from './peer/class-under-test';
import { BUILT_MAIN } from '../test/integration/headless-cluster';
import { bounded, live, phase, round, runNodeBenchmark, withCluster, withCpuProfileHook } from './peer/harness';
import { IDLE_LAPTOPS, measureIdle } from './peer/idle-class';
import {
  CATCHUP_WRITES,
  CONCURRENT_WRITERS,
  FAILOVER_ROUNDS,
  LATENCY_WRITES,
  measureCatchUp,
  measureFailover,
  measureLatency,
  measureThroughput,
  residentMemory,
} from './peer/load-phases';
import { describeMachine, machine, type Machine } from './peer/machine';
import type { CpuPerWrite } from './peer/write-window';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
/** The whole run is cut short (nodes stopped, folders removed) after this long. */
const RUN_LIMIT_MS = 9 * 60_000;

const TARGETS = {
  etcd34: { oneWriterPerSecond: 727, oneWriterP50Ms: 1.2, sixtyFourWritersPerSecond: 4_400 },
  aims: { p50Ms: 1.5, writesPerSecond: 8_000, failoverMs: 1_500, residentMiB: 120 },
};

const PHASES = ['latency', 'throughput', 'failover', 'catchup', 'idle'] as const;
type Phase = (typeof PHASES)[number];

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}
const phases = new Set<Phase>((option('phases')?.split(',') ?? PHASES).filter((p): p is Phase => (PHASES as readonly string[]).includes(p)));
const profileDir = option('cpu-prof') ? resolve(option('cpu-prof')!) : null;

type Results = {
  date: string;
  machine: Machine;
  targets: typeof TARGETS;
  setup?: { error: string };
  latency?: Awaited<ReturnType<typeof phase<Awaited<ReturnType<typeof measureLatency>>>>>;
  throughputToLeader?: Awaited<ReturnType<typeof phase<Awaited<ReturnType<typeof measureThroughput>>>>>;
  throughputSpread?: Awaited<ReturnType<typeof phase<Awaited<ReturnType<typeof measureThroughput>>>>>;
  residentMemory?: ReturnType<typeof residentMemory>;
  failover?: Awaited<ReturnType<typeof phase<Awaited<ReturnType<typeof measureFailover>>>>>;
  catchUp?: Awaited<ReturnType<typeof phase<Awaited<ReturnType<typeof measureCatchUp>>>>>;
  idle?: Awaited<ReturnType<typeof phase<Awaited<ReturnType<typeof measureIdle>>>>>;
  loadAverageAtEnd?: number[];
};

/** A class of 3, with the CPU profile hook in the nodes' environment when asked for. */
async function classOfThree(cluster: Parameters<typeof classOf>[0]): Promise<ClassUnderTest> {
  return withCpuProfileHook(profileDir, () => bounded('a class of 3', 60_000, (deadline) => classOf(cluster, 3, deadline)));
}

async function runPhasesOnThree(results: Results): Promise<void> {
  await withCluster(async (cluster) => {
    let test: ClassUnderTest;
    try {
      test = await classOfThree(cluster);
    } catch (error) {
      results.setup = { error: error instanceof Error ? error.message : String(error) };
      return;
    }
    if (phases.has('latency')) {
      results.latency = await phase(`commit latency, 1 writer, ${LATENCY_WRITES} writes`, () =>
        bounded('latency', 60_000, (deadline) => measureLatency(test, deadline)),
      );
    }
    if (phases.has('throughput')) {
      results.throughputToLeader = await phase(`throughput, ${CONCURRENT_WRITERS} writers to the leader`, () =>
        bounded('throughput', 30_000, async (deadline) => measureThroughput(test, [await leaderOf(test, deadline)], deadline)),
      );
      results.throughputSpread = await phase(`throughput, ${CONCURRENT_WRITERS} writers over 3 nodes`, () =>
        bounded('throughput', 30_000, (deadline) => measureThroughput(test, live(cluster), deadline)),
      );
    }
    results.residentMemory = residentMemory(live(cluster));
    if (phases.has('failover')) {
      results.failover = await phase(`failover, ${FAILOVER_ROUNDS} kills of the leader`, () =>
        bounded('failover', 90_000, (deadline) => measureFailover(test, deadline)),
      );
    }
    if (phases.has('catchup')) {
      results.catchUp = await phase(`catch-up of a new laptop, ${CATCHUP_WRITES} writes`, () =>
        bounded('catch-up', 90_000, (deadline) => measureCatchUp(test, deadline)),
      );
    }
    process.stderr.write('stopping the class of 3...\n');
  });
}

async function main(): Promise<Results> {
  const results: Results = { date: new Date().toISOString(), machine: machine(ROOT), targets: TARGETS };
  if (['latency', 'throughput', 'failover', 'catchup'].some((p) => phases.has(p as Phase))) await runPhasesOnThree(results);
  if (phases.has('idle')) {
    results.idle = await phase(`idle class of ${IDLE_LAPTOPS} laptops`, () =>
      withCluster((cluster) => bounded('idle', 180_000, (deadline) => measureIdle(cluster, deadline))),
    );
  }
  results.loadAverageAtEnd = loadavg().map((l) => round(l, 2));
  return results;
}

// ---- report -------------------------------------------------------------------------------------

const ok = <T extends object>(value: T | { error: string } | undefined): T | undefined => (value && !('error' in value) ? value : undefined);
const show = (value: number | null | undefined, unit = '') =>
  value === null || value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toLocaleString('en-US')}${unit}`;

function formatCpu(cpu: CpuPerWrite): string {
  return `${cpu.nodes.map((n) => `${n.node}${n.leader ? ' (leader)' : ''} ${n.ms}`).join(', ')}, bench client ${cpu.benchClient}`;
}

function printReport(results: Results): void {
  const m = results.machine;
  const latency = ok(results.latency);
  const toLeader = ok(results.throughputToLeader);
  const spread = ok(results.throughputSpread);
  const failover = ok(results.failover);
  const catchUp = ok(results.catchUp);
  const memoryRows = results.residentMemory;
  const idle = ok(results.idle);
  const { etcd34, aims } = TARGETS;

  console.log(`\nQuorum peer benchmark: headless nodes on loopback, through the HTTP API`);
  for (const line of describeMachine(m, results.loadAverageAtEnd)) console.log(line);
  console.log('');

  const maxRss = memoryRows ? Math.max(...memoryRows.map((r) => r.rssMiB)) : null;
  const rows: [string, string, string, string][] = [
    ['metric', 'measured', 'etcd 3.4', 'aim'],
    ['1 writer: commit latency p50', show(latency?.latencyMs.p50, ' ms'), `${etcd34.oneWriterP50Ms} ms`, `< ${aims.p50Ms} ms`],
    ['1 writer: commit latency p99', show(latency?.latencyMs.p99, ' ms'), '', ''],
    ['1 writer: writes/s', show(latency?.writesPerSecond), show(etcd34.oneWriterPerSecond), ''],
    ['  (HTTP floor: local read p50)', show(latency?.readLatencyMs.p50, ' ms'), '', ''],
    [`${CONCURRENT_WRITERS} writers to the leader: writes/s`, show(toLeader?.writesPerSecond), show(etcd34.sixtyFourWritersPerSecond), `>= ${show(aims.writesPerSecond)}`],
    ['  latency p50 / p99', toLeader ? `${toLeader.latencyMs.p50} / ${toLeader.latencyMs.p99} ms` : 'n/a', '', ''],
    [`${CONCURRENT_WRITERS} writers over 3 nodes: writes/s`, show(spread?.writesPerSecond), '', `>= ${show(aims.writesPerSecond)}`],
    ['  latency p50 / p99', spread ? `${spread.latencyMs.p50} / ${spread.latencyMs.p99} ms` : 'n/a', '', ''],
    ['failover after kill -9 (median)', failover ? `${show(failover.medianMs, ' ms')} (${failover.rounds.length} kills)` : 'n/a', '', `< ${show(aims.failoverMs)} ms`],
    ['  new leader seen by survivors (median)', show(failover?.medianLeaderSeenMs, ' ms'), '', ''],
    [`catch-up of a new laptop (${show(CATCHUP_WRITES)} writes)`, catchUp ? `${show(catchUp.catchUpMs, ' ms')} (to index ${catchUp.appliedIndex})` : 'n/a', '', ''],
    ['resident memory per node (max of 3)', show(maxRss, ' MiB'), '', `< ${aims.residentMiB} MB`],
    [`idle, ${IDLE_LAPTOPS} laptops: CPU per laptop (median)`, idle ? `${idle.cpuPercentOfOneCore.median} % of a core` : 'n/a', '', ''],
    ['  leader', idle ? `${show(idle.cpuPercentOfOneCore.leader)} % of a core` : 'n/a', '', ''],
    [`idle, ${IDLE_LAPTOPS} laptops: TCP bytes/s per laptop (median)`, idle ? `${show(idle.tcpBytesPerSecond.median)} B/s` : 'n/a', '', ''],
    ['  leader (sent + received)', idle ? `${show(idle.tcpBytesPerSecond.leader)} B/s` : 'n/a', '', ''],
    [`idle, ${IDLE_LAPTOPS} laptops: resident memory (median)`, idle ? `${idle.rssMiB.median} MiB` : 'n/a', '', ''],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('   '));
  }

  console.log('');
  if (latency) console.log(`CPU ms per write, 1 writer: ${formatCpu(latency.cpuMsPerWrite)}`);
  for (const [label, run] of [[`${CONCURRENT_WRITERS} writers to the leader`, toLeader], [`${CONCURRENT_WRITERS} writers over 3 nodes`, spread]] as const) {
    if (run?.cpuMsPerWrite) {
      console.log(`CPU ms per write, ${label}: ${formatCpu(run.cpuMsPerWrite)}; cores busy: nodes ${run.cpuCoresBusy?.nodes}, client ${run.cpuCoresBusy?.benchClient}`);
    }
  }
  if (failover) console.log(`failover rounds (ms): ${failover.rounds.map((r) => `${r.failoverMs} (leader seen ${show(r.leaderSeenMs)})`).join(', ')}`);
  if (catchUp) {
    const compacted = catchUp.compactedBeforeJoin ? ' (log compacted: a snapshot and the tail)' : '';
    console.log(`catch-up: ${catchUp.classWrites} writes in the class, leader at index ${catchUp.leaderAppliedIndexAtJoin}${compacted}; digests match: ${catchUp.digestsMatch}; with the digest check ${catchUp.catchUpWithDigestCheckMs} ms`);
  }
  if (memoryRows) {
    console.log(`resident memory after the load: ${memoryRows.map((r) => `${r.node} ${r.rssMiB} MiB (peak ${r.peakMiB})`).join(', ')}`);
    console.log(`  for reference, an empty Node process: ${m.runtimeBaselineMiB.node} MiB; with the tsx loader, which the built nodes do without: ${m.runtimeBaselineMiB.nodeWithTsx} MiB`);
  }
  if (idle) {
    console.log(`idle class: ${idle.laptops} laptops (${idle.voters} voters, ${idle.learners} learners), set up in ${idle.setupSeconds} s, measured over ${idle.seconds} s`);
    console.log(`  CPU % of a core: median ${idle.cpuPercentOfOneCore.median}, mean ${idle.cpuPercentOfOneCore.mean}, max ${idle.cpuPercentOfOneCore.max}, leader ${idle.cpuPercentOfOneCore.leader}`);
    console.log(`  TCP payload bytes/s sent + received: median ${show(idle.tcpBytesPerSecond.median)}, leader ${show(idle.tcpBytesPerSecond.leader)}; loopback incl. headers per laptop ${show(idle.loopbackBytesPerSecondPerLaptop)}`);
  }
  const phaseResults = { latency: results.latency, throughputToLeader: results.throughputToLeader, throughputSpread: results.throughputSpread, failover: results.failover, catchUp: results.catchUp, idle: results.idle };
  const others = Object.entries(phaseResults).flatMap(([name, value]) =>
    value && 'otherCpuCores' in value ? [`${name} ${show(value.otherCpuCores)} (steal ${show(value.stealCores)})`] : [],
  );
  if (others.length) console.log(`cores kept busy by other programs during each phase (of ${m.cores}): ${others.join(', ')}`);
  for (const [name, value] of Object.entries({ setup: results.setup, ...phaseResults })) {
    if (value && 'error' in value) console.log(`${name}: FAILED: ${value.error}`);
  }
}

// ---- run ----------------------------------------------------------------------------------------

if (!existsSync(BUILT_MAIN)) {
  console.error(`The nodes run built, as installed laptops run them: ${BUILT_MAIN} is missing. Run \`npm run build\` first.`);
  process.exit(1);
}

await runNodeBenchmark('peer', RUN_LIMIT_MS, main, printReport);
