// Raft core benchmark: proposals through a 3-node in-memory cluster (test/raft/sim) with no
// I/O, and the message and byte cost of each committed entry with and without batching.
// Figures only, no assertions.
//   npx tsx bench/run.ts        (npm run bench)
// Prints a table and writes bench/results/raft.json. The cluster copies every message
// (structuredClone) and applies every entry to its key-value state machine, so the figures
// include that simulation overhead; invariant checking is off.
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster } from '../test/raft/sim/cluster';
import { encodeCommand } from '../test/raft/sim/state-machine';

/** Runs per figure; the median is reported. */
const RUNS = 5;
const VALUE_BYTES = 64;

interface Mode {
  name: string;
  /** Proposals per Ready cycle. */
  batch: number;
  /** Proposals per run. */
  proposals: number;
}

const MODES: Mode[] = [
  { name: 'unbatched (1 proposal, then drive until committed)', batch: 1, proposals: 5_000 },
  { name: 'batched (100 proposals per Ready cycle)', batch: 100, proposals: 50_000 },
];

interface RunResult {
  proposalsPerSecond: number;
  messagesPerEntry: number;
  bytesPerEntry: number;
}

function runOnce(mode: Mode, seed: number): RunResult {
  const cluster = new Cluster({ seed, checkInvariants: false });
  const leader = cluster.waitForLeader();
  cluster.tick();
  const raft = cluster.node(leader);
  const startCommit = raft.status().commit;
  const sentBefore = cluster.network.stats.sent;
  const bytesBefore = cluster.network.stats.bytes;
  const payload = 'x'.repeat(VALUE_BYTES);

  const start = performance.now();
  for (let proposed = 0; proposed < mode.proposals; ) {
    for (let i = 0; i < mode.batch && proposed < mode.proposals; i++, proposed++) {
      raft.propose(encodeCommand(`k${proposed % 1000}=${payload}`));
    }
    cluster.settle(); // delivers and runs Ready loops until the cluster is quiet: the batch is committed
  }
  const seconds = (performance.now() - start) / 1000;

  const committed = raft.status().commit - startCommit;
  if (committed < mode.proposals) throw new Error(`only ${committed} of ${mode.proposals} proposals committed`);
  return {
    proposalsPerSecond: committed / seconds,
    messagesPerEntry: (cluster.network.stats.sent - sentBefore) / committed,
    bytesPerEntry: (cluster.network.stats.bytes - bytesBefore) / committed,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

const results = MODES.map((mode) => {
  runOnce({ ...mode, proposals: Math.min(mode.proposals, 1000) }, 0); // warm up the JIT
  const runs = Array.from({ length: RUNS }, (_, i) => runOnce(mode, i + 1));
  return {
    mode: mode.name,
    batch: mode.batch,
    proposalsPerRun: mode.proposals,
    proposalsPerSecond: round(median(runs.map((r) => r.proposalsPerSecond)), 0),
    messagesPerEntry: round(median(runs.map((r) => r.messagesPerEntry)), 3),
    bytesPerEntry: round(median(runs.map((r) => r.bytesPerEntry))),
    runs: runs.map((r) => round(r.proposalsPerSecond, 0)),
  };
});

const report = {
  date: new Date().toISOString(),
  machine: { node: process.version, platform: `${platform()} ${release()} ${arch()}`, cpu: cpus()[0]?.model ?? 'unknown' },
  cluster: { nodes: 3, valueBytes: VALUE_BYTES, runs: RUNS, statistic: 'median' },
  results,
};

console.log(`raft benchmark: 3-node in-memory cluster, ${VALUE_BYTES}-byte values, median of ${RUNS} runs (${report.machine.platform}, ${report.machine.cpu})\n`);
const header = ['mode', 'proposals/s', 'messages/entry', 'bytes/entry'];
const rows = results.map((r) => [r.mode, String(r.proposalsPerSecond), String(r.messagesPerEntry), String(r.bytesPerEntry)]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of rows) console.log(line(row));

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'raft.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${out}`);
