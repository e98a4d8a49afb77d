// Removing a member moves the class onto a new secret and a new join code, on real peers over
// loopback: the laptops that stay prove the new secret; the removed member's laptop, or a new
// laptop made with its copy of the old secret, is no longer let in by any of them; a laptop that
// was away during the removal still gets in with the old secret, catches up and moves on; and a
// student who joins afterwards with the new code reaches everyone.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import type { ClassEntry } from '../../electron/peer/class-registry';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { applied, classStatus, classroomOf, connectAll, eventually, Laptops } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

function registryOf(dataDir: string): ClassEntry[] {
  return JSON.parse(readFileSync(join(dataDir, 'classes.json'), 'utf8')) as ClassEntry[];
}

/** Whether `peer` has a connection carrying the class to `other` now. */
async function connected(peer: ClassroomPeer, classId: string, other: ClassroomPeer): Promise<boolean> {
  return (await classStatus(peer, classId)).peers.some((each) => each.laptopId === other.laptopId && each.connected);
}

const assignment: ClassroomCommand = {
  type: 'createAssignment',
  assignmentId: 'optics-1',
  title: 'Lenses',
  instructions: '',
  pointsPossible: 10,
  dueAt: null,
  cutOffAt: null,
  materials: [],
  published: true,
};

describe('the class secret after a member is removed', () => {
  it('is replaced, and the removed member’s copy of the old one opens no laptop that knows the new one', async () => {
    const { teacher, students, classId, joinCode } = await classroomOf(laptops, 'Ms Rivera', ['Ana', 'Ben', 'Cai']);
    const [ana, ben, cai] = students as [ClassroomPeer, ClassroomPeer, ClassroomPeer];
    const [teacherDir, anaDir, benDir, caiDir] = laptops.dirs as [string, string, string, string];
    const caiId = (await cai.methods.classroom({ classId })).me.userId;
    const oldSecret = registryOf(caiDir)[0]!.secret;

    // Ben's laptop is shut while the teacher removes Cai.
    await ben.close();
    await applied(teacher, classId, { type: 'removeMember', userId: caiId });
    await eventually('Cai’s laptop out of the Raft group', async () => {
      const status = await classStatus(teacher, classId);
      return !status.voters.includes(cai.laptopId) && !status.learners.includes(cai.laptopId);
    }, 30_000);

    // The teacher's and Ana's laptops hold the same new secret; Cai's cannot open it.
    await eventually('Ana has the new secret', async () => registryOf(anaDir)[0]!.later?.length === 1);
    const [newSecret] = registryOf(teacherDir)[0]!.later!;
    expect(newSecret!.generation).toBe(1);
    expect(registryOf(anaDir)[0]!.later).toEqual([newSecret]);
    expect(newSecret!.secret).not.toBe(oldSecret);
    expect(registryOf(caiDir)[0]!.later).toBeUndefined();
    // And the join code Cai knew is gone too.
    const code = (await teacher.methods.classroom({ classId })).joinCode;
    expect(code).not.toBeNull();
    expect(code).not.toBe(joinCode);

    // Cai's laptop is cut off from both.
    await eventually('Cai cut off', async () => !(await connected(teacher, classId, cai)) && !(await connected(ana, classId, cai)), 20_000);

    // A new laptop key with Cai's copy of the old secret gets nowhere either.
    const copyDir = mkdtempSync(join(tmpdir(), 'quorum-peer-cai-copy-'));
    writeFileSync(join(copyDir, 'classes.json'), readFileSync(join(caiDir, 'classes.json')), { mode: 0o600 });
    const copy = await laptops.start('Cai again', copyDir);
    await connectAll([teacher, ana, copy]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await connected(teacher, classId, copy)).toBe(false);
    expect(await connected(ana, classId, copy)).toBe(false);
    expect((await classStatus(copy, classId)).peers.filter((each) => each.connected)).toEqual([]);

    // Meanwhile the class carries on.
    await applied(teacher, classId, assignment);

    // Ben's laptop comes back knowing only the old secret: the class's laptops know it as theirs,
    // so it gets in, catches up, and moves onto the new secret.
    const benAgain = await laptops.start('Ben', benDir);
    await connectAll([teacher, ana, benAgain]);
    await eventually('Ben caught up', async () => (await benAgain.methods.classroom({ classId })).assignments.length === 1, 30_000);
    await eventually('Ben has the new secret', async () => registryOf(benDir)[0]!.later?.[0]?.secret === newSecret!.secret, 20_000);
    await applied(benAgain, classId, { type: 'saveDraft', assignmentId: 'optics-1', baseVersion: 0, text: 'Back again.', files: [] });
    await eventually('Ben connected to Ana too', async () => connected(benAgain, classId, ana), 20_000);
  }, 120_000);

  it('is given to a student who joins afterwards, who reaches every laptop of the class', async () => {
    const { teacher, students, classId } = await classroomOf(laptops, 'Ms Rivera', ['Ana', 'Cai']);
    const [ana, cai] = students as [ClassroomPeer, ClassroomPeer];
    const caiId = (await cai.methods.classroom({ classId })).me.userId;
    await applied(teacher, classId, { type: 'removeMember', userId: caiId });
    const code = (await teacher.methods.classroom({ classId })).joinCode!;
    await eventually('Ana has the new secret', async () => registryOf(laptops.dirs[1]!)[0]!.later?.length === 1);

    const dee = await laptops.start('Dee');
    const deeDir = laptops.dirs.at(-1)!;
    await connectAll([teacher, ana, dee]);
    await dee.methods.joinClass({ joinCode: code });
    await eventually('Dee registered', async () => (await dee.methods.classroom({ classId })).me.role === 'student', 30_000);
    expect(registryOf(deeDir)[0]!.later).toEqual(registryOf(laptops.dirs[0]!)[0]!.later);
    await eventually('Dee connected to Ana', async () => (await connected(dee, classId, ana)) && (await connected(ana, classId, dee)), 20_000);
  }, 90_000);
});
