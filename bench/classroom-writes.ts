// Signed classroom commands per second on a class of 3 voters: real headless nodes
// (test/integration/headless-cluster.ts) on loopback, driven only through their HTTP API, each
// command signed by its author's laptop and checked (signature, membership, rules) by every
// replica's state machine. Figures only, no assertions.
//   npm run build && npx tsx bench/classroom-writes.ts [--cpu-prof <dir>]
// The teacher's laptop creates the class, two students' laptops join and register their users,
// the teacher posts assignments. Then 64 writers act as those users: students save drafts, the
// teacher grades and comments, first all through the leader's own API, then through each
// laptop's own (followers forward to the leader). At the end every laptop must hold the same copy
// (digest), the class must have refused nothing, and the teacher's view of each student's work
// must hold exactly the acknowledged commands. Writes bench/results/classroom-writes.json.
// The benchmark client shares the machine's cores with the three nodes, as in bench/peer.ts.
// --cpu-prof <dir>: the 3 nodes write V8 CPU profiles to <dir>/<pid>.cpuprofile when they stop.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_MAIN, type NodeHandle } from '../test/integration/headless-cluster';
import { cpuSeconds } from './proc-stats';
import { leaderOf } from './peer/class-under-test';
import { checkClass, classroomOfThree, ClassroomWriters, type Classroom } from './peer/classroom-workload';
import { bounded, live, phase, pidOf, round, runNodeBenchmark, sleep, withCluster, withCpuProfileHook, type PhaseFigures, type PhaseResult } from './peer/harness';
import { CONCURRENT_WRITERS } from './peer/load-phases';
import { describeMachine, machine, type Machine } from './peer/machine';
import { measureWindow, type CpuPerWrite, type WindowResult } from './peer/write-window';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const RUN_LIMIT_MS = 5 * 60_000;
const WARMUP_MS = 2_000;
const MEASURE_MS = 10_000;

const AIM = { commandsPerSecond: 2_000 };

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}
const profileDir = option('cpu-prof') ? resolve(option('cpu-prof')!) : null;

type Measured = WindowResult & {
  leaderUser: string;
  /** CPU per command over every process (nodes and client), and the rate that would keep every core busy. */
  cpuBudget: { msPerCommand: number; commandsPerSecondAtFullMachine: number } | null;
};

/** Which code the nodes ran: out/ is not in git, and the working tree may differ from the commit. */
function buildOf() {
  let uncommittedFiles: number | null = null;
  try {
    uncommittedFiles = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, timeout: 5_000 }).toString().split('\n').filter(Boolean).length;
  } catch {
    // not a git checkout
  }
  return { headlessBuiltAt: statSync(BUILT_MAIN).mtime.toISOString(), uncommittedFilesAtRun: uncommittedFiles };
}

interface Results {
  date: string;
  machine: Machine;
  build: ReturnType<typeof buildOf>;
  aim: typeof AIM;
  window: { writers: number; warmupMs: number; measureMs: number };
  setup?: PhaseResult<{ classId: string; users: { node: string; role: string; name: string }[]; assignments: number }>;
  toLeader?: PhaseResult<Measured>;
  spread?: PhaseResult<Measured>;
  check?: PhaseResult<Awaited<ReturnType<typeof checkClass>>>;
  /** Only after a failure: whether each node still ran, how busy it was, and its last warnings. */
  nodesAfterFailure?: Awaited<ReturnType<typeof nodeHealth>>;
  loadAverageAtEnd?: number[];
}

/**
 * Whether `node` answers `status` on a connection of its own within 3 s: tells a node that stopped
 * answering from a client whose pooled connections are stuck.
 */
function answersOnNewConnection(node: NodeHandle): Promise<boolean | string> {
  const line = node.lines.find((l) => l.startsWith('quorum-node ready '));
  if (!line) return Promise.resolve('no ready line');
  const ready = JSON.parse(line.slice('quorum-node ready '.length)) as { api: string; token: string };
  return new Promise((resolveAnswer) => {
    const request = httpRequest(`${ready.api}/api/status`, {
      method: 'POST',
      agent: false,
      timeout: 3_000,
      headers: { authorization: `Bearer ${ready.token}`, 'content-type': 'application/json' },
    });
    request.on('response', (response) => {
      response.resume();
      resolveAnswer(response.statusCode === 200 || `HTTP ${response.statusCode}`);
    });
    request.on('timeout', () => (request.destroy(), resolveAnswer(false)));
    request.on('error', (error) => resolveAnswer(error.message));
    request.end('{}');
  });
}

/** What a failed run leaves to go on: each node's state, CPU over one second, and last log records (warn and up). */
async function nodeHealth(nodes: NodeHandle[]) {
  const before = nodes.map((node) => cpuSeconds(pidOf(node)));
  const [answers] = await Promise.all([Promise.all(nodes.map(answersOnNewConnection)), sleep(1_000)]);
  return nodes.map((node, i) => {
    const after = cpuSeconds(pidOf(node));
    const was = before[i];
    return {
      node: node.name,
      running: node.process !== null && after !== null,
      answersNewConnection: answers[i],
      cpuPercentOfOneCore: after === null || was === null || was === undefined ? null : Math.round((after - was) * 100),
      lastLogs: node.logs.slice(-8).map((r) => `${r.time} ${r.level} ${r.component}: ${r.message}${r.fields ? ` ${JSON.stringify(r.fields)}` : ''}`),
    };
  });
}

/** A window of CONCURRENT_WRITERS writers through `targets`, each acting as its laptop's user. */
async function measure(classroom: Classroom, writers: ClassroomWriters, targets: NodeHandle[], deadline: number): Promise<Measured> {
  const leader = await leaderOf(classroom.test, deadline);
  const leaderUser = classroom.users.get(leader)!;
  const options = { writers: CONCURRENT_WRITERS, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, deadline };
  const result = await measureWindow(classroom.test, targets, options, (writer, node) => writers.writeOnce(writer, node, targets.length));
  const cpu = result.cpuMsPerWrite;
  const msPerCommand = cpu ? cpu.nodes.reduce((sum, n) => sum + n.ms, cpu.benchClient) : NaN;
  const cpuBudget = cpu ? { msPerCommand: round(msPerCommand, 3), commandsPerSecondAtFullMachine: round((cpus().length * 1000) / msPerCommand) } : null;
  return { ...result, leaderUser: `${leaderUser.displayName} (${leaderUser.role})`, cpuBudget };
}

async function main(): Promise<Results> {
  const results: Results = {
    date: new Date().toISOString(),
    machine: machine(ROOT),
    build: buildOf(),
    aim: AIM,
    window: { writers: CONCURRENT_WRITERS, warmupMs: WARMUP_MS, measureMs: MEASURE_MS },
  };
  await withCluster(async (cluster) => {
    let classroom: Classroom | undefined;
    results.setup = await phase('a class of 3: created, joined, students registered, assignments posted', async () => {
      classroom = await withCpuProfileHook(profileDir, () => bounded('setting up the class', 90_000, (deadline) => classroomOfThree(cluster, deadline)));
      const users = [...classroom.users].map(([node, user]) => ({ node: node.name, role: user.role, name: user.displayName }));
      return { classId: classroom.test.classId, users, assignments: classroom.assignmentIds.length };
    });
    if (!classroom) return;
    const test = classroom;
    const writers = new ClassroomWriters(test, `bench-${randomBytes(4).toString('hex')}`);
    const windowLimit = WARMUP_MS + MEASURE_MS + 30_000;
    results.toLeader = await phase(`${CONCURRENT_WRITERS} writers through the leader's API`, () =>
      bounded('writes to the leader', windowLimit, async (deadline) => measure(test, writers, [await leaderOf(test.test, deadline)], deadline)),
    );
    results.spread = await phase(`${CONCURRENT_WRITERS} writers through each laptop's own API`, () =>
      bounded('writes over 3 laptops', windowLimit, (deadline) => measure(test, writers, live(cluster), deadline)),
    );
    results.check = await phase('the same copy everywhere, nothing refused, every acknowledged command in the class', () =>
      bounded('checking the class', 90_000, (deadline) => checkClass(test, writers, deadline)),
    );
    const failed = [results.toLeader, results.spread, results.check].some((r) => r && 'error' in r);
    if (failed) results.nodesAfterFailure = await nodeHealth(cluster.nodes);
    process.stderr.write('stopping the class of 3...\n');
  });
  results.loadAverageAtEnd = loadavg().map((l) => round(l, 2));
  return results;
}

// ---- report -------------------------------------------------------------------------------------

const ok = <T extends object>(value: PhaseResult<T> | undefined): PhaseFigures<T> | undefined => (value && !('error' in value) ? value : undefined);
const show = (value: number | null | undefined, unit = '') =>
  value === null || value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toLocaleString('en-US')}${unit}`;

function formatCpu(cpu: CpuPerWrite): string {
  return `${cpu.nodes.map((n) => `${n.node}${n.leader ? ' (leader)' : ''} ${n.ms}`).join(', ')}, bench client ${cpu.benchClient}`;
}

function printReport(results: Results): void {
  const toLeader = ok(results.toLeader);
  const spread = ok(results.spread);
  const check = ok(results.check);
  console.log(`\nQuorum classroom writes: signed commands on a class of 3 voters, through the HTTP API`);
  for (const line of describeMachine(results.machine, results.loadAverageAtEnd)) console.log(line);
  const { build } = results;
  console.log(`         nodes built at ${build.headlessBuiltAt}; ${build.uncommittedFilesAtRun ?? '?'} files differed from the commit during the run`);
  console.log(`         ${CONCURRENT_WRITERS} writers, each waiting for its last command; ${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured\n`);

  const rows: [string, string, string][] = [['', 'to the leader', 'over 3 laptops']];
  const both = (pick: (run: PhaseFigures<Measured>) => string) => [toLeader ? pick(toLeader) : 'n/a', spread ? pick(spread) : 'n/a'] as const;
  rows.push(['commands applied/s', ...both((r) => show(r.writesPerSecond))]);
  rows.push(['latency p50 / p99', ...both((r) => `${r.latencyMs.p50} / ${r.latencyMs.p99} ms`)]);
  rows.push(['refused / pending / failed', ...both((r) => `${r.refused} / ${r.pending} / ${r.failed}`)]);
  rows.push(['cores busy: nodes, client', ...both((r) => (r.cpuCoresBusy ? `${r.cpuCoresBusy.nodes}, ${r.cpuCoresBusy.benchClient}` : 'n/a'))]);
  rows.push(['cores busy: other programs', ...both((r) => show(r.otherCpuCores))]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('   '));
  }
  console.log(`aim: at least ${show(AIM.commandsPerSecond)} commands/s\n`);

  for (const [label, run] of [['to the leader', toLeader], ['over 3 laptops', spread]] as const) {
    if (!run) continue;
    console.log(`${label}: leader's user ${run.leaderUser}; targets ${run.targets.join(', ')}`);
    if (run.cpuMsPerWrite) console.log(`  CPU ms per command: ${formatCpu(run.cpuMsPerWrite)}`);
    if (run.cpuBudget) {
      const { msPerCommand, commandsPerSecondAtFullMachine } = run.cpuBudget;
      console.log(`  ${msPerCommand} ms of CPU per command in all: every core of this machine busy would give ${show(commandsPerSecondAtFullMachine)}/s`);
    }
  }
  if (check) {
    const { acknowledged: a, refusals, workChecked } = check;
    console.log(`\nafter both windows: ${show(a.saveDraft)} drafts, ${show(a.grade)} grades, ${show(a.comment)} comments acknowledged (${a.uncertain} uncertain)`);
    console.log(`  replicas at index ${check.appliedIndex}: ${check.replicas.map((r) => `${r.node} ${r.role} ${r.digest.slice(0, 12)}`).join(', ')}`);
    console.log(`  same digest on every laptop: ${check.digestsMatch ? 'yes' : 'NO'}`);
    console.log(`  refused: ${refusals.toldToWriters} told to writers, ${refusals.inRejectionsView} in the rejections views`);
    for (const r of refusals.examples) console.log(`    ${r.node}: ${r.type} ${r.code}: ${r.reason}`);
    console.log(`  teacher's view of ${workChecked.slots} students' work: ${workChecked.mismatches === 0 ? 'every acknowledged command there' : `${workChecked.mismatches} MISMATCHES`}`);
    for (const line of workChecked.examples) console.log(`    ${line}`);
  }
  for (const health of results.nodesAfterFailure ?? []) {
    const state = health.running ? `running, ${health.cpuPercentOfOneCore} % of a core busy, answers status on a new connection: ${health.answersNewConnection}` : 'not running';
    console.log(`after the failure, ${health.node}: ${state}`);
    for (const line of health.lastLogs) console.log(`  ${line}`);
  }
  for (const [name, value] of Object.entries({ setup: results.setup, toLeader: results.toLeader, spread: results.spread, check: results.check })) {
    if (value && 'error' in value) console.log(`${name}: FAILED: ${value.error}`);
  }
}

// ---- run ----------------------------------------------------------------------------------------

if (!existsSync(BUILT_MAIN)) {
  console.error(`The nodes run built, as installed laptops run them: ${BUILT_MAIN} is missing. Run \`npm run build\` first.`);
  process.exit(1);
}

await runNodeBenchmark('classroom-writes', RUN_LIMIT_MS, main, printReport);
