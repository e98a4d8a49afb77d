// A student's lost laptop, over real headless nodes on loopback (separate processes, real
// WebSockets, SQLite files and Raft): Ana writes a lab with a file attached, gets a grade and
// feedback back and a comment; her laptop is lost (its process killed, its data folder deleted);
// she joins again from a fresh folder and the teacher re-admits her. Her new laptop then shows
// her as the Ana she was and opens her text, grade, feedback, comments and file, though nothing
// of them was sealed for its key when they were written. Whoever found the old laptop, holding
// its keys and the join code, joins from another laptop: every command the old key signs is
// refused by every replica, and the lost laptop itself is out of the class.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { eventually, HeadlessCluster, type NodeHandle } from '../integration/headless-cluster';

const TEXT = 'Ana-lynx-2291: ten swings took 14.2 s';
const FEEDBACK = 'Rivera-kestrel-8830: good, now the units';
const TEACHER_COMMENT = 'Rivera-marten-4471: try five trials';
const ANA_COMMENT = 'Ana-newt-6620: will do';
const FILE = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 131 + (i >> 7)) % 256));

let cluster: HeadlessCluster;
let teacher: NodeHandle;
let ana: NodeHandle;
let ben: NodeHandle;
let classId: string;
let joinCode: string;

async function applied(node: NodeHandle, command: ClassroomCommand): Promise<void> {
  const outcome = await node.api.methods.submitCommand({ classId, command, waitMs: 15_000 });
  if (outcome.status !== 'applied' || outcome.result.status !== 'applied') throw new Error(`${node.name}: not applied: ${JSON.stringify(outcome)}`);
}

async function joined(node: NodeHandle, name: string): Promise<string> {
  await node.api.methods.addPeerAddress({ address: `${teacher.laptopId}@127.0.0.1:${teacher.transportPort}` });
  await node.api.methods.joinClass({ joinCode, displayName: name });
  return eventually(`${name} registered`, async () => {
    const { me } = await node.api.methods.classroom({ classId });
    return me.role === 'student' && me.userId;
  }, 40_000);
}

async function readWhole(node: NodeHandle, sha256: string, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < size; offset += 100_000) parts.push(Buffer.from((await node.api.methods.readFile({ classId, sha256, offset, length: 100_000 })).data, 'base64'));
  return Buffer.concat(parts);
}

beforeAll(async () => {
  cluster = new HeadlessCluster();
  [teacher, ana, ben] = await Promise.all([cluster.add('teacher'), cluster.add('ana'), cluster.add('ben')]);
  ({ classId, joinCode } = await teacher.api.methods.createClass({ name: 'Physics 3', displayName: 'Ms Rivera' }));
  await cluster.connectAll();
  await Promise.all([joined(ana, 'Ana'), joined(ben, 'Ben')]);
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('a student who lost their laptop, re-admitted by the teacher', () => {
  it('opens their own history on the new laptop, and nothing the lost key signs is accepted', async () => {
    const anaId = (await ana.api.methods.classroom({ classId })).me.userId;
    await applied(teacher, {
      type: 'createAssignment',
      assignmentId: 'lab-pendulum',
      title: 'Pendulum lab',
      instructions: 'Time ten swings.',
      pointsPossible: 20,
      dueAt: null,
      cutOffAt: null,
      materials: [],
      published: true,
    });
    await eventually('the lab on Ana’s laptop', async () => (await ana.api.methods.classroom({ classId })).assignments.length === 1);
    const { uploadId } = await ana.api.methods.startUpload({ name: 'timings.csv', type: 'text/csv', size: FILE.byteLength });
    await ana.api.methods.uploadChunk({ uploadId, offset: 0, data: FILE.toString('base64') });
    const file = await ana.api.methods.finishUpload({ uploadId });
    await applied(ana, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: TEXT, files: [file] });
    await applied(ana, { type: 'turnIn', assignmentId: 'lab-pendulum' });
    await applied(teacher, { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 0, score: 17.5, feedback: FEEDBACK });
    await applied(teacher, { type: 'returnGrade', assignmentId: 'lab-pendulum', studentId: anaId });
    await applied(teacher, { type: 'comment', commentId: 'comment-teacher-1', assignmentId: 'lab-pendulum', studentId: anaId, text: TEACHER_COMMENT });
    await applied(ana, { type: 'comment', commentId: 'comment-ana-0001', assignmentId: 'lab-pendulum', studentId: anaId, text: ANA_COMMENT });
    // Three voters, so the class carries on without Ana's laptop; her sealed file held by the teacher's.
    await eventually('three voters', async () => (await teacher.api.methods.status({})).classes[0]!.voters.length === 3, 40_000);
    const sealedSha = (await ana.api.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).files[0]!.sha256;
    expect((await readWhole(teacher, sealedSha, FILE.byteLength)).equals(FILE)).toBe(true);

    // The laptop is lost: whoever finds it has its keys (copied here before the folder goes).
    const finderKeys = join(cluster.nodes[0]!.dataDir, '..', 'finder-keys');
    mkdirSync(finderKeys, { recursive: true });
    for (const name of ['user-key.pem', 'user-box-key.der']) copyFileSync(join(ana.dataDir, name), join(finderKeys, name));
    const lostLaptop = ana.laptopId;
    await cluster.kill(ana);
    rmSync(ana.dataDir, { recursive: true, force: true });

    // Ana joins again from a fresh folder: a new member with new keys, who opens nothing of hers.
    const newAna = await cluster.add('ana-new-laptop');
    const newcomerId = await joined(newAna, 'Ana');
    expect(newcomerId).not.toBe(anaId);
    const beforeReadmission = await teacher.api.methods.classroom({ classId });
    expect(beforeReadmission.members.filter((m) => m.displayName === 'Ana').map((m) => m.userId).sort()).toEqual([anaId, newcomerId].sort());

    await applied(teacher, { type: 'readmitStudent', studentId: anaId, newMemberId: newcomerId });

    // The new laptop is Ana now, without a restart, and opens her history once the teacher's laptop has wrapped it again.
    const me = await eventually('the new laptop shown as Ana', async () => {
      const overview = await newAna.api.methods.classroom({ classId });
      return overview.me.userId === anaId && overview.me;
    });
    expect(me).toMatchObject({ displayName: 'Ana', role: 'student' });
    const work = await eventually(
      'Ana’s history opened on the new laptop',
      async () => {
        const view = await newAna.api.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId });
        return view.text === TEXT && view.comments.every((c) => !c.text.startsWith('[')) && view;
      },
      30_000,
    );
    expect(work.grade).toMatchObject({ score: 17.5, feedback: FEEDBACK });
    expect(work.comments.map((c) => [c.authorName, c.text])).toEqual([
      ['Ms Rivera', TEACHER_COMMENT],
      ['Ana', ANA_COMMENT],
    ]);
    expect(work.files).toEqual([expect.objectContaining({ name: 'timings.csv', size: FILE.byteLength })]);
    expect((await readWhole(newAna, work.files[0]!.sha256, FILE.byteLength)).equals(FILE)).toBe(true);
    // One Ana in the class, on the new laptop; the lost one is out of the class's Raft group.
    const people = await teacher.api.methods.classroom({ classId });
    expect(people.members.filter((m) => m.displayName === 'Ana')).toEqual([expect.objectContaining({ userId: anaId, laptops: [newAna.laptopId] })]);
    await eventually('the lost laptop out of the class', async () => {
      const [status] = (await teacher.api.methods.status({})).classes;
      return status && !status.voters.includes(lostLaptop) && !status.learners.includes(lostLaptop);
    }, 30_000);
    // The class moved onto a new secret, which her new laptop opens as Ana (the lost one knew the old).
    const laterSecrets = (node: { dataDir: string }) =>
      (JSON.parse(readFileSync(join(node.dataDir, 'classes.json'), 'utf8')) as { later?: unknown[] }[])[0]?.later;
    await eventually('the new secret on Ana’s new laptop', async () => laterSecrets(newAna)?.length === 1);
    expect(laterSecrets(newAna)).toEqual(laterSecrets(teacher));
    // Her new laptop writes as Ana.
    await applied(newAna, { type: 'comment', commentId: 'comment-ana-0002', assignmentId: 'lab-pendulum', studentId: anaId, text: 'Same Ana, new laptop' });

    // The finder: the lost keys on another laptop. The join code the lost laptop knew was replaced
    // with the re-admission; with the new one (read off the projector, say) they get in, and the
    // class refuses all the old key signs.
    const finder = await cluster.add('finder');
    await cluster.kill(finder);
    for (const name of ['user-key.pem', 'user-box-key.der']) copyFileSync(join(finderKeys, name), join(finder.dataDir, name));
    await cluster.start(finder);
    await finder.api.methods.addPeerAddress({ address: `${teacher.laptopId}@127.0.0.1:${teacher.transportPort}` });
    const newCode = (await teacher.api.methods.classroom({ classId })).joinCode!;
    expect(newCode).not.toBe(joinCode);
    await expect(finder.api.methods.joinClass({ joinCode, displayName: 'Ana', waitMs: 1500 })).rejects.toThrow(/No laptop of a class with this join code answered/);
    await finder.api.methods.joinClass({ joinCode: newCode, displayName: 'Ana' });
    await eventually('the finder’s laptop admitted and caught up', async () => {
      const [status] = (await finder.api.methods.status({})).classes;
      return status && status.learners.includes(finder.laptopId) && (await finder.api.methods.classroom({ classId })).name === 'Physics 3';
    }, 40_000);
    const refusedJoin = await eventually('the finder’s joinClass refused', async () =>
      (await newAna.api.methods.classroom({ classId })).rejections.find((r) => r.type === 'joinClass'),
    );
    expect(refusedJoin.reason).toMatch(/key of a laptop its owner lost/);
    const unsubmit = await finder.api.methods.submitCommand({ classId, command: { type: 'unsubmit', assignmentId: 'lab-pendulum' }, waitMs: 15_000 });
    expect(unsubmit).toMatchObject({ status: 'applied', result: { status: 'rejected', code: 'NOT_A_MEMBER', reason: expect.stringMatching(/key of a laptop its owner lost/) } });
    expect((await finder.api.methods.classroom({ classId })).me.role).toBeNull();
    await expect(finder.api.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).rejects.toThrow(/key was replaced/);

    // The teacher's log says who did what: the new laptop's comment is Ana's, the finder's tries refused.
    const log = await teacher.api.methods.activity({ classId });
    expect(log).toContainEqual(expect.objectContaining({ type: 'readmitStudent', summary: 'Ms Rivera re-admitted Ana on a new laptop', outcome: 'applied' }));
    expect(log).toContainEqual(expect.objectContaining({ type: 'comment', authorId: anaId, authorName: 'Ana', outcome: 'applied' }));
    expect(log.filter((entry) => entry.outcome === 'rejected' && /key of a laptop its owner lost/.test(entry.reason ?? '')).map((entry) => entry.type).sort()).toEqual([
      'joinClass',
      'unsubmit',
    ]);

    // Every replica applied the same log to the same state; Ana's work stands as it was.
    const end = (await teacher.api.methods.status({})).classes[0]!.applied;
    const digests = await Promise.all(
      [teacher, ben, newAna, finder].map((node) =>
        eventually(`${node.name} caught up`, async () => {
          const [status] = (await node.api.methods.status({})).classes;
          return status && status.applied >= end && status.digest;
        }),
      ),
    );
    expect(new Set(digests).size).toBe(1);
    const after = await teacher.api.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId });
    expect(after).toMatchObject({ text: TEXT, turnedIn: true, grade: { score: 17.5 } });
    expect(after.comments.map((c) => c.text)).toEqual([TEACHER_COMMENT, ANA_COMMENT, 'Same Ana, new laptop']);
  }, 240_000);
});
