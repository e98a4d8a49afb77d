// Updating Quorum laptop by laptop, over real peers on loopback. Each laptop stands in for a build
// of Quorum by the class rules it knows (`knownRules`). A class moves onto newer rules only once
// every laptop in it knows them; a laptop that falls behind them anyway (an older Quorum put back
// on it) stops following the class where it would start to differ, says so, keeps what its user
// writes meanwhile, and carries on with nothing lost once updated.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassRuntime } from '../../electron/peer/class-runtime';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import type { ClassStatus } from '../../shared/api';
import { applied, classStatus, connectAll, eventually, Laptops, publishedAssignment } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

interface Laptop {
  name: string;
  dir: string;
  peer: ClassroomPeer;
}

/** The laptops of this test, whichever Quorum each runs now. */
const everyLaptop: Laptop[] = [];
afterEach(() => void everyLaptop.splice(0));

async function laptop(name: string, knownRules: number): Promise<Laptop> {
  const dir = mkdtempSync(join(tmpdir(), `quorum-peer-${name}-`));
  const at = { name, dir, peer: await laptops.start(name, dir, { knownRules }) };
  everyLaptop.push(at);
  return at;
}

/** The same laptop, its Quorum replaced by one that knows `knownRules` (on a new port, which the others are told). */
async function restartWith(at: Laptop, knownRules: number): Promise<void> {
  await at.peer.close();
  laptops.open.splice(laptops.open.indexOf(at.peer), 1);
  at.peer = await laptops.start(at.name, at.dir, { knownRules });
  await connectAll(everyLaptop.map((each) => each.peer));
}

/** `at`'s copy of the class, read through its own connection (the file is its Quorum's alone while it runs). */
function readClassFile<T>(at: Laptop, classId: string, read: (db: Database.Database) => T): T {
  const runtime = (at.peer as unknown as { classes: Map<string, ClassRuntime> }).classes.get(classId)!;
  return read(runtime.storage.database);
}

const rulesOf = (at: Laptop, classId: string) => readClassFile(at, classId, (db) => db.prepare('SELECT rules FROM class_info').pluck().get() as number);
const notedRules = (at: Laptop, classId: string) =>
  readClassFile(at, classId, (db) => db.prepare('SELECT rules FROM member_laptops ORDER BY laptop_id').pluck().all() as number[]);

async function classOf(teacherRules: number, anaRules: number, benRules: number) {
  const teacher = await laptop('Ms Rivera', teacherRules);
  const { classId, joinCode } = await teacher.peer.methods.createClass({ name: 'Physics 3' });
  const ana = await laptop('Ana', anaRules);
  const ben = await laptop('Ben', benRules);
  await connectAll([teacher.peer, ana.peer, ben.peer]);
  for (const student of [ana, ben]) {
    await student.peer.methods.joinClass({ joinCode });
    await eventually('the student registered', async () => (await student.peer.methods.classroom({ classId })).me.role === 'student', 30_000);
  }
  return { teacher, ana, ben, classId };
}

/** Every laptop applied the same entries and holds the same copy. */
async function allAgree(classId: string, all: Laptop[]): Promise<void> {
  await eventually(
    'every laptop holds the same copy of the class',
    async () => {
      const statuses = await Promise.all(all.map((at) => classStatus(at.peer, classId)));
      return statuses.every((s) => s.applied === statuses[0]!.applied && s.digest === statuses[0]!.digest && s.stopped === null);
    },
    30_000,
  );
}

const lab = publishedAssignment('lab-0001', 'Pendulums');

describe('moving a class onto newer rules', () => {
  it('waits for the last laptop to be updated, and then every laptop moves on together', async () => {
    // Made before any laptop was updated: a teacher alone in a new class would move it on at once.
    const { teacher, ana, ben, classId } = await classOf(1, 2, 1);
    await restartWith(teacher, 2);
    // The two updated laptops say so; Ben's older Quorum knows only rules 1.
    await eventually('the updated laptops noted their rules', async () => notedRules(teacher, classId).filter((rules) => rules === 2).length === 2);
    await applied(teacher.peer, classId, lab);
    await allAgree(classId, [teacher, ana, ben]);
    expect(rulesOf(teacher, classId)).toBe(1);
    expect(rulesOf(ben, classId)).toBe(1);

    await restartWith(ben, 2);
    await eventually('the class moved onto rules 2', async () => [teacher, ana, ben].every((at) => rulesOf(at, classId) === 2), 30_000);
    await applied(ana.peer, classId, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Period: 1.4 s', files: [] });
    await allAgree(classId, [teacher, ana, ben]);
    expect(notedRules(ben, classId)).toEqual([2, 2, 2]);
  }, 90_000);

  it('stops a laptop put back on an older Quorum where it would differ, keeps its writes, and carries on once updated', async () => {
    const { teacher, ana, ben, classId } = await classOf(2, 2, 2);
    await eventually('the class moved onto rules 2', async () => [teacher, ana, ben].every((at) => rulesOf(at, classId) === 2), 30_000);
    await applied(teacher.peer, classId, lab);
    await allAgree(classId, [teacher, ana, ben]);

    // Ben's laptop gets last term's Quorum back.
    await restartWith(ben, 1);
    const pushed: ClassStatus[] = [];
    ben.peer.on('status', (status) => pushed.push(status));
    await applied(teacher.peer, classId, { ...lab, type: 'editAssignment', baseVersion: 1, title: 'Pendulums, part 1' });
    const stopped = await eventually('Ben’s laptop says it stopped', async () => (await classStatus(ben.peer, classId)).stopped);
    expect(stopped?.code).toBe('NEEDS_NEWER_QUORUM');
    expect(stopped?.message).toMatch(/older than the one the class now uses.*Update Quorum/);
    // Told to whoever watches, as it happened.
    await eventually('a pushed status says it stopped', async () => pushed.some((status) => status.stopped?.code === 'NEEDS_NEWER_QUORUM'));
    const benStatus = await classStatus(ben.peer, classId);
    expect(benStatus.leader).toBeNull();
    expect(readClassFile(ben, classId, (db) => db.prepare('SELECT title FROM assignments').pluck().get())).toBe('Pendulums');

    // Ben writes meanwhile: kept on his laptop, waiting, not sent to be applied by rules his Quorum does not know.
    const draft = await ben.peer.methods.submitCommand({
      classId,
      command: { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Ben: about 1.5 s', files: [] },
      waitMs: 500,
    });
    expect(draft.status).toBe('pending');
    expect((await classStatus(ben.peer, classId)).outbox).toBe(1);

    // The others carry on without him.
    await applied(ana.peer, classId, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Ana: 1.42 s', files: [] });
    await allAgree(classId, [teacher, ana]);

    // Updated again, Ben's laptop carries on where it stopped, and his draft reaches the class.
    await restartWith(ben, 2);
    await allAgree(classId, [teacher, ana, ben]);
    await eventually('Ben’s draft was delivered', async () => (await classStatus(ben.peer, classId)).outbox === 0, 30_000);
    const benId = (await ben.peer.methods.classroom({ classId })).me.userId;
    const seen = await teacher.peer.methods.submission({ classId, assignmentId: 'lab-0001', studentId: benId });
    expect(seen.text).toBe('Ben: about 1.5 s');
    await allAgree(classId, [teacher, ana, ben]);
  }, 120_000);
});
