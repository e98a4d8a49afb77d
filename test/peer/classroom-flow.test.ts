// The classroom over real peers on loopback: a teacher's laptop and two students', each with its
// own user key. Commands are signed on the author's laptop, forwarded to the leader, and
// checked by every laptop's copy of the rules; each user reads only what they may see.
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { applied, classroomOf, classStatus, eventually, Laptops } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

async function classroomOfThree() {
  const { teacher, students, classId } = await classroomOf(laptops, 'Ms Rivera', ['Ana', 'Ben']);
  const [ana, ben] = students as [ClassroomPeer, ClassroomPeer];
  return { teacher, ana, ben, classId };
}

const lab = {
  type: 'createAssignment',
  assignmentId: 'lab-pendulum',
  title: 'Pendulum lab',
  instructions: 'Time ten swings.',
  pointsPossible: 20,
  dueAt: Date.now() + 86_400_000,
  cutOffAt: null,
  materials: [],
  published: true,
} satisfies ClassroomCommand;

describe('a classroom on three laptops', () => {
  it('carries an assignment from the teacher to a student and a returned grade back, each seeing only their own', async () => {
    const { teacher, ana, ben, classId } = await classroomOfThree();
    const overview = await teacher.methods.classroom({ classId });
    expect(overview).toMatchObject({ name: 'Physics 3', me: { role: 'teacher' }, joinCode: expect.stringMatching(/^[A-Z0-9-]+$/) });
    expect((await ana.methods.classroom({ classId })).joinCode).toBeNull();
    expect(overview.members.map((m) => m.displayName).sort()).toEqual(['Ana', 'Ben', 'Ms Rivera']);

    await applied(teacher, classId, lab);
    const anaId = (await ana.methods.classroom({ classId })).me.userId;
    // Read-your-writes on the author's laptop; the others see it once they applied it.
    await eventually('the assignment on Ana’s laptop', async () => (await ana.methods.classroom({ classId })).assignments.length === 1);
    await applied(ana, classId, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: 'T = 1.42 s', files: [] });
    await applied(ana, classId, { type: 'turnIn', assignmentId: 'lab-pendulum' });

    const seen = await eventually('the turn-in on the teacher’s laptop', async () => {
      const s = await teacher.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId });
      return s.turnedIn && s;
    });
    expect(seen).toMatchObject({ status: 'turnedIn', text: 'T = 1.42 s', attempts: 1 });
    await applied(teacher, classId, { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 0, score: 18, feedback: 'Neat work' });
    // A draft grade is the teacher's until returned.
    await eventually('the draft on Ana’s laptop', async () => (await classStatus(ana, classId)).applied >= (await classStatus(teacher, classId)).applied);
    expect((await ana.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).grade).toBeNull();
    await applied(teacher, classId, { type: 'returnGrade', assignmentId: 'lab-pendulum', studentId: anaId });
    const returned = await eventually('the returned grade on Ana’s laptop', async () => {
      const s = await ana.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId });
      return s.status === 'returned' && s;
    });
    expect(returned.grade).toMatchObject({ score: 18, feedback: 'Neat work' });

    // Ben can't read Ana's work, sees only his own gradebook row, and can't grade.
    await expect(ben.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    const bensBook = await ben.methods.gradebook({ classId });
    expect(bensBook.rows).toHaveLength(1);
    expect(bensBook.rows[0]!.student.displayName).toBe('Ben');
    const attempt = await ben.methods.submitCommand({
      classId,
      command: { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 2, score: 0, feedback: 'ha' },
    });
    expect(attempt).toMatchObject({ status: 'applied', result: { status: 'rejected', code: 'NOT_ALLOWED' } });
    expect((await ben.methods.classroom({ classId })).rejections).toEqual([
      expect.objectContaining({ type: 'grade', code: 'NOT_ALLOWED', assignmentId: 'lab-pendulum' }),
    ]);
    await expect(ben.methods.exportGradebook({ classId })).rejects.toMatchObject({ code: 'NOT_ALLOWED' });

    // The audit trail: the teacher reads who did what; Ben only his own actions.
    const trail = await eventually('the refusal in the teacher’s trail', async () => {
      const entries = await teacher.methods.activity({ classId });
      return entries.some((e) => e.outcome === 'rejected') && entries;
    });
    expect(trail.map((e) => e.summary)).toEqual(expect.arrayContaining(['Ana turned in “Pendulum lab”', 'Ms Rivera returned Ana’s grade on “Pendulum lab”']));
    expect(trail.find((e) => e.outcome === 'rejected')).toMatchObject({ authorName: 'Ben', type: 'grade', reason: expect.stringMatching(/teacher/) });
    expect(trail.every((e, i) => i === 0 || e.index < trail[i - 1]!.index)).toBe(true);
    const bensTrail = await ben.methods.activity({ classId });
    expect(bensTrail.length).toBeGreaterThan(0);
    expect(bensTrail.every((e) => e.authorName === 'Ben')).toBe(true);
    expect((await teacher.methods.exportGradebook({ classId })).csv).toMatch(/Ana,18/);

    await eventually('the same copy on every laptop', async () => {
      const statuses = await Promise.all([teacher, ana, ben].map((p) => classStatus(p, classId)));
      return statuses.every((s) => s.digest === statuses[0]!.digest);
    });
  }, 90_000);

  it('takes a removed student’s laptop out of the class and keeps it out', async () => {
    const { teacher, ben, classId } = await classroomOfThree();
    const benId = (await ben.methods.classroom({ classId })).me.userId;
    await applied(teacher, classId, { type: 'removeMember', userId: benId });
    await eventually('Ben’s laptop out of the Raft group', async () => {
      const status = await classStatus(teacher, classId);
      return !status.voters.includes(ben.laptopId) && !status.learners.includes(ben.laptopId);
    }, 30_000);
    expect((await teacher.methods.classroom({ classId })).members.map((m) => m.displayName).sort()).toEqual(['Ana', 'Ms Rivera']);
  }, 90_000);

  it('carries a student’s file to the leader before the work that refers to it, and to the teacher who opens it', async () => {
    const { teacher, ana, ben, classId } = await classroomOfThree();
    await applied(teacher, classId, lab);
    await eventually('the assignment on Ana’s laptop', async () => (await ana.methods.classroom({ classId })).assignments.length === 1);
    const content = Buffer.from(Array.from({ length: 700_000 }, (_, i) => i % 251));
    const { uploadId } = await ana.methods.startUpload({ name: 'measurements.csv', type: 'text/csv', size: content.byteLength });
    for (let offset = 0; offset < content.byteLength; offset += 300_000) {
      await ana.methods.uploadChunk({ uploadId, offset, data: content.subarray(offset, offset + 300_000).toString('base64') });
    }
    const upload = await ana.methods.finishUpload({ uploadId });
    await applied(ana, classId, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: 'See the file.', files: [upload] });
    const anaId = (await ana.methods.classroom({ classId })).me.userId;
    // The class refers to the file's sealed copy; Ana sees it under its own name, type and size.
    const [file] = (await ana.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).files;
    expect(file).toMatchObject({ name: 'measurements.csv', type: 'text/csv', size: content.byteLength });
    expect(file!.sha256).not.toBe(upload.sha256);

    // Ana's laptop leaves; the leader took the file before the draft was proposed, so the
    // teacher can still open it (from the leader, or their own copy when they lead).
    await ana.close();
    const read = async (peer: ClassroomPeer) => {
      const parts: Buffer[] = [];
      for (let offset = 0; offset < file!.size; offset += 512 * 1024) {
        const part = await peer.methods.readFile({ classId, sha256: file!.sha256, offset, length: 512 * 1024 });
        parts.push(Buffer.from(part.data, 'base64'));
      }
      return Buffer.concat(parts);
    };
    expect((await read(teacher)).equals(content)).toBe(true);
    // Ben may not open a classmate's file.
    await expect(ben.methods.readFile({ classId, sha256: file!.sha256, offset: 0, length: 10 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await teacher.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).files).toEqual([file]);
  }, 90_000);
});
