// The deadline burst on the LAN harness: a teacher and 40 students, each a real quorum-node in its
// own network namespace (test/lan), find each other by mDNS and form one class; the teacher
// publishes an assignment; every student attaches a 1 MiB file to their work, as the UI does
// (startUpload, uploadChunk, finishUpload, then a signed saveDraft with the file); then all of
// them press "turn in" within the same second. Figures only, no assertions.
//   npm run build && npx tsx bench/deadline-burst.ts [--students <n>] [--seed <n>]
// Needs root (network namespaces; without, it says so and skips). Prints the figures and writes bench/results/deadline-burst.json:
// how long until every turn-in is committed (acknowledged to its student, applied on the leader),
// each student's latency, refusals, when every file is on each laptop that must keep it (the
// class's voters, the teachers' laptops and the owner's: electron/peer/blobs/retention.ts),
// looked for in each laptop's blob folder so that looking moves nothing, the bytes that crossed
// the switch, and the CPU of the leader, of everyone, and of the other programs on this machine.
// Every laptop shares this machine's cores with the others and with whatever else runs here, so a
// classroom of real laptops would do better; each phase says how many cores other programs took.
// Every wait is bounded and says what it still waits for; the namespaces, the nodes and their
// folders are removed on every exit path (Ctrl-C included) except kill -9 of this process, and
// the next run of the LAN harness removes what that left (removeLeftovers in test/lan/netns.ts).
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEER_NODE_FLAGS } from '../electron/headless/runtime-flags';
import type { ApiResponse, ClassStatus } from '../shared/api';
import type { ClassroomCommand, FileRef } from '../shared/classroom/commands';
import { ClassroomLaptop } from '../test/lan/classroom-laptop';
import { available, Lan, neighbourTableOverflows, run } from '../test/lan/netns';
import { NotYet, waitUntil } from '../test/lan/waiting';
import { percentile, round } from './peer/harness';
import { machine, type Machine } from './peer/machine';
import { cpuSeconds, machineBusySeconds, memory } from './proc-stats';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const BUILT_MAIN = join(ROOT, 'out/main/headless.js');
const RESULTS_FILE = join(BENCH_DIR, 'results', 'deadline-burst.json');

const MiB = 1024 * 1024;
const FILE_BYTES = MiB;
/** The API takes a file in parts of at most 512 KiB, as the UI sends them. */
const PART_BYTES = 512 * 1024;
const TEACHER_HOST = 1;
const ASSIGNMENT_ID = 'essay-deadline';
/** How many laptops start at once (as in test/lan/classroom.test.ts): starting a node is CPU-bound. */
const START_CONCURRENCY = 8;
/** The autopilot's rule, restated: 3 voters, or 5 once the class has 10 laptops or more. */
const expectedVoters = (laptops: number): number => (laptops >= 10 ? 5 : Math.min(3, laptops));
/**
 * How long a submitCommand waits for its commit: under the LAN agent's own 60 s, so a command not
 * committed in time comes back from the node as "pending" rather than as the agent giving up.
 */
const COMMAND_WAIT_MS = 45_000;
const WAIT = {
  /** For one laptop's ready line; START_CONCURRENCY start at once on a busy machine. */
  start: 120_000,
  join: 240_000,
  assignment: 60_000,
  attach: 300_000,
  settle: 90_000,
  burst: COMMAND_WAIT_MS + 15_000,
  /** How long after the burst the copies the retention rule asks for may take to appear by themselves. */
  copies: 60_000,
  teacherOpens: 180_000,
};
/** How long the leader's applied index is still sampled after the last student's answer. */
const LEADER_WATCH_AFTER_MS = 2_000;
/** The whole run is cut short (everything stopped and removed) after this long. */
const RUN_LIMIT_MS = 30 * 60_000;
const PROGRESS_EVERY_MS = 15_000;
/** An installed peer's Node flags; NODE_OPTIONS carries them, since the LAN agent starts the node. */
const NODE_OPTIONS = PEER_NODE_FLAGS.join(' ');

// ---- options --------------------------------------------------------------------------------

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}

function wholeOption(name: string, fallback: number, min: number, max: number): number {
  const text = option(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}, not "${text}".`);
    process.exit(2);
  }
  return value;
}

const STUDENTS = wholeOption('students', 40, 1, 200);
const SEED = wholeOption('seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31);
const LAPTOPS = STUDENTS + 1;

// ---- small tools ----------------------------------------------------------------------------

const startedAt = Date.now();
function say(message: string): void {
  process.stderr.write(`[burst +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** Polls `probe` until it gives a value; says what it still waits for every 15 s, and throws with the last reason after `timeoutMs`. */
function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | NotYet>, intervalMs = 250): Promise<T> {
  return waitUntil(what, timeoutMs, probe, { say, progressEveryMs: PROGRESS_EVERY_MS, trouble: arpTrouble, intervalMs });
}

/** `promise`, or an error naming `what` once `limitMs` has passed. */
async function within<T>(what: string, limitMs: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${limitMs / 1000} s waiting for ${what}`)), limitMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `task` over `items` with at most `limit` at a time. */
async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

type Spread = { count: number; p50: number; p95: number; max: number };

function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? NaN };
}

let arpOverflowsAtStart: number | null = null;
/** A note when the kernel's ARP table overflowed during the run (see test/lan/netns.ts), '' otherwise. */
function arpTrouble(): string {
  const now = neighbourTableOverflows();
  if (arpOverflowsAtStart === null || now === null || now === arpOverflowsAtStart) return '';
  return ` [the kernel's ARP table overflowed ${now - arpOverflowsAtStart} times during this run: packets were dropped]`;
}

/** A student's file: 1 MiB from AES-CTR keyed by the seed and the student, so a seed gives the same bytes again. */
function fileOf(student: number): Buffer {
  const key = createHash('sha256').update(`deadline-burst ${SEED} ${student}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(FILE_BYTES));
}

/**
 * Whether `laptop`'s blob folder holds the file's sealed copy (electron/peer/blobs/blob-store.ts:
 * <dir>/ab/abcdef…; a copy appears there only whole and verified, by rename).
 */
function holds(dataDir: string, file: FileRef): boolean {
  return existsSync(join(dataDir, 'blobs', file.sha256.slice(0, 2), file.sha256));
}

// ---- the machine's counters -----------------------------------------------------------------

/** Bytes that entered and left each port of the LAN's switch, by host index (headers included). */
async function switchBytes(lan: Lan): Promise<Map<number, { sent: number; received: number }>> {
  const out = await run('ip', ['-n', lan.switchNamespace, '-j', '-s', 'link', 'show']);
  const ports = new Map<number, { sent: number; received: number }>();
  if (out.code !== 0) return ports;
  const links = JSON.parse(out.stdout) as { ifname: string; stats64?: { rx: { bytes: number }; tx: { bytes: number } } }[];
  for (const host of lan.hosts) {
    const port = links.find((link) => link.ifname === host.switchPort)?.stats64;
    // What the switch receives on a host's port is what that host sent, and the other way round.
    if (port) ports.set(host.index, { sent: port.rx.bytes, received: port.tx.bytes });
  }
  return ports;
}

/** CPU seconds so far of this process, of every process in the LAN's namespaces, of the machine, and of chosen pids. */
interface CpuSample {
  at: number;
  bench: number;
  /** The nodes, and the LAN agents that relay the API into the namespaces (the harness's own cost). */
  nodes: number;
  agents: number;
  machine: { busy: number; steal: number } | null;
  pids: Map<number, number>;
}

/** Every process in the LAN's namespaces: the agents and their nodes (they stay the same for the whole run). */
async function lanPids(lan: Lan): Promise<number[]> {
  const lists = await Promise.all(lan.namespaces().map((ns) => run('ip', ['netns', 'pids', ns])));
  return lists.flatMap((list) => list.stdout.split(/\s+/).filter(Boolean).map(Number));
}

/** Synchronous, so a sample can be taken the moment something happens. */
function sampleCpu(lanProcesses: readonly number[], nodes: ReadonlySet<number>, watched: readonly number[]): CpuSample {
  const usage = process.cpuUsage();
  const sum = (pids: readonly number[]) => pids.reduce((total, pid) => total + (cpuSeconds(pid) ?? 0), 0);
  return {
    at: Date.now(),
    bench: (usage.user + usage.system) / 1e6,
    nodes: sum(lanProcesses.filter((pid) => nodes.has(pid))),
    agents: sum(lanProcesses.filter((pid) => !nodes.has(pid))),
    machine: machineBusySeconds(),
    pids: new Map(watched.map((pid) => [pid, cpuSeconds(pid) ?? NaN])),
  };
}

interface CpuWindow {
  seconds: number;
  /** Cores kept busy by the class's nodes together, and by the LAN agents and this process (the harness). */
  nodeCores: number;
  harnessCores: number;
  /** CPU milliseconds and percent of one core per watched pid (the leader, the teacher). */
  cpuMs: Record<string, number>;
  percentOfOneCore: Record<string, number>;
  /** Cores kept busy by other programs (colleagues' tests, the system): they skew every figure. */
  otherCores: number | null;
  stealCores: number | null;
}

function cpuBetween(before: CpuSample, after: CpuSample, names: Map<number, string>): CpuWindow {
  const seconds = (after.at - before.at) / 1000;
  const harness = after.bench - before.bench + (after.agents - before.agents);
  const own = harness + (after.nodes - before.nodes);
  const cpuMs: Record<string, number> = {};
  const percentOfOneCore: Record<string, number> = {};
  for (const [pid, name] of names) {
    const used = (after.pids.get(pid) ?? NaN) - (before.pids.get(pid) ?? NaN);
    cpuMs[name] = round(used * 1000);
    percentOfOneCore[name] = round((100 * used) / seconds);
  }
  const measured = before.machine !== null && after.machine !== null;
  return {
    seconds: round(seconds, 2),
    cpuMs,
    nodeCores: round((after.nodes - before.nodes) / seconds, 2),
    harnessCores: round(harness / seconds, 2),
    percentOfOneCore,
    otherCores: measured ? round(Math.max(0, after.machine!.busy - before.machine!.busy - own) / seconds, 2) : null,
    stealCores: measured ? round((after.machine!.steal - before.machine!.steal) / seconds, 2) : null,
  };
}

function bytesBetween(before: Map<number, { sent: number; received: number }>, after: Map<number, { sent: number; received: number }>, of: (host: number) => boolean) {
  let sent = 0;
  let received = 0;
  for (const [host, now] of after) {
    if (!of(host)) continue;
    sent += now.sent - (before.get(host)?.sent ?? 0);
    received += now.received - (before.get(host)?.received ?? 0);
  }
  return { sentMiB: round(sent / MiB, 2), receivedMiB: round(received / MiB, 2) };
}

function traffic(before: Map<number, { sent: number; received: number }>, after: Map<number, { sent: number; received: number }>, leader: ClassroomLaptop) {
  return { all: bytesBetween(before, after, () => true), leader: bytesBetween(before, after, (host) => host === leader.hostIndex) };
}

// ---- the class --------------------------------------------------------------------------------

interface Student {
  laptop: ClassroomLaptop;
  userId: string;
  file: FileRef;
  content: Buffer;
}

interface Class {
  lan: Lan;
  laptops: ClassroomLaptop[];
  dataDirs: Map<ClassroomLaptop, string>;
  classId: string;
}

/** The one leader every laptop agrees on, with its status. */
async function agreedLeader(laptops: readonly ClassroomLaptop[]): Promise<{ leader: ClassroomLaptop; status: ClassStatus } | NotYet> {
  const all = await Promise.all(laptops.map((laptop) => laptop.classStatus()));
  const silent = laptops.filter((_, i) => all[i] === null);
  if (silent.length > 0) return new NotYet(`no class status from ${silent.slice(0, 3).map((l) => l.describeSilence()).join('; ')}`);
  const leaders = laptops.filter((_, i) => all[i]!.role === 'leader');
  if (leaders.length !== 1) return new NotYet(`${leaders.length} laptops think they lead`);
  const leader = leaders[0]!;
  const others = laptops.filter((_, i) => all[i]!.leader !== leader.laptopId);
  if (others.length > 0) return new NotYet(`${others.length} laptops do not follow ${leader.name} yet`);
  return { leader, status: all[laptops.indexOf(leader)]! };
}

async function startLaptops(lan: Lan, dataRoot: string, entry: string): Promise<ClassroomLaptop[]> {
  let started = 0;
  return inBatches(lan.hosts, START_CONCURRENCY, async (host) => {
    const name = host.index === TEACHER_HOST ? 'teacher' : `student-${host.index - 1}`;
    const laptop = await ClassroomLaptop.start(lan, host.index, {
      name,
      dataDir: join(dataRoot, name),
      main: entry,
      env: { NODE_OPTIONS },
      startTimeoutMs: WAIT.start,
    });
    if (++started % 10 === 0) say(`${started} of ${LAPTOPS} laptops running`);
    return laptop;
  });
}

/** The teacher creates the class; every student joins with the code, found by mDNS, and is admitted and registered. */
async function formClass(laptops: ClassroomLaptop[]): Promise<{ classId: string; formedMs: number; joinRetries: number }> {
  const teacher = laptops[0]!;
  const students = laptops.slice(1);
  const created = await teacher.call('createClass', { name: 'English 4', displayName: 'Ms Okafor' });
  const since = Date.now();
  const attempts = await Promise.all(students.map((student) => joinWithCode(student, created.joinCode, since + WAIT.join)));
  say(`${students.length} students found the class by mDNS within ${Date.now() - since} ms; waiting for admission`);
  const voters = expectedVoters(laptops.length);
  await waitFor(`all ${laptops.length} laptops in the class with ${voters} voters`, WAIT.join, async () => {
    const all = await Promise.all(laptops.map((laptop) => laptop.classStatus()));
    const outside = laptops.filter((laptop, i) => {
      const status = all[i];
      return !status || status.classId !== created.classId || ![...status.voters, ...status.learners].includes(laptop.laptopId);
    });
    if (outside.length > 0) return new NotYet(`${outside.length} laptops not members yet by their own log`);
    const shapes = new Set(all.map((s) => `${s!.voters.length}+${s!.learners.length}`));
    if (shapes.size > 1 || !shapes.has(`${voters}+${laptops.length - voters}`)) return new NotYet(`voters+learners seen: ${[...shapes].join(', ')}`);
    return agreedLeader(laptops);
  }, 500);
  await waitFor(`all ${students.length} students registered`, WAIT.join, async () => {
    const roles = await inBatches(students, 8, async (student) => (await student.call('classroom', { classId: created.classId })).me.role);
    const missing = roles.filter((role) => role !== 'student').length;
    return missing === 0 ? true : new NotYet(`${missing} students not registered yet`);
  }, 1_000);
  return { classId: created.classId, formedMs: Date.now() - since, joinRetries: attempts.reduce((sum, n) => sum + n - 1, 0) };
}

/**
 * A student joins with the code. A node looks for the class's laptops for 20 s; when forty look
 * at once on a busy machine some find none in time, and the student, told so, tries again.
 * Returns how many tries it took.
 */
async function joinWithCode(student: ClassroomLaptop, joinCode: string, deadline: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const response = await student.api.call('joinClass', { joinCode, displayName: student.name });
    if (response.ok) return attempt;
    const { code, message } = response.error;
    if (code !== 'CLASS_NOT_FOUND' || Date.now() > deadline) throw new Error(`${student.name} could not join after ${attempt} tries: ${code}: ${message}`);
    say(`${student.name} found no laptop of the class on try ${attempt}; trying again, as a student would`);
  }
}

async function submit(laptop: ClassroomLaptop, classId: string, command: ClassroomCommand): Promise<void> {
  const outcome = await laptop.call('submitCommand', { classId, command, waitMs: COMMAND_WAIT_MS });
  if (outcome.status !== 'applied') throw new Error(`${laptop.name}'s ${command.type} was not committed within ${COMMAND_WAIT_MS / 1000} s`);
  if (outcome.result.status !== 'applied') throw new Error(`the class refused ${laptop.name}'s ${command.type}: ${outcome.result.reason}`);
}

async function publishAssignment(the: Class): Promise<void> {
  const teacher = the.laptops[0]!;
  await submit(teacher, the.classId, {
    type: 'createAssignment',
    assignmentId: ASSIGNMENT_ID,
    title: 'Essay: a place you know well',
    instructions: 'Attach your essay as one file and turn it in before the bell.',
    pointsPossible: 20,
    dueAt: Date.now() + 3_600_000,
    cutOffAt: null,
    materials: [],
    published: true,
  });
  const students = the.laptops.slice(1);
  await waitFor(`the assignment on all ${students.length} students' laptops`, WAIT.assignment, async () => {
    const seen = await inBatches(students, 8, async (student) => (await student.call('classroom', { classId: the.classId })).assignments.length > 0);
    const missing = seen.filter((s) => !s).length;
    return missing === 0 ? true : new NotYet(`${missing} students do not see it yet`);
  });
}

interface Attachment {
  uploadMs: number;
  saveMs: number;
}

/** What a student does before the bell: add the file in parts and save it with their work. */
async function attach(the: Class, laptop: ClassroomLaptop, index: number): Promise<Student & Attachment> {
  const content = fileOf(index);
  const since = Date.now();
  const { uploadId } = await laptop.call('startUpload', { name: `essay-${laptop.name}.bin`, type: 'application/octet-stream', size: content.byteLength });
  for (let offset = 0; offset < content.byteLength; offset += PART_BYTES) {
    await laptop.call('uploadChunk', { uploadId, offset, data: content.subarray(offset, offset + PART_BYTES).toString('base64') });
  }
  const upload = await laptop.call('finishUpload', { uploadId });
  const uploaded = Date.now();
  await submit(laptop, the.classId, { type: 'saveDraft', assignmentId: ASSIGNMENT_ID, baseVersion: 0, text: 'My essay is attached.', files: [upload] });
  const saveMs = Date.now() - uploaded;
  const userId = (await laptop.call('classroom', { classId: the.classId })).me.userId;
  // Saving sealed the file for the student and the teachers: the class refers to the sealed copy.
  const [file] = (await laptop.call('submission', { classId: the.classId, assignmentId: ASSIGNMENT_ID, studentId: userId })).files;
  if (!file) throw new Error(`${laptop.name}'s saved work has no file`);
  return { laptop, userId, file, content, uploadMs: uploaded - since, saveMs };
}

/** Waits until every laptop has applied the same entries with nothing left in an outbox, so the burst starts from a quiet class. */
async function settle(laptops: readonly ClassroomLaptop[]): Promise<number> {
  return waitFor('a quiet class: the same applied index everywhere, empty outboxes', WAIT.settle, async () => {
    const all = await Promise.all(laptops.map((laptop) => laptop.classStatus()));
    if (all.some((s) => s === null)) return new NotYet('a laptop did not answer');
    const applied = new Set(all.map((s) => s!.applied));
    const outboxes = all.reduce((sum, s) => sum + s!.outbox, 0);
    return applied.size === 1 && outboxes === 0 ? all[0]!.applied : new NotYet(`${applied.size} applied indexes, ${outboxes} writes in outboxes`);
  }, 500);
}

// ---- the burst --------------------------------------------------------------------------------

interface TurnIn {
  student: string;
  /** ms after the burst began: when this student's request left, and when its answer came. */
  firedMs: number;
  answeredMs: number;
  /** answeredMs - firedMs: committed and applied on the student's own laptop. */
  latencyMs: number;
  outcome: 'applied' | 'refused' | 'pending' | 'failed';
  detail?: string;
  /** Its place in the log and when the leader proposed it (ms after the burst), from the teacher's activity log. */
  index?: number;
  proposedMs?: number;
}

function turnInOutcome(response: ApiResponse<'submitCommand'>): Pick<TurnIn, 'outcome' | 'detail'> {
  if (!response.ok) return { outcome: 'failed', detail: `${response.error.code}: ${response.error.message}` };
  const result = response.result;
  if (result.status === 'pending') return { outcome: 'pending', detail: `not committed within ${COMMAND_WAIT_MS / 1000} s` };
  if (result.result.status === 'rejected') return { outcome: 'refused', detail: `${result.result.code}: ${result.result.reason}` };
  return { outcome: 'applied' };
}

/**
 * Every student presses "turn in" at once; meanwhile the leader's applied index is sampled, and
 * `onAllAnswered` runs the moment the last student has its answer.
 */
async function burst(the: Class, students: readonly Student[], leader: ClassroomLaptop, onAllAnswered: () => void) {
  const command: ClassroomCommand = { type: 'turnIn', assignmentId: ASSIGNMENT_ID };
  const leaderApplied: { ms: number; applied: number }[] = [];
  let answered = 0;
  const burstAt = Date.now();
  const turnIns = students.map(async (student): Promise<TurnIn> => {
    const firedMs = Date.now() - burstAt;
    const response = await student.laptop.api.call('submitCommand', { classId: the.classId, command, waitMs: COMMAND_WAIT_MS });
    const answeredMs = Date.now() - burstAt;
    if (++answered === students.length) onAllAnswered();
    return { student: student.laptop.name, firedMs, answeredMs, latencyMs: answeredMs - firedMs, ...turnInOutcome(response) };
  });
  // The leader is asked continually, so "applied on the leader" is known to within one round trip;
  // a little past the last answer too, since the leader may apply after a student's laptop did.
  const watching = (async () => {
    let lastAnswer: number | null = null;
    while (Date.now() - burstAt < WAIT.burst) {
      if (answered === students.length) lastAnswer ??= Date.now();
      if (lastAnswer !== null && Date.now() - lastAnswer > LEADER_WATCH_AFTER_MS) break;
      const status = await leader.classStatus();
      if (status) leaderApplied.push({ ms: Date.now() - burstAt, applied: status.applied });
      await sleep(50);
    }
  })();
  const results = await Promise.all(turnIns);
  await watching;
  return { burstAt, results, leaderApplied };
}

/** Reads the log on the teacher's laptop (which sees every entry): each turn-in's index, when the leader proposed it, and how the class judged it. */
async function placeInLog(the: Class, students: readonly Student[], burstAt: number, results: TurnIn[]): Promise<void> {
  const teacher = the.laptops[0]!;
  const entries = await teacher.call('activity', { classId: the.classId, limit: 200 });
  for (const [i, student] of students.entries()) {
    const entry = entries.find((e) => e.type === 'turnIn' && e.authorId === student.userId);
    const result = results[i]!;
    if (!entry) continue;
    result.index = entry.index;
    if (entry.at !== null) result.proposedMs = entry.at - burstAt;
    if (entry.outcome === 'rejected' && result.outcome === 'applied') {
      result.outcome = 'refused';
      result.detail = `refused on the teacher's laptop: ${entry.reason}`;
    }
  }
}

// ---- the copies that must be kept ---------------------------------------------------------------

interface Holder {
  laptop: ClassroomLaptop;
  dataDir: string;
  /** Why it must keep the file: owner, teacher, voter (a laptop may be several). */
  roles: string[];
}

/** Each file's laptops that must keep it for good: the owner's, the teachers', the voters' (retention.ts). */
function requiredHolders(the: Class, students: readonly Student[], voters: readonly string[]): Map<Student, Holder[]> {
  const byId = new Map(the.laptops.map((laptop) => [laptop.laptopId, laptop]));
  const teacher = the.laptops[0]!;
  const required = new Map<Student, Holder[]>();
  for (const student of students) {
    const roles = new Map<ClassroomLaptop, string[]>();
    const add = (laptop: ClassroomLaptop | undefined, role: string) => laptop && roles.set(laptop, [...(roles.get(laptop) ?? []), role]);
    add(student.laptop, 'owner');
    add(teacher, 'teacher');
    for (const voter of voters) add(byId.get(voter), 'voter');
    required.set(student, [...roles].map(([laptop, r]) => ({ laptop, dataDir: the.dataDirs.get(laptop)!, roles: r })));
  }
  return required;
}

interface CopiesSeen {
  required: number;
  present: number;
  /** Missing copies by the roles of the laptops that lack them, e.g. {"voter": 160}. */
  missingByRole: Record<string, number>;
  /** Which laptops lack how many files. */
  missingByLaptop: Record<string, number>;
}

function copiesSeen(required: Map<Student, Holder[]>): CopiesSeen {
  const seen: CopiesSeen = { required: 0, present: 0, missingByRole: {}, missingByLaptop: {} };
  for (const [student, holders] of required) {
    for (const holder of holders) {
      seen.required++;
      if (holds(holder.dataDir, student.file)) {
        seen.present++;
        continue;
      }
      const role = holder.roles.join('+');
      seen.missingByRole[role] = (seen.missingByRole[role] ?? 0) + 1;
      seen.missingByLaptop[holder.laptop.name] = (seen.missingByLaptop[holder.laptop.name] ?? 0) + 1;
    }
  }
  return seen;
}

/** Polls the blob folders until every required copy is there or the wait ends; never asks a node, so nothing is fetched because of it. */
async function watchCopies(required: Map<Student, Holder[]>, since: number, limitMs: number): Promise<{ allPresentMs: number | null; seen: CopiesSeen }> {
  for (;;) {
    const seen = copiesSeen(required);
    if (seen.present === seen.required) return { allPresentMs: Date.now() - since, seen };
    if (Date.now() - since > limitMs) return { allPresentMs: null, seen };
    await sleep(250);
  }
}

/** The teacher opens every student's file through readFile, as the grading panel does, and checks its hash. */
async function teacherOpensAll(the: Class, students: readonly Student[]): Promise<{ ms: number; wrong: string[] }> {
  const teacher = the.laptops[0]!;
  const since = Date.now();
  const wrong: string[] = [];
  await inBatches(students, 4, async (student) => {
    const parts: Buffer[] = [];
    for (let offset = 0; offset < student.file.size; offset += PART_BYTES) {
      const part = await teacher.call('readFile', { classId: the.classId, sha256: student.file.sha256, offset, length: PART_BYTES });
      parts.push(Buffer.from(part.data, 'base64'));
    }
    if (!Buffer.concat(parts).equals(student.content)) wrong.push(student.laptop.name);
  });
  return { ms: Date.now() - since, wrong };
}

// ---- the run ------------------------------------------------------------------------------------

type Traffic = { all: ReturnType<typeof bytesBetween>; leader: ReturnType<typeof bytesBetween> };

type Results = {
  date: string;
  machine: Machine;
  setup: { students: number; laptops: number; fileBytes: number; seed: number; nodeEntry: string; note: string };
  formed?: { startMs: number; formedMs: number; joinRetries: number; voters: string[]; leader: string; leaderIsTeacher: boolean };
  attach?: { ms: number; uploadMs: Spread; saveDraftMs: Spread; cpu: CpuWindow; lanTraffic: Traffic };
  burst?: {
    fireSpreadMs: number;
    allAnsweredMs: number;
    leaderAppliedAllMs: number | null;
    lastProposedMs: number | null;
    latencyMs: Spread;
    outcomes: Record<TurnIn['outcome'], number>;
    refusals: TurnIn[];
    leaderTermBefore: number;
    leaderAfter: string | null;
    termAfter: number | null;
    cpu: CpuWindow;
    lanTraffic: Traffic;
    turnIns: TurnIn[];
  };
  copies?: {
    requiredPerFile: string;
    atBell: CopiesSeen;
    /** ms after the bell when every required copy was there; null when not within the wait. */
    allPresentMs?: number | null;
    waitedMs?: number;
    afterWait?: CopiesSeen;
    lanTraffic?: Traffic;
  };
  teacherOpens?: { ms: number; wrongBytes: string[]; copiesAfter: CopiesSeen; lanTraffic: Traffic };
  memoryMiB?: { leader: number | null; median: number; max: number };
  arpTableOverflows?: number | null;
  loadAverageAtEnd?: number[];
  error?: string;
};

/** What the phases after the class is formed share. */
interface Measured extends Class {
  results: Results;
  /** The leader when the class formed, and the pids whose CPU is reported by name. */
  leader: ClassroomLaptop;
  watched: Map<number, string>;
  cpuNow: () => CpuSample;
}

async function measure(results: Results, lan: Lan, dataRoot: string, entry: string): Promise<void> {
  const startSince = Date.now();
  const laptops = await startLaptops(lan, dataRoot, entry);
  const startMs = Date.now() - startSince;
  say(`${LAPTOPS} laptops running in ${LAPTOPS} namespaces after ${(startMs / 1000).toFixed(1)} s`);
  const dataDirs = new Map(laptops.map((laptop) => [laptop, join(dataRoot, laptop.name)]));
  const { classId, formedMs, joinRetries } = await formClass(laptops);
  const { leader, status } = await waitFor('a leader', 20_000, () => agreedLeader(laptops));
  const nameOf = (id: string) => laptops.find((laptop) => laptop.laptopId === id)?.name ?? id;
  results.formed = { startMs, formedMs, joinRetries, voters: status.voters.map(nameOf), leader: leader.name, leaderIsTeacher: leader === laptops[0] };
  say(`class formed in ${(formedMs / 1000).toFixed(1)} s; leader ${leader.name}; voters ${results.formed.voters.join(', ')}`);

  const watched = new Map<number, string>([[leader.pid, 'leader']]);
  if (leader !== laptops[0]) watched.set(laptops[0]!.pid, 'teacher');
  const lanProcesses = await lanPids(lan);
  const nodes = new Set(laptops.map((laptop) => laptop.pid));
  const cpuNow = (): CpuSample => sampleCpu(lanProcesses, nodes, [...watched.keys()]);
  const run: Measured = { lan, laptops, dataDirs, classId, results, leader, watched, cpuNow };
  await publishAssignment(run);
  say('assignment published and seen by every student');

  const students = await attachAll(run);
  const { burstAt, required } = await ringTheBell(run, students);
  await watchRequiredCopies(run, required, burstAt);
  await teacherOpens(run, students, required);

  const rss = laptops.map((laptop) => memory(laptop.pid)?.rssMiB ?? NaN).filter((v) => !Number.isNaN(v));
  const leaderRss = memory(leader.pid)?.rssMiB;
  results.memoryMiB = {
    leader: leaderRss === undefined ? null : round(leaderRss),
    median: round(percentile([...rss].sort((x, y) => x - y), 50)),
    max: round(Math.max(...rss)),
  };
}

/** Before the bell: every student attaches their file at the same time. */
async function attachAll(run: Measured): Promise<Student[]> {
  const cpuBefore = run.cpuNow();
  const bytesBefore = await switchBytes(run.lan);
  const since = Date.now();
  const everyone = Promise.all(run.laptops.slice(1).map((laptop, i) => attach(run, laptop, i + 1)));
  const students = await within(`${run.laptops.length - 1} students attaching their files`, WAIT.attach, everyone);
  const ms = Date.now() - since;
  const cpuAfter = run.cpuNow();
  const bytesAfter = await switchBytes(run.lan);
  say(`${students.length} files of ${FILE_BYTES / MiB} MiB attached and saved in ${(ms / 1000).toFixed(1)} s`);
  run.results.attach = {
    ms,
    uploadMs: spread(students.map((s) => s.uploadMs)),
    saveDraftMs: spread(students.map((s) => s.saveMs)),
    cpu: cpuBetween(cpuBefore, cpuAfter, run.watched),
    lanTraffic: traffic(bytesBefore, bytesAfter, run.leader),
  };
  return students;
}

/** All students press "turn in" at once; measured until every one is committed. */
async function ringTheBell(run: Measured, students: Student[]): Promise<{ burstAt: number; required: Map<Student, Holder[]> }> {
  await settle(run.laptops);
  // Heartbeats only from here: the burst starts from a class doing nothing else.
  await sleep(1_000);
  const before = await waitFor('the leader before the bell', 20_000, () => agreedLeader(run.laptops));
  if (before.leader !== run.leader) say(`the leader moved to ${before.leader.name} before the bell`);
  const required = requiredHolders(run, students, before.status.voters);
  const atBell = copiesSeen(required);

  say(`all ${students.length} students press "turn in" now`);
  const bytesBefore = await switchBytes(run.lan);
  const cpuBefore = run.cpuNow();
  let cpuAtLastAnswer: CpuSample | null = null;
  const { burstAt, results: turnIns, leaderApplied } = await burst(run, students, before.leader, () => (cpuAtLastAnswer = run.cpuNow()));
  const bytesAfter = await switchBytes(run.lan);
  await placeInLog(run, students, burstAt, turnIns);

  const lastIndex = Math.max(...turnIns.map((t) => t.index ?? Infinity));
  const leaderAppliedAll = Number.isFinite(lastIndex) ? leaderApplied.find((sample) => sample.applied >= lastIndex) : undefined;
  const after = await agreedLeader(run.laptops);
  const proposed = turnIns.flatMap((t) => (t.proposedMs === undefined ? [] : [t.proposedMs]));
  const outcomes = { applied: 0, refused: 0, pending: 0, failed: 0 };
  for (const t of turnIns) outcomes[t.outcome]++;
  run.results.burst = {
    fireSpreadMs: Math.max(...turnIns.map((t) => t.firedMs)) - Math.min(...turnIns.map((t) => t.firedMs)),
    allAnsweredMs: Math.max(...turnIns.map((t) => t.answeredMs)),
    leaderAppliedAllMs: leaderAppliedAll?.ms ?? null,
    lastProposedMs: proposed.length > 0 ? Math.max(...proposed) : null,
    latencyMs: spread(turnIns.map((t) => t.latencyMs)),
    outcomes,
    refusals: turnIns.filter((t) => t.outcome !== 'applied'),
    leaderTermBefore: before.status.term,
    leaderAfter: after instanceof NotYet ? null : after.leader.name,
    termAfter: after instanceof NotYet ? null : after.status.term,
    cpu: cpuBetween(cpuBefore, cpuAtLastAnswer ?? run.cpuNow(), run.watched),
    lanTraffic: traffic(bytesBefore, bytesAfter, run.leader),
    turnIns,
  };
  run.results.copies = { requiredPerFile: 'owner + teachers + voters, no laptop twice', atBell };
  say(`${outcomes.applied} of ${students.length} turn-ins committed; the last answer came ${run.results.burst.allAnsweredMs} ms after the bell`);
  return { burstAt, required };
}

/** Watches the blob folders until every copy the retention rule asks for is there, or the wait ends. */
async function watchRequiredCopies(run: Measured, required: Map<Student, Holder[]>, burstAt: number): Promise<void> {
  say(`watching the blob folders for up to ${WAIT.copies / 1000} s for the copies the retention rule asks for`);
  const bytesBefore = await switchBytes(run.lan);
  const watched = await watchCopies(required, burstAt, WAIT.copies);
  run.results.copies = {
    ...run.results.copies!,
    allPresentMs: watched.allPresentMs,
    waitedMs: Date.now() - burstAt,
    afterWait: watched.seen,
    lanTraffic: traffic(bytesBefore, await switchBytes(run.lan), run.leader),
  };
}

/** The teacher grades: opening every file pulls the ones the teacher's laptop lacks. */
async function teacherOpens(run: Measured, students: Student[], required: Map<Student, Holder[]>): Promise<void> {
  const bytesBefore = await switchBytes(run.lan);
  const opened = await within(`the teacher opening all ${students.length} files`, WAIT.teacherOpens, teacherOpensAll(run, students));
  run.results.teacherOpens = {
    ms: opened.ms,
    wrongBytes: opened.wrong,
    copiesAfter: copiesSeen(required),
    lanTraffic: traffic(bytesBefore, await switchBytes(run.lan), run.leader),
  };
}

// ---- report -------------------------------------------------------------------------------------

const ms = (value: number | null | undefined): string => (value === null || value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toLocaleString('en-US')} ms`);
const mib = (traffic: { sentMiB: number; receivedMiB: number }): string => `${traffic.sentMiB} MiB sent, ${traffic.receivedMiB} MiB received`;

function copiesLine(seen: CopiesSeen): string {
  const missing = Object.entries(seen.missingByRole).map(([role, n]) => `${n} on ${role} laptops`);
  return `${seen.present} of ${seen.required} present${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}`;
}

function cpuLine(cpu: CpuWindow): string {
  const watched = Object.entries(cpu.percentOfOneCore).map(([name, percent]) => `${name} ${cpu.cpuMs[name]} ms (${percent} % of a core)`);
  return `${watched.join(', ')}; all ${LAPTOPS} nodes ${cpu.nodeCores} cores, the harness ${cpu.harnessCores}; other programs ${cpu.otherCores ?? '?'} cores (steal ${cpu.stealCores ?? '?'}) over ${cpu.seconds} s`;
}

function printReport(results: Results): void {
  const m = results.machine;
  console.log(`\nQuorum deadline burst: ${results.setup.students} students turn in a ${FILE_BYTES / MiB} MiB file in the same second, on a LAN of network namespaces`);
  console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; commit ${m.commit.slice(0, 10)}; seed ${results.setup.seed}`);
  console.log(`         ${m.fileSystem}, fdatasync p50 ${m.fdatasyncMedianMs} ms; load average ${m.loadAverageAtStart.join(' ')} at start, ${results.loadAverageAtEnd?.join(' ') ?? '?'} at end`);
  console.log(`         all ${results.setup.laptops} laptops share these ${m.cores} cores (and with other programs: see "other programs" below)`);
  console.log(`         nodes run ${results.setup.nodeEntry}; ${results.setup.note}`);
  console.log(`         LAN traffic is counted at the switch, headers included; "received" counts a multicast (mDNS) frame once per laptop it reaches\n`);
  const f = results.formed;
  if (f) {
    console.log(`class: ${results.setup.laptops} laptops started in ${ms(f.startMs)}, formed by mDNS in ${ms(f.formedMs)} (${f.joinRetries} joins tried again); leader ${f.leader}${f.leaderIsTeacher ? " (the teacher's laptop)" : ''}; voters ${f.voters.join(', ')}`);
  }
  const a = results.attach;
  if (a) {
    console.log(`\nbefore the bell, all students attach at once (upload in parts, then saveDraft: the leader pulls the file first):`);
    console.log(`  all saved in ${ms(a.ms)}; upload p50 ${ms(a.uploadMs.p50)}, p95 ${ms(a.uploadMs.p95)}, max ${ms(a.uploadMs.max)}`);
    console.log(`  saveDraft with the file p50 ${ms(a.saveDraftMs.p50)}, p95 ${ms(a.saveDraftMs.p95)}, max ${ms(a.saveDraftMs.max)}`);
    console.log(`  LAN traffic: all laptops ${mib(a.lanTraffic.all)}; the leader ${mib(a.lanTraffic.leader)}`);
    console.log(`  CPU: ${cpuLine(a.cpu)}`);
  }
  const b = results.burst;
  if (b) {
    console.log(`\nthe bell: ${results.setup.students} turn-ins fired within ${ms(b.fireSpreadMs)}`);
    const rows: [string, string][] = [
      ['every turn-in acknowledged to its student', ms(b.allAnsweredMs)],
      ['every turn-in applied on the leader', ms(b.leaderAppliedAllMs)],
      ['  last one proposed by the leader', ms(b.lastProposedMs)],
      ['per-student commit latency p50', ms(b.latencyMs.p50)],
      ['per-student commit latency p95', ms(b.latencyMs.p95)],
      ['per-student commit latency max', ms(b.latencyMs.max)],
      ['refused / pending / failed', `${b.outcomes.refused} / ${b.outcomes.pending} / ${b.outcomes.failed}`],
      ['LAN traffic, all laptops', mib(b.lanTraffic.all)],
      ['LAN traffic, the leader', mib(b.lanTraffic.leader)],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}   ${value}`);
    console.log(`  CPU: ${cpuLine(b.cpu)}`);
    console.log(`  leader ${b.leaderAfter ?? 'unknown'} at term ${b.termAfter ?? '?'} after the burst (term ${b.leaderTermBefore} before)`);
    for (const refusal of b.refusals) console.log(`  NOT COMMITTED: ${refusal.student}: ${refusal.outcome}: ${refusal.detail ?? ''}`);
  }
  const c = results.copies;
  if (c) {
    console.log(`\nfiles on the laptops that must keep them (${c.requiredPerFile}), looked for in their blob folders:`);
    console.log(`  at the bell: ${copiesLine(c.atBell)}`);
    if (c.afterWait) {
      if (c.allPresentMs !== null && c.allPresentMs !== undefined) console.log(`  all present ${ms(c.allPresentMs)} after the bell`);
      else console.log(`  NOT all present ${ms(c.waitedMs)} after the bell: ${copiesLine(c.afterWait)}`);
      const laptops = Object.entries(c.afterWait.missingByLaptop);
      if (laptops.length > 0) console.log(`  missing by laptop: ${laptops.map(([name, n]) => `${name} ${n}`).join(', ')}`);
    }
    if (c.lanTraffic) console.log(`  LAN traffic while watching: ${mib(c.lanTraffic.all)}`);
  }
  const t = results.teacherOpens;
  if (t) {
    console.log(`\nthe teacher opens every file (readFile, pulling what the laptop lacks): ${ms(t.ms)}; bytes ${t.wrongBytes.length === 0 ? 'all match' : `WRONG for ${t.wrongBytes.join(', ')}`}`);
    console.log(`  LAN traffic: ${mib(t.lanTraffic.all)}; copies afterwards: ${copiesLine(t.copiesAfter)}`);
  }
  if (results.memoryMiB) console.log(`\nresident memory: leader ${results.memoryMiB.leader ?? '?'} MiB, median ${results.memoryMiB.median} MiB, max ${results.memoryMiB.max} MiB`);
  if (results.arpTableOverflows) console.log(`the kernel's ARP table overflowed ${results.arpTableOverflows} times: packets were dropped`);
  if (results.error) console.log(`\nFAILED: ${results.error}`);
}

// ---- main ---------------------------------------------------------------------------------------

function nodeEntry(): { entry: string; label: string; note: string } {
  if (!existsSync(BUILT_MAIN)) {
    return { entry: join(ROOT, 'electron/headless/main.ts'), label: 'the TypeScript sources (no build found)', note: 'run `npm run build` to measure the built node' };
  }
  const built = statSync(BUILT_MAIN).mtime;
  return {
    entry: BUILT_MAIN,
    label: `out/main/headless.js built ${built.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    // test/lan/node-agent.mjs starts every node with --import tsx, which a built node does not need.
    note: 'started by the LAN agent, which also loads tsx',
  };
}

const availability = await available();
if (!availability.ok) {
  // Skipped rather than failed, so `npm run bench` still runs as a user without root.
  const line = '!'.repeat(100);
  console.warn(`${line}\n!!! SKIPPING the deadline burst: it builds a LAN of network namespaces, and here ${availability.reason}.\n${line}`);
  process.exit(0);
}

const { entry, label, note } = nodeEntry();
say(`${STUDENTS} students and a teacher; seed ${SEED}; nodes run ${label}`);
const results: Results = {
  date: new Date().toISOString(),
  machine: machine(ROOT),
  setup: { students: STUDENTS, laptops: LAPTOPS, fileBytes: FILE_BYTES, seed: SEED, nodeEntry: label, note },
};
const dataRoot = mkdtempSync(join(tmpdir(), 'quorum-deadline-burst-'));
let lan: Lan | null = null;
// Ctrl-C, a kill or the watchdog end the process through 'exit': the Lan's own handler kills
// every process in its namespaces and removes them, then this removes the folders they wrote.
const removeFolders = (): void => rmSync(dataRoot, { recursive: true, force: true });
const watchdog = setTimeout(() => {
  console.error(`the benchmark ran past ${RUN_LIMIT_MS / 60_000} minutes: stopping every laptop`);
  process.exit(1);
}, RUN_LIMIT_MS);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping every laptop and removing the LAN`);
    process.exit(130);
  });
}
process.once('exit', removeFolders);

let failed = false;
try {
  lan = await Lan.create(LAPTOPS);
  arpOverflowsAtStart = neighbourTableOverflows();
  // Registered after the Lan's own 'exit' handler, so the folders go once their writers are gone.
  process.removeListener('exit', removeFolders);
  process.once('exit', removeFolders);
  await measure(results, lan, dataRoot, entry);
} catch (error) {
  failed = true;
  results.error = error instanceof Error ? error.message : String(error);
} finally {
  const overflows = neighbourTableOverflows();
  results.arpTableOverflows = arpOverflowsAtStart === null || overflows === null ? null : overflows - arpOverflowsAtStart;
  say('stopping every laptop and removing the LAN');
  await lan?.destroy();
  removeFolders();
  clearTimeout(watchdog);
}
results.loadAverageAtEnd = loadavg().map((l) => round(l, 2));
printReport(results);
mkdirSync(dirname(RESULTS_FILE), { recursive: true });
writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote ${RESULTS_FILE}`);
// Relayed requests still waiting on stopped laptops must not hold the process open.
process.exit(failed ? 1 : 0);
