// Three laptops in one process on loopback: real WebSockets, real SQLite files, real Raft
// groups. A class is created on one, joined from the others, and written from all three.
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import { classStatus, connectAll, eventually, Laptops } from './support';

const laptops = new Laptops();
const dirs = laptops.dirs;
afterEach(() => laptops.cleanUp());
const openPeer = (name: string, dataDir?: string) => laptops.start(name, dataDir);

async function classOfThree() {
  const teacher = await openPeer('teacher');
  const { classId, joinCode } = await teacher.methods.createClass({ name: 'Physics, period 3' });
  const students = [await openPeer('student-a'), await openPeer('student-b')];
  const all = [teacher, ...students];
  await connectAll(all);
  for (const student of students) await student.methods.joinClass({ joinCode });
  await eventually('three voters', async () => {
    const status = await classStatus(teacher, classId);
    return status.voters.length === 3 && status.role === 'leader';
  });
  // Each student's registration as a student (sent once its laptop is in the class) was applied.
  for (const student of students) {
    await eventually('the student registered', async () => (await student.methods.classroom({ classId })).me.role === 'student');
  }
  return { teacher, students, all, classId, joinCode };
}

describe('a class on three laptops', () => {
  it('is created on the teacher’s laptop, joined by two students and promoted to three voters', async () => {
    const { all, classId } = await classOfThree();
    for (const peer of all) {
      const status = await eventually('the class name replicated', async () => {
        const s = await classStatus(peer, classId);
        return s.name === 'Physics, period 3' && s.voters.length === 3 && s;
      });
      expect(status.voters).toHaveLength(3);
    }
  }, 30_000);

  it('applies writes from every laptop exactly once and ends with identical digests', async () => {
    const { all, classId } = await classOfThree();
    const results = await Promise.all(
      all.flatMap((peer, p) =>
        Array.from({ length: 20 }, (_, i) => peer.methods.write({ classId, command: { op: 'put', key: `k${p}-${i}`, value: `v${i}` } })),
      ),
    );
    expect(results.every((r) => r.status === 'applied')).toBe(true);
    // Read-your-writes: the writer sees its own write at once.
    const own = await all[1]!.methods.read({ classId, key: 'k1-19' });
    expect(own.value).toBe('v19');
    const statuses = await eventually('equal digests', async () => {
      const s = await Promise.all(all.map((peer) => classStatus(peer, classId)));
      return s.every((x) => x.digest === s[0]!.digest && x.applied === s[0]!.applied) && s;
    });
    expect(statuses[0]!.outbox).toBe(0);
  }, 30_000);

  it('keeps a write made with no leader in reach in the outbox and delivers it later', async () => {
    const { teacher, students, classId } = await classOfThree();
    const [a, b] = students as [ClassroomPeer, ClassroomPeer];
    // Two of three laptops gone: no quorum, so the write waits.
    await teacher.close();
    await b.close();
    const pending = await a.methods.write({ classId, command: { op: 'put', key: 'offline', value: 'kept' }, waitMs: 300 });
    expect(pending.status).toBe('pending');
    // Then three changes to one key, one after the other: they must apply in the order made.
    for (const value of ['first', 'second', 'third']) {
      expect((await a.methods.write({ classId, command: { op: 'put', key: 'edited', value }, waitMs: 100 })).status).toBe('pending');
    }
    expect((await classStatus(a, classId)).outbox).toBe(4);
    // They come back (same data directories): the write is delivered once.
    const dataDirs = dirs.slice();
    const teacherAgain = await openPeer('teacher', dataDirs[0]!);
    const bAgain = await openPeer('student-b', dataDirs[2]!);
    await connectAll([teacherAgain, a, bAgain]);
    await eventually('the outbox drained', async () => (await classStatus(a, classId)).outbox === 0);
    const read = await eventually('the write visible on the teacher', async () => {
      const r = await teacherAgain.methods.read({ classId, key: 'offline', linearizable: true }).catch(() => null);
      return r?.value === 'kept' && r;
    });
    expect(read.linearizable).toBe(true);
    expect((await teacherAgain.methods.read({ classId, key: 'edited', linearizable: true })).value).toBe('third');
  }, 40_000);

  it('finds the whole class from one address typed by hand (peer exchange)', async () => {
    const teacher = await openPeer('teacher');
    const { classId, joinCode } = await teacher.methods.createClass({ name: 'Art' });
    const teacherAddress = (await teacher.methods.status({})).address;
    const students = [await openPeer('student-a'), await openPeer('student-b')];
    for (const student of students) {
      await student.methods.addPeerAddress({ address: teacherAddress });
      await student.methods.joinClass({ joinCode });
    }
    // Each student learns the other's address from the teacher and connects to it.
    for (const [me, other] of [students, [...students].reverse()] as [ClassroomPeer, ClassroomPeer][]) {
      await eventually('students connected to each other', async () => {
        const status = await classStatus(me, classId);
        return status.peers.some((p) => p.laptopId === other.laptopId && p.connected);
      });
    }
  }, 30_000);

  it('refuses a wrong join code with a sentence', async () => {
    const student = await openPeer('student');
    await expect(student.methods.joinClass({ joinCode: 'not-a-code' })).rejects.toThrow(/join code is not right/);
  });
});
