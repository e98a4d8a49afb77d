// A class whose voting laptops went home can't save anything; the teacher recovers it from the
// laptops still in the room, on purpose and after a warning, and the laptops that were away
// take the recovered copy when they come back. Real peers on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import { classStatus, connectAll, eventually, Laptops } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

/** A teacher and four students: three voters (the teacher's laptop among them) and two learners. */
async function classOfFive() {
  const teacher = await laptops.start('teacher');
  const { classId, joinCode } = await teacher.methods.createClass({ name: 'Chemistry' });
  const students = [];
  for (const name of ['ana', 'ben', 'cleo', 'dev']) students.push(await laptops.start(name));
  const all = [teacher, ...students];
  await connectAll(all);
  for (const student of students) await student.methods.joinClass({ joinCode });
  const status = await eventually('three voters and two learners', async () => {
    const s = await classStatus(teacher, classId);
    return s.role === 'leader' && s.voters.length === 3 && s.learners.length === 2 && s;
  }, 30_000);
  return { teacher, students, all, classId, voters: status.voters };
}

describe('recovering a class whose voting laptops went home', () => {
  it('is refused while it is not needed, and never done without the teacher confirming', async () => {
    const { teacher, students, classId } = await classOfFive();
    const plan = await teacher.methods.recoveryPlan({ classId });
    expect(plan).toMatchObject({ possible: false, reason: expect.stringMatching(/has a leader/) });
    await expect(teacher.methods.recoverClass({ classId, confirm: false })).rejects.toMatchObject({ code: 'NOT_CONFIRMED' });
    await expect(teacher.methods.recoverClass({ classId, confirm: true })).rejects.toMatchObject({ code: 'RECOVERY_NOT_POSSIBLE' });
    expect((await students[0]!.methods.recoveryPlan({ classId })).possible).toBe(false);
  }, 60_000);

  it('rebuilds the class from the laptops in the room, delivers the waiting writes, and takes the others back', async () => {
    const { teacher, students, all, classId, voters } = await classOfFive();
    for (let i = 0; i < 10; i++) await teacher.methods.write({ classId, command: { op: 'put', key: `before-${i}`, value: 'saved' } });

    // The two students who vote take their laptops home.
    const away = students.filter((s) => voters.includes(s.laptopId));
    const here = students.filter((s) => !voters.includes(s.laptopId));
    expect(away).toHaveLength(2);
    const awayDirs = away.map((s) => laptops.dirs[all.indexOf(s)]!);
    for (const laptop of away) await laptop.close();
    await eventually('the class without a leader', async () => (await classStatus(teacher, classId)).leader === null);
    const waiting = await teacher.methods.write({ classId, command: { op: 'put', key: 'during', value: 'kept' }, waitMs: 200 });
    expect(waiting.status).toBe('pending');

    // A student can't recover the class; the teacher sees what it would cost.
    const studentPlan = await here[0]!.methods.recoveryPlan({ classId });
    expect(studentPlan).toMatchObject({ possible: false, reason: expect.stringMatching(/teacher/) });
    // Learners remember the old leader for a moment; the plan says so until they stop.
    const plan = await eventually('recovery possible', async () => {
      const p = await teacher.methods.recoveryPlan({ classId });
      return p.possible && p;
    });
    expect(plan.unreachableVoters.sort()).toEqual(away.map((s) => s.laptopId).sort());
    expect(plan.reachable.sort()).toEqual([teacher, ...here].map((s) => s.laptopId).sort());
    expect(plan.warning).toMatch(/will be lost/);

    const recovered = await teacher.methods.recoverClass({ classId, confirm: true });
    expect(recovered.leader).toBe(plan.source!.laptopId);

    // The class works again: the waiting write is delivered, voters are chosen from who is here.
    const room = [teacher, ...here];
    await eventually('the waiting write delivered', async () => (await classStatus(teacher, classId)).outbox === 0);
    const after = await eventually('three voters among the laptops in the room', async () => {
      const s = await classStatus(teacher, classId);
      return s.leader !== null && s.voters.length === 3 && s.voters.every((id) => room.some((p) => p.laptopId === id)) && s;
    }, 30_000);
    await expect(teacher.methods.read({ classId, key: 'before-9', linearizable: true })).resolves.toMatchObject({ value: 'saved' });
    await expect(teacher.methods.read({ classId, key: 'during', linearizable: true })).resolves.toMatchObject({ value: 'kept' });
    await sameCopy(room, classId);

    // The laptops that went home come back and take the recovered copy; the leader stays.
    const back: ClassroomPeer[] = [];
    for (const [i, laptop] of away.entries()) back.push(await laptops.start(`back-${i}`, awayDirs[i]));
    await connectAll([...room, ...back]);
    await sameCopy([...room, ...back], classId);
    const final = await classStatus(teacher, classId);
    expect(final.leader).toBe(after.leader);
    expect(final.voters).toHaveLength(3);
  }, 120_000);

  it('rebuilds from a student laptop when it holds more than the teacher’s, at the teacher’s request', async () => {
    const { teacher, students, all, classId, voters } = await classOfFive();
    const teacherDir = laptops.dirs[all.indexOf(teacher)]!;
    const away = students.filter((s) => voters.includes(s.laptopId));
    const here = students.filter((s) => !voters.includes(s.laptopId));
    // The teacher's laptop sleeps while the class carries on without it...
    await teacher.close();
    for (let i = 0; i < 5; i++) await here[0]!.methods.write({ classId, command: { op: 'put', key: `while-asleep-${i}`, value: 'saved' } });
    await sameCopy([...away, ...here], classId);
    // ...then the students who vote leave, and the teacher's laptop wakes up behind the others.
    for (const laptop of away) await laptop.close();
    const awake = await laptops.start('teacher-again', teacherDir);
    await connectAll([awake, ...here]);
    const plan = await eventually('recovery possible with the students in reach', async () => {
      const p = await awake.methods.recoveryPlan({ classId });
      return p.possible && p.reachable.length === 3 && p;
    });
    expect(here.map((s) => s.laptopId)).toContain(plan.source!.laptopId);

    const recovered = await awake.methods.recoverClass({ classId, confirm: true });
    expect(recovered.leader).toBe(plan.source!.laptopId);
    await sameCopy([awake, ...here], classId);
    await expect(awake.methods.read({ classId, key: 'while-asleep-4', linearizable: true })).resolves.toMatchObject({ value: 'saved' });
  }, 120_000);
});

async function sameCopy(peers: ClassroomPeer[], classId: string): Promise<void> {
  await eventually(
    'every laptop with the same copy',
    async () => {
      const statuses = await Promise.all(peers.map((peer) => classStatus(peer, classId)));
      return statuses.every((s) => s.digest === statuses[0]!.digest && s.applied === statuses[0]!.applied);
    },
    30_000,
  );
}
