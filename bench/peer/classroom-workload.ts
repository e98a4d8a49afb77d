// A real classroom on the benchmark's laptops, for bench/classroom-writes.ts: the teacher's laptop
// creates the class, the students' laptops join and register their users, the teacher posts
// assignments; then writers act as those users through their own laptop's API (students save
// drafts, the teacher grades and comments), and at the end the class is checked: the same copy on
// every laptop, nothing refused, and every acknowledged command in the state.
import type { ClassStatus } from '../../shared/api';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import type { Role } from '../../shared/classroom/views';
import type { HeadlessCluster, NodeHandle } from '../../test/integration/headless-cluster';
import { classOf, settled, type ClassUnderTest } from './class-under-test';
import { answerFrom, live, progress, until } from './harness';
import type { WriteOutcome } from './write-window';

/** Enough for 64 writers on one student's laptop, each with an assignment of its own. */
export const ASSIGNMENTS = 64;
/** An autosaved draft of a few paragraphs. */
const DRAFT_CHARS = 400;
const POINTS = 10;
/** How long a writer lets the node wait for its command to be applied before it is left pending. */
const WAIT_MS = 5_000;

export interface ClassroomUser {
  userId: string;
  role: Role;
  displayName: string;
}

export interface Classroom {
  test: ClassUnderTest;
  teacher: NodeHandle;
  students: NodeHandle[];
  /** The user of each laptop: their key signs what is written through it. */
  users: Map<NodeHandle, ClassroomUser>;
  assignmentIds: string[];
}

/** The class of 3 with its students registered and ASSIGNMENTS assignments posted. */
export async function classroomOfThree(cluster: HeadlessCluster, deadline: number): Promise<Classroom> {
  const started = Date.now();
  const test = await classOf(cluster, 3, deadline);
  const [teacher, ...students] = test.cluster.nodes as [NodeHandle, ...NodeHandle[]];
  const users = new Map<NodeHandle, ClassroomUser>();
  // Admitted laptops register their users by themselves: wait until the class has applied it.
  for (const node of [teacher, ...students]) {
    const me = await until(`${node.name}'s user registered in the class`, deadline, async () => {
      const overview = await node.api.methods.classroom({ classId: test.classId });
      return overview.me.role !== null && overview.me;
    }, 100);
    users.set(node, { userId: me.userId, role: me.role!, displayName: me.displayName });
  }
  progress('every user registered', started);

  const assignmentIds = Array.from({ length: ASSIGNMENTS }, (_, i) => `exercise-${String(i + 1).padStart(3, '0')}`);
  const posting = [...assignmentIds];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let id = posting.shift(); id !== undefined; id = posting.shift()) {
        await appliedBy(teacher, test.classId, {
          type: 'createAssignment',
          assignmentId: id,
          title: `Exercise ${id.slice(-3)}`,
          instructions: '## Pendulum\n\nTime ten swings for three lengths of string and explain what you see.',
          pointsPossible: POINTS,
          dueAt: Date.now() + 7 * 86_400_000,
          cutOffAt: null,
          materials: [],
          published: true,
        });
      }
    }),
  );
  await settled(test, deadline);
  progress(`${ASSIGNMENTS} assignments posted and on every laptop`, started);
  return { test, teacher, students, users, assignmentIds };
}

async function appliedBy(node: NodeHandle, classId: string, command: ClassroomCommand): Promise<void> {
  const outcome = await answerFrom(node, command.type, node.api.methods.submitCommand({ classId, command, waitMs: WAIT_MS }));
  if (outcome.status !== 'applied') throw new Error(`${command.type} through ${node.name} was left pending`);
  if (outcome.result.status !== 'applied') throw new Error(`${command.type} through ${node.name} was refused: ${outcome.result.reason}`);
}

/**
 * One chain of commands a single writer owns: a student's draft of one assignment, or the
 * teacher's grade and comments on one student's work. Drafts and grades carry the version they
 * are based on, so two writers sharing a chain would refuse each other's commands as stale.
 */
interface Chain {
  assignmentId: string;
  studentId: string;
  kind: 'draft' | 'grading';
  /** Acknowledged as applied: drafts saved, or grades and comments posted. */
  drafts: number;
  grades: number;
  comments: number;
  /** Sent but not acknowledged (left pending, or the call failed): they may still apply. */
  uncertain: number;
  /** After an uncertain or refused command the next version is unknown: the chain stops. */
  stopped: boolean;
}

export interface Refusal {
  node: string;
  type: string;
  code: string;
  reason: string;
}

/** The writers of both measurements: each chain's count carries from one to the next. */
export class ClassroomWriters {
  readonly refusals: Refusal[] = [];
  private readonly chains = new Map<string, Chain>();
  private nextComment = 0;

  constructor(
    private readonly classroom: Classroom,
    /** Makes comment ids unique to this run. */
    private readonly runId: string,
  ) {}

  /** Writer `writer` of a window over `targetCount` laptops: its chain is the `writer / targetCount`th of its laptop. */
  async writeOnce(writer: number, node: NodeHandle, targetCount: number): Promise<WriteOutcome | null> {
    const chain = this.chainOf(node, Math.floor(writer / targetCount));
    if (chain.stopped) return null;
    const command = this.nextCommand(chain);
    let outcome;
    try {
      outcome = await node.api.methods.submitCommand({ classId: this.classroom.test.classId, command, waitMs: WAIT_MS });
    } catch (error) {
      chain.uncertain++;
      chain.stopped = true;
      throw error;
    }
    if (outcome.status === 'pending') {
      chain.uncertain++;
      chain.stopped = true;
      return 'pending';
    }
    if (outcome.result.status === 'rejected') {
      this.refusals.push({ node: node.name, type: command.type, code: outcome.result.code, reason: outcome.result.reason });
      chain.stopped = true;
      return 'refused';
    }
    if (command.type === 'saveDraft') chain.drafts++;
    else if (command.type === 'grade') chain.grades++;
    else chain.comments++;
    return 'applied';
  }

  /** Commands acknowledged as applied, by type, over every chain. */
  acknowledged() {
    const chains = [...this.chains.values()];
    const sum = (pick: (chain: Chain) => number) => chains.reduce((total, chain) => total + pick(chain), 0);
    return { saveDraft: sum((c) => c.drafts), grade: sum((c) => c.grades), comment: sum((c) => c.comments), uncertain: sum((c) => c.uncertain) };
  }

  /** The chains, keyed by assignment and student, for the final check. */
  chainsOf(assignmentId: string, studentId: string): Chain[] {
    return (['draft', 'grading'] as const).flatMap((kind) => this.chains.get(chainKey(kind, assignmentId, studentId)) ?? []);
  }

  private chainOf(node: NodeHandle, index: number): Chain {
    const user = this.classroom.users.get(node)!;
    const { assignmentIds } = this.classroom;
    const studentIds = this.classroom.students.map((student) => this.classroom.users.get(student)!.userId);
    // A student's writers take an assignment each; the teacher's, an assignment and a student each.
    const kind = user.role === 'student' ? 'draft' : 'grading';
    const assignmentId = assignmentIds[kind === 'draft' ? index : Math.floor(index / studentIds.length)];
    if (assignmentId === undefined) throw new Error(`more writers on ${node.name} than it has chains of commands: post more assignments`);
    const studentId = kind === 'draft' ? user.userId : studentIds[index % studentIds.length]!;
    const key = chainKey(kind, assignmentId, studentId);
    let chain = this.chains.get(key);
    if (!chain) {
      chain = { assignmentId, studentId, kind, drafts: 0, grades: 0, comments: 0, uncertain: 0, stopped: false };
      this.chains.set(key, chain);
    }
    return chain;
  }

  private nextCommand(chain: Chain): ClassroomCommand {
    const { assignmentId, studentId } = chain;
    if (chain.kind === 'draft') {
      const text = `Draft ${chain.drafts + 1}. With a string of 50 cm, ten swings took 14.2 s. `.padEnd(DRAFT_CHARS, 'More measurements follow. ');
      return { type: 'saveDraft', assignmentId, baseVersion: chain.drafts, text, files: [] };
    }
    // The teacher alternates: a grade (its draft, revised each time), then a comment.
    if (chain.grades === chain.comments) {
      const score = (chain.grades % POINTS) + 1;
      return { type: 'grade', assignmentId, studentId, baseVersion: chain.grades, score, feedback: `Revision ${chain.grades + 1}: clear method.` };
    }
    const commentId = `${this.runId}-${(this.nextComment++).toString(36).padStart(6, '0')}`;
    return { type: 'comment', commentId, assignmentId, studentId, text: 'Good start. Say why the period does not depend on the amplitude.' };
  }
}

const chainKey = (kind: Chain['kind'], assignmentId: string, studentId: string) => `${kind}/${assignmentId}/${studentId}`;

async function statusOf(node: NodeHandle, classId: string): Promise<ClassStatus> {
  const status = (await answerFrom(node, 'status', node.api.methods.status({}))).classes.find((c) => c.classId === classId);
  if (!status) throw new Error(`${node.name} does not belong to the class`);
  return status;
}

/**
 * After the writers stopped: every outbox empty, every laptop at the same applied index; then
 * whether their digests agree, what the class refused (each laptop's rejections view shows its
 * own user's), and whether the teacher's view of every student's work holds exactly the drafts,
 * grades and comments that were acknowledged (plus at most the uncertain ones).
 */
export async function checkClass(classroom: Classroom, writers: ClassroomWriters, deadline: number) {
  const { test } = classroom;
  const nodes = live(test.cluster);
  await until('every outbox empty', deadline, async () => (await Promise.all(nodes.map((node) => statusOf(node, test.classId)))).every((s) => s.outbox === 0), 250);
  const appliedIndex = await settled(test, deadline);
  const statuses = await Promise.all(nodes.map(async (node) => ({ node: node.name, ...(await statusOf(node, test.classId)) })));
  const digestsMatch = statuses.every((s) => s.applied === statuses[0]!.applied && s.digest === statuses[0]!.digest);

  const rejectionViews = await Promise.all(
    nodes.map(async (node) => ({ node: node.name, rejections: (await node.api.methods.classroom({ classId: test.classId })).rejections })),
  );
  const inRejectionsView = rejectionViews.flatMap(({ node, rejections }) => rejections.map((r) => ({ node, type: r.type, code: r.code, reason: r.reason })));

  const mismatches: string[] = [];
  let slotsChecked = 0;
  for (const assignmentId of classroom.assignmentIds) {
    for (const student of classroom.students) {
      const { userId, displayName } = classroom.users.get(student)!;
      const chains = writers.chainsOf(assignmentId, userId);
      if (chains.length === 0) continue;
      slotsChecked++;
      const seen = await answerFrom(classroom.teacher, 'submission', classroom.teacher.api.methods.submission({ classId: test.classId, assignmentId, studentId: userId }));
      const expected = {
        drafts: chains.reduce((n, c) => n + c.drafts, 0),
        grades: chains.reduce((n, c) => n + c.grades, 0),
        comments: chains.reduce((n, c) => n + c.comments, 0),
      };
      const uncertain = chains.reduce((n, c) => n + c.uncertain, 0);
      const actual = { drafts: seen.version, grades: seen.grade?.version ?? 0, comments: seen.comments.length };
      for (const what of ['drafts', 'grades', 'comments'] as const) {
        if (actual[what] < expected[what] || actual[what] > expected[what] + uncertain) {
          mismatches.push(`${displayName}, ${assignmentId}: ${actual[what]} ${what} in the class, ${expected[what]} acknowledged (${uncertain} uncertain)`);
        }
      }
    }
  }
  return {
    appliedIndex,
    digestsMatch,
    replicas: statuses.map((s) => ({ node: s.node, role: s.role, applied: s.applied, digest: s.digest })),
    acknowledged: writers.acknowledged(),
    refusals: { toldToWriters: writers.refusals.length, inRejectionsView: inRejectionsView.length, examples: inRejectionsView.slice(0, 5) },
    workChecked: { slots: slotsChecked, mismatches: mismatches.length, examples: mismatches.slice(0, 10) },
  };
}
