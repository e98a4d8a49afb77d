// Crash safety: laptops of a class die by kill -9 at random moments (while writing, while taking
// a snapshot, while installing a snapshot the leader sends because they fell behind) and are
// started again, over and over, while every laptop's user keeps posting comments and saving
// drafts. Afterwards every write the class acknowledged (applied, or accepted as pending) is on
// every replica exactly once, and all replicas agree on the applied index and the digest; then
// the whole class is killed at once, and the same holds after it comes back.
//
// Each seed is one schedule of kills on a fresh class of four laptops (three voters and a
// learner) that snapshot every few entries (--snapshot-every). The seeds are printed;
// QUORUM_CRASH_SEED=<seed> runs that one schedule again. Real processes, real WebSockets, real
// SQLite files; the kill moments come from the outside only: the laptop's own log and the bytes
// it writes (/proc/<pid>/io), never from hooks in the code under test.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, type RandomSource } from '../../electron/raft';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import type { SubmissionView } from '../../shared/classroom/views';
import { classStatus, converged, formClass, leaderOf } from './class-helpers';
import { eventually, HeadlessCluster, type NodeHandle } from './headless-cluster';

const SEED_COUNT = 6;
const KILLS_PER_SEED = 4;
const ASSIGNMENT = 'crash-lab-0001';
/** A comment's text is its id and some padding, so the class file (and every snapshot) grows. */
const COMMENT_PADDING = { min: 200, max: 2500 };
/** Drafts are large: each one is a big log entry, and every student's latest is in every snapshot. */
const DRAFT_PADDING = { min: 20_000, max: 60_000 };
/**
 * Bytes a laptop writes (files and sockets) within one poll of `writeBurst` that mean a snapshot
 * is being written or installed: far more than one comment or draft, far less than the class.
 */
const BURST_BYTES = 400 * 1024;

type KillKind = 'writing' | 'snapshotting' | 'installing';

let cluster: HeadlessCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

function seedsToRun(): number[] {
  const fromEnv = process.env['QUORUM_CRASH_SEED'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed)) throw new Error(`QUORUM_CRASH_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
    return [seed];
  }
  return Array.from({ length: SEED_COUNT }, () => Math.floor(Math.random() * 2 ** 31));
}

describe('killing laptops with kill -9 while they write, snapshot and install snapshots', () => {
  it.each(seedsToRun())('loses no acknowledged write and leaves every replica alike (seed %i)', async (seed) => {
    console.log(`crash seed ${seed} (replay with QUORUM_CRASH_SEED=${seed} npx vitest run test/integration/crash-safety.test.ts)`);
    await runSchedule(seed);
  }, 150_000);
});

async function runSchedule(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const snapshotEvery = 10 + Math.floor(random() * 30);
  // info: the 'raft state' lines say when a restarted laptop hears from the leader.
  const c = new HeadlessCluster({ logLevel: 'info', nodeArgs: ['--snapshot-every', String(snapshotEvery)] });
  cluster = c;
  const { classId } = await formClass(c, 4);
  const people = await classroomOf(c, classId);
  const load = new ClassroomLoad(classId, people, seed);
  await load.moreAcknowledged(30);

  const report: KillReport[] = [];
  for (const kind of killKinds(random)) {
    report.push(await killOnce(kind, c, classId, load, random, snapshotEvery));
    await load.moreAcknowledged(10);
  }
  await load.stop();
  console.log(
    `seed ${seed}: snapshot every ${snapshotEvery} entries; ${load.acknowledgedCount()} writes acknowledged, ${load.pendingCount()} pending, ` +
      `${load.attempted} attempted; kills: ${report.map(describeKill).join('; ')}`,
  );

  expect(load.refusals, 'comments the class refused').toEqual([]);
  const before = await converged(c.nodes, 60_000);
  expect(new Set(before.map((s) => s.digest)).size).toBe(1);
  await expectEveryWriteOnEveryReplica(c, classId, load);

  // Snapshots really were taken and installed: the schedule proved nothing otherwise.
  expect(
    report.some((kill) => kill.file.snapshotIndex > 0),
    'some laptop had taken a snapshot when it was killed (if none ever does, --snapshot-every is not reaching the class runtime)',
  ).toBe(true);
  const installs = report.filter((kill) => kill.kind === 'installing');
  expect(installs.length).toBeGreaterThan(0);
  for (const kill of installs) expect(kill.leaderSnapshotted, `the leader compacted past ${kill.victim} while it was away`).toBe(true);

  // The whole class dies at once, mid-nothing; each file is a valid class with snapshots in it.
  await Promise.all(c.nodes.map((node) => c.kill(node)));
  for (const node of c.nodes) {
    const file = inspectClassFile(node, classId);
    expect(file.snapshotIndex, `${node.name} has a snapshot`).toBeGreaterThan(0);
    expect(file.applied, `${node.name}'s applied index`).toBeGreaterThanOrEqual(file.snapshotIndex);
  }
  for (const node of c.nodes) await c.start(node);
  const after = await converged(c.nodes, 60_000);
  expect(new Set(after.map((s) => s.digest)).size).toBe(1);
  expect(after[0]!.applied).toBeGreaterThanOrEqual(before[0]!.applied);
  await expectEveryWriteOnEveryReplica(c, classId, load);
}

/** At least one kill of each kind, in a seeded order. */
function killKinds(random: RandomSource): KillKind[] {
  const all: KillKind[] = ['writing', 'snapshotting', 'installing'];
  const kinds = [...all];
  while (kinds.length < KILLS_PER_SEED) kinds.push(all[Math.floor(random() * all.length)]!);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds;
}

// ---- the class and its people -----------------------------------------------------------------

/** Who uses each laptop: the teacher on the first, a student on each of the others. */
interface Person {
  node: NodeHandle;
  userId: string;
  role: 'teacher' | 'student';
}

/** Wait until every student is registered, then publish the assignment everyone writes on. */
async function classroomOf(c: HeadlessCluster, classId: string): Promise<Person[]> {
  const teacher = c.nodes[0]!;
  await eventually(
    'every student registered',
    async () => {
      const overview = await teacher.api.methods.classroom({ classId });
      return overview.members.filter((m) => m.role === 'student').length === c.nodes.length - 1;
    },
    30_000,
  );
  const published = await teacher.api.methods.submitCommand({
    classId,
    command: {
      type: 'createAssignment',
      assignmentId: ASSIGNMENT,
      title: 'Pendulum lab',
      instructions: 'Measure the period for three lengths.',
      pointsPossible: 10,
      dueAt: null,
      cutOffAt: null,
      materials: [],
      published: true,
    },
    waitMs: 10_000,
  });
  expect(published).toMatchObject({ status: 'applied', result: { status: 'applied' } });
  const people: Person[] = [];
  for (const node of c.nodes) {
    const overview = await eventually(`${node.name} sees the assignment`, async () => {
      const seen = await node.api.methods.classroom({ classId });
      return seen.assignments.some((a) => a.assignmentId === ASSIGNMENT) && seen.me.role !== null && seen;
    });
    people.push({ node, userId: overview.me.userId, role: overview.me.role! });
  }
  return people;
}

// ---- the writes -------------------------------------------------------------------------------

/** What the class promised about one comment: applied, or kept in the laptop's outbox for later. */
type Promised = 'acknowledged' | 'pending';

/**
 * Every person writes through their own laptop (commands are signed by the laptop's user), one
 * command at a time, pausing while that laptop is down: comments in a student's thread (the
 * teacher's in each student's in turn) and, for students, now and then a large draft. A write
 * whose answer was lost with its laptop may or may not apply, and is not counted.
 */
class ClassroomLoad {
  readonly comments = new Map<string, { studentId: string; promised: Promised }>();
  /** Per student: the highest draft number the class applied, and how many it applied. */
  readonly drafts = new Map<string, { highest: number; applied: number }>();
  readonly refusals: string[] = [];
  attempted = 0;
  private writing = true;
  private readonly clients: Promise<void>[];

  constructor(
    private readonly classId: string,
    private readonly people: Person[],
    seed: number,
  ) {
    const students = people.filter((p) => p.role === 'student');
    this.clients = people.map((person, index) => this.runClient(person, students, seededRandom(seed ^ (0x9e37 * (index + 1)))));
  }

  acknowledgedCount(): number {
    let count = 0;
    for (const comment of this.comments.values()) if (comment.promised === 'acknowledged') count++;
    for (const draft of this.drafts.values()) count += draft.applied;
    return count;
  }

  pendingCount(): number {
    return [...this.comments.values()].filter((c) => c.promised === 'pending').length;
  }

  async moreAcknowledged(count: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acknowledgedCount() + count;
    await eventually(`${count} more acknowledged writes`, async () => this.acknowledgedCount() >= target, timeoutMs);
  }

  async stop(): Promise<void> {
    this.writing = false;
    await Promise.all(this.clients);
  }

  private async runClient(person: Person, students: Person[], random: RandomSource): Promise<void> {
    for (let n = 0; this.writing; n++) {
      if (!person.node.process) {
        await sleep(25);
        continue;
      }
      this.attempted++;
      try {
        if (person.role === 'student' && n % 6 === 5) await this.saveDraft(person, n, random);
        else await this.comment(person, person.role === 'student' ? person : students[n % students.length]!, n, random);
      } catch {
        // The laptop died under the call (or is still starting): the outcome is unknown.
        await sleep(25);
      }
    }
  }

  private async comment(author: Person, student: Person, n: number, random: RandomSource): Promise<void> {
    const commentId = `${author.node.name}-${n}`;
    const text = `${commentId} ${'m'.repeat(between(random, COMMENT_PADDING))}`;
    const command: ClassroomCommand = { type: 'comment', commentId, assignmentId: ASSIGNMENT, studentId: student.userId, text };
    const outcome = await author.node.api.methods.submitCommand({ classId: this.classId, command, waitMs: 3000 });
    if (outcome.status === 'pending') this.comments.set(commentId, { studentId: student.userId, promised: 'pending' });
    else if (outcome.result.status === 'applied') this.comments.set(commentId, { studentId: student.userId, promised: 'acknowledged' });
    else this.refusals.push(`${commentId}: ${outcome.result.code} ${outcome.result.reason}`);
  }

  /** A draft based on the version this laptop sees; refused as stale when an unanswered one applied meanwhile. */
  private async saveDraft(student: Person, n: number, random: RandomSource): Promise<void> {
    const api = student.node.api.methods;
    const current = await api.submission({ classId: this.classId, assignmentId: ASSIGNMENT, studentId: student.userId });
    const text = `${draftMark(n)}${'d'.repeat(between(random, DRAFT_PADDING))}`;
    const command: ClassroomCommand = { type: 'saveDraft', assignmentId: ASSIGNMENT, baseVersion: current.version, text, files: [] };
    const outcome = await api.submitCommand({ classId: this.classId, command, waitMs: 3000 });
    if (outcome.status !== 'applied' || outcome.result.status !== 'applied') return;
    const seen = this.drafts.get(student.userId) ?? { highest: -1, applied: 0 };
    this.drafts.set(student.userId, { highest: Math.max(seen.highest, n), applied: seen.applied + 1 });
  }
}

function draftMark(n: number): string {
  return `draft ${n} `;
}

/**
 * Every promised comment is in its thread exactly once, and every student's draft is their last
 * applied one or a later one, as every laptop that may read them sees it: the teacher's all
 * threads, each student's their own.
 */
async function expectEveryWriteOnEveryReplica(c: HeadlessCluster, classId: string, load: ClassroomLoad): Promise<void> {
  const teacher = c.nodes[0]!;
  const students = await teacher.api.methods.classroom({ classId });
  for (const member of students.members.filter((m) => m.role === 'student')) {
    const readers = c.nodes.filter((node) => node === teacher || member.laptops.includes(node.laptopId));
    expect(readers.length, `the teacher's laptop and ${member.displayName}'s`).toBe(2);
    for (const reader of readers) {
      const view = await reader.api.methods.submission({ classId, assignmentId: ASSIGNMENT, studentId: member.userId });
      expectThreadHoldsPromises(view, load, `${member.displayName}'s thread on ${reader.name}`);
      expectLatestDraft(view, load, `${member.displayName}'s draft on ${reader.name}`);
    }
  }
}

function expectThreadHoldsPromises(view: SubmissionView, load: ClassroomLoad, where: string): void {
  const ids = view.comments.map((comment) => comment.commentId);
  const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
  expect(duplicates, `comments posted twice in ${where}`).toEqual([]);
  const present = new Set(ids);
  const missing = [...load.comments].filter(([id, comment]) => comment.studentId === view.studentId && !present.has(id));
  expect(missing.map(([id, comment]) => `${id} (${comment.promised})`), `promised comments missing from ${where}`).toEqual([]);
}

function expectLatestDraft(view: SubmissionView, load: ClassroomLoad, where: string): void {
  const drafts = load.drafts.get(view.studentId);
  if (!drafts) return;
  const mark = /^draft (\d+) /.exec(view.text);
  expect(mark, `${where} is one of the drafts`).not.toBeNull();
  expect(Number(mark![1]), `${where}: the last acknowledged draft or a later one`).toBeGreaterThanOrEqual(drafts.highest);
  expect(view.version, `${where}: at least every acknowledged save`).toBeGreaterThanOrEqual(drafts.applied);
}

// ---- the kills --------------------------------------------------------------------------------

interface KillReport {
  kind: KillKind;
  victim: string;
  /** The victim's class file right after it died. */
  file: ClassFileState;
  /** 'snapshotting', 'installing': whether the kill followed a burst of writes rather than a timeout. */
  duringBurst?: boolean;
  /** 'installing': the leader's log had moved on past the victim's by more than a snapshot's worth. */
  leaderSnapshotted?: boolean;
  /** 'installing': whether the second kill came after the installed snapshot was on disk. */
  installedBeforeKill?: boolean;
}

function describeKill(kill: KillReport): string {
  const detail =
    kill.kind === 'snapshotting'
      ? kill.duringBurst
        ? 'during a write burst'
        : 'no burst seen, at a random moment'
      : kill.kind === 'installing'
        ? `${kill.duringBurst ? 'in a write burst, ' : ''}${kill.installedBeforeKill ? 'after the snapshot was installed' : 'before the installed snapshot was on disk'}`
        : 'at a random moment';
  return `${kill.kind} ${kill.victim} (${detail}; its file: snapshot ${kill.file.snapshotIndex}, applied ${kill.file.applied}, last ${kill.file.lastIndex})`;
}

async function killOnce(
  kind: KillKind,
  c: HeadlessCluster,
  classId: string,
  load: ClassroomLoad,
  random: RandomSource,
  snapshotEvery: number,
): Promise<KillReport> {
  const running = c.nodes.filter((node) => node.process);
  if (kind === 'writing') {
    await sleep(200 + random() * 1300);
    const victim = pick(random, running);
    await c.kill(victim);
    const file = inspectClassFile(victim, classId);
    await sleep(random() * 1000);
    await c.start(victim);
    return { kind, victim: victim.name, file };
  }
  if (kind === 'snapshotting') {
    const victim = pick(random, running);
    // Every laptop snapshots every few entries; a burst of written bytes is one being written.
    const duringBurst = await writeBurst(victim, BURST_BYTES, 8000);
    await c.kill(victim);
    const file = inspectClassFile(victim, classId);
    await sleep(random() * 500);
    await c.start(victim);
    return { kind, victim: victim.name, file, duringBurst };
  }
  // installing: away long enough for the leader to compact past it, then killed again while the
  // leader's snapshot reaches it.
  const leader = await leaderOf(c);
  const victim = pick(
    random,
    running.filter((node) => node !== leader),
  );
  await c.kill(victim);
  const file = inspectClassFile(victim, classId);
  const leaderSnapshotted = await eventually(
    `the leader applying ${3 * snapshotEvery} entries past ${victim.name}'s log`,
    async () => (await classStatus(await leaderOf(c))).applied > file.lastIndex + 3 * snapshotEvery,
    60_000,
  );
  let startFailure: unknown = null;
  const starting = c.start(victim).catch((error: unknown) => void (startFailure = error));
  await eventually(
    `${victim.name} hearing from a leader`,
    async () => startFailure !== null || victim.logs.some((r) => r.message === 'raft state' && typeof r.fields?.['leader'] === 'string'),
    30_000,
  );
  // Then the snapshot arrives and is written: kill it at a random moment from the first burst on.
  const duringBurst = await writeBurst(victim, BURST_BYTES, 3000);
  await sleep(random() * 20);
  await c.kill(victim);
  await starting;
  // Exited on its own (kill had nothing to kill): it could not start from what the crash left.
  if (victim.process) throw startFailure;
  const second = inspectClassFile(victim, classId);
  await c.start(victim);
  return { kind, victim: victim.name, file, leaderSnapshotted, duringBurst, installedBeforeKill: second.snapshotIndex > file.lastIndex };
}

/**
 * Resolves true as soon as `node` writes more than `bytes` between two polls a millisecond or
 * two apart (a snapshot taken, installed or sent), false after `timeoutMs` without one.
 */
async function writeBurst(node: NodeHandle, bytes: number, timeoutMs: number): Promise<boolean> {
  const pid = node.process?.pid;
  if (pid === undefined) return false;
  const deadline = Date.now() + timeoutMs;
  let last = writtenBytes(pid);
  while (last !== null && Date.now() < deadline) {
    await sleep(1);
    const now = writtenBytes(pid);
    if (now !== null && now - last > bytes) return true;
    last = now;
  }
  return false;
}

/** Bytes the process has handed to write(2) and friends, files and sockets alike; null once it is gone. */
function writtenBytes(pid: number): number | null {
  let io: string;
  try {
    io = readFileSync(`/proc/${pid}/io`, 'utf8');
  } catch {
    return null;
  }
  const match = /^wchar: (\d+)$/m.exec(io);
  return match ? Number(match[1]) : null;
}

// ---- the class file of a dead laptop ----------------------------------------------------------

interface ClassFileState {
  snapshotIndex: number;
  applied: number;
  lastIndex: number;
}

/**
 * What a stopped laptop's class file holds, read from a copy (the file and its write-ahead log)
 * so that opening it here changes nothing the laptop will find when it starts again.
 */
function inspectClassFile(node: NodeHandle, classId: string): ClassFileState {
  if (node.process) throw new Error(`${node.name} is running; its class file is locked`);
  const source = join(node.dataDir, 'classes', `${classId}.sqlite`);
  const copyDir = mkdtempSync(join(tmpdir(), 'quorum-crash-file-'));
  try {
    const copy = join(copyDir, 'class.sqlite');
    copyFileSync(source, copy);
    if (existsSync(`${source}-wal`)) copyFileSync(`${source}-wal`, `${copy}-wal`);
    const db = new Database(copy);
    try {
      const one = (sql: string) => db.prepare(sql).pluck().get() as number | null;
      const snapshotIndex = one('SELECT idx FROM raft_snapshot WHERE id = 1') ?? 0;
      return {
        snapshotIndex,
        applied: one('SELECT idx FROM raft_applied WHERE id = 1') ?? 0,
        lastIndex: one('SELECT max(idx) FROM raft_log') ?? snapshotIndex,
      };
    } finally {
      db.close();
    }
  } finally {
    rmSync(copyDir, { recursive: true, force: true });
  }
}

// ---- small helpers ----------------------------------------------------------------------------

function pick<T>(random: RandomSource, items: readonly T[]): T {
  if (items.length === 0) throw new Error('nothing to pick from');
  return items[Math.floor(random() * items.length)]!;
}

function between(random: RandomSource, { min, max }: { min: number; max: number }): number {
  return min + Math.floor(random() * (max - min));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
