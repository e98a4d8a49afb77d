// "Approve each student" on real laptops over loopback: with approval on, a laptop that proves the
// join code is told to wait and gets nothing of the class (no secret, no log) until a teacher lets
// it in; the request every teacher's laptop sees names the laptop the transport authenticated and
// the name it asked as; a refused laptop is told so; the asker may give up; and the leader does not
// admit a laptop that holds the class's secret and a token from the code in use but was not let in.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassRuntime } from '../../electron/peer/class-runtime';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import { admissionToken } from '../../electron/peer/class-joining';
import { ServiceError } from '../../electron/peer/service';
import type { JoinProgress } from '../../shared/api';
import { canonicalJoinCode } from '../../shared/join-code';
import { applied, classStatus, classroomOf, connectAll, eventually, Laptops } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

/** A class of Ms Rivera and Ana whose teacher approves each student, and a newcomer's laptop connected to both. */
async function approvingClass(newcomerName: string) {
  const { teacher, students, classId, joinCode } = await classroomOf(laptops, 'Ms Rivera', ['Ana'], 'Chemistry');
  await applied(teacher, classId, { type: 'setJoinApproval', approve: true });
  const ana = students[0]!;
  await eventually('Ana’s laptop knows approval is on', async () => (await ana.methods.classroom({ classId })).approveJoins);
  const newcomer = await laptops.start(newcomerName);
  await connectAll([teacher, ana, newcomer]);
  return { teacher, ana, newcomer, classId, joinCode };
}

/** What `peer` says about its join, as the UI hears it. */
function joinEvents(peer: ClassroomPeer): JoinProgress[] {
  const seen: JoinProgress[] = [];
  peer.on('joining', (progress) => seen.push(progress));
  return seen;
}

async function refusal(joining: Promise<unknown>): Promise<ServiceError> {
  const error = await joining.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ServiceError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

async function waitingRequests(teacher: ClassroomPeer, classId: string) {
  return (await teacher.methods.classroom({ classId })).joinRequests;
}

describe('approving each student', () => {
  it('keeps a new laptop waiting, with nothing of the class, until a teacher lets it in', async () => {
    const { teacher, ana, newcomer: ben, classId, joinCode } = await approvingClass('Ben’s laptop');
    const events = joinEvents(ben);
    const joining = ben.methods.joinClass({ joinCode, displayName: 'Ben Okafor' });

    const [request] = await eventually('the teacher sees Ben asking', async () => {
      const waiting = await waitingRequests(teacher, classId);
      return waiting.length > 0 && waiting;
    }, 20_000);
    // The laptop the transport authenticated, and the name Ben typed.
    expect(request).toMatchObject({ laptopId: ben.laptopId, displayName: 'Ben Okafor' });
    await eventually('Ben told to wait', async () => events.some((e) => e.state === 'waiting'));
    expect(events.find((e) => e.state === 'waiting')).toEqual({ state: 'waiting', displayName: 'Ben Okafor', message: 'Waiting for your teacher to let you in.' });
    // Asking again and again at both doors, past the usual 20 s, is still one request, and Ben's laptop holds nothing of the class.
    await new Promise((resolve) => setTimeout(resolve, 21_000));
    expect(await waitingRequests(teacher, classId)).toHaveLength(1);
    expect((await ben.methods.status({})).classes).toEqual([]);
    // Students are not shown who asks.
    expect((await ana.methods.classroom({ classId })).joinRequests).toEqual([]);

    await applied(teacher, classId, { type: 'answerJoinRequest', laptopId: ben.laptopId, approve: true });
    expect((await joining).classId).toBe(classId);
    await eventually('Ben registered', async () => (await ben.methods.classroom({ classId })).me.role === 'student', 30_000);
    expect(await waitingRequests(teacher, classId)).toEqual([]);
    expect(events.at(-1)?.state).toBe('over');
    const log = await teacher.methods.activity({ classId });
    expect(log.filter((e) => e.type === 'requestToJoin' && e.outcome === 'applied').map((e) => e.summary)).toEqual([
      `Ben Okafor asked to join from laptop ${ben.laptopId.slice(0, 8)}`,
    ]);
  }, 120_000);

  it('tells a laptop the teacher refused, and lets the asker give up', async () => {
    const { teacher, newcomer: cho, classId, joinCode } = await approvingClass('Cho’s laptop');
    const refused = refusal(cho.methods.joinClass({ joinCode, displayName: 'Cho' }));
    await eventually('the teacher sees Cho asking', async () => (await waitingRequests(teacher, classId)).length === 1, 20_000);
    await applied(teacher, classId, { type: 'answerJoinRequest', laptopId: cho.laptopId, approve: false });
    const error = await refused;
    expect(error.code).toBe('NOT_ALLOWED');
    expect(error.message).toBe('Your teacher did not let this laptop into the class. Ask your teacher if that was a mistake.');
    expect((await cho.methods.status({})).classes).toEqual([]);

    const dan = await laptops.start('Dan’s laptop');
    await connectAll([teacher, dan]);
    const events = joinEvents(dan);
    const givenUp = refusal(dan.methods.joinClass({ joinCode, displayName: 'Dan' }));
    await eventually('Dan told to wait', async () => events.some((e) => e.state === 'waiting'), 20_000);
    expect(await dan.methods.cancelJoin({})).toEqual({ cancelled: true });
    expect((await givenUp).code).toBe('CANCELLED');
    expect(await dan.methods.cancelJoin({})).toEqual({ cancelled: false });
    expect((await dan.methods.status({})).classes).toEqual([]);
  }, 90_000);

  it('does not admit a laptop that holds the class’s secret and a token from the code in use, but was not let in', async () => {
    const { teacher, ana, classId, joinCode } = await approvingClass('unused');
    // Mallory's laptop has a copy of Ana's classes.json (the secret) and a token made with the
    // code in use for its own laptop id, as a laptop that was handed both would.
    const folder = mkdtempSync(join(tmpdir(), 'quorum-peer-mallory-'));
    const first = await laptops.start('Mallory', folder);
    const malloryId = first.laptopId;
    await first.close();
    const [entry] = JSON.parse(readFileSync(join(laptops.dirs[1]!, 'classes.json'), 'utf8')) as { classId: string }[];
    expect(entry!.classId).toBe(classId);
    const token = admissionToken(canonicalJoinCode(joinCode)!, malloryId);
    writeFileSync(join(folder, 'classes.json'), JSON.stringify([{ ...entry, joining: { token, displayName: 'Mallory' } }]), { mode: 0o600 });
    const mallory = await laptops.start('Mallory', folder);
    expect(mallory.laptopId).toBe(malloryId);
    await connectAll([teacher, ana, mallory]);
    await eventually('Mallory’s laptop told no', async () => {
      const entries = JSON.parse(readFileSync(join(folder, 'classes.json'), 'utf8')) as { joining?: unknown }[];
      return entries[0]!.joining === undefined;
    }, 20_000);
    const status = await classStatus(teacher, classId);
    expect([...status.voters, ...status.learners]).not.toContain(malloryId);
    expect((await teacher.methods.classroom({ classId })).members.map((m) => m.displayName)).not.toContain('Mallory');
  }, 60_000);
  it('asks for a laptop let in just before approval was turned on, and registers its student once a teacher lets it in', async () => {
    const { teacher, students, classId, joinCode } = await classroomOf(laptops, 'Ms Rivera', ['Ana'], 'Chemistry');
    const ana = students[0]!;
    const benDir = mkdtempSync(join(tmpdir(), 'quorum-peer-ben-'));
    let ben = await laptops.start('Ben’s laptop', benDir);
    const benLaptop = ben.laptopId;
    await connectAll([teacher, ana, ben]);
    // Ben's laptop is let in with the code, but his registration stays on it (its deliveries held
    // from the moment the class opens there), as when a laptop goes out of reach right after.
    let holding = true;
    const hold = (async () => {
      for (;;) {
        const runtime = (ben as unknown as { classes: Map<string, ClassRuntime> }).classes.get(classId);
        if (runtime) return runtime.router.stop();
        if (!holding) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await ben.methods.joinClass({ joinCode, displayName: 'Ben Okafor' });
    holding = false;
    await hold;
    await eventually('Ben’s laptop let into the class', async () => {
      const { voters, learners } = await classStatus(teacher, classId);
      return [...voters, ...learners].includes(benLaptop);
    }, 20_000);
    await eventually('Ben’s registration waiting on his laptop', async () => (await classStatus(ben, classId)).outbox === 1);

    // Meanwhile the teacher turns approval on; then Ben's laptop is back and sends what waited.
    await applied(teacher, classId, { type: 'setJoinApproval', approve: true });
    await ben.close();
    laptops.open.splice(laptops.open.indexOf(ben), 1);
    ben = await laptops.start('Ben’s laptop', benDir);
    await connectAll([teacher, ana, ben]);

    // He is not in the class yet: he asks, as he would have at the door, and the teacher sees it.
    const [request] = await eventually('the teacher sees Ben asking', async () => {
      const waiting = await waitingRequests(teacher, classId);
      return waiting.length > 0 && waiting;
    }, 20_000);
    expect(request).toMatchObject({ laptopId: benLaptop, displayName: 'Ben Okafor', refused: false });
    // His page can say why he waits.
    await eventually('Ben’s laptop knows it asked', async () => (await ben.methods.classroom({ classId })).me.asking === 'waiting');
    expect((await ben.methods.classroom({ classId })).me.role).toBeNull();

    await applied(teacher, classId, { type: 'answerJoinRequest', laptopId: benLaptop, approve: true });
    await eventually('Ben registered as a student', async () => (await ben.methods.classroom({ classId })).me.role === 'student', 20_000);
    expect((await ben.methods.classroom({ classId })).me.asking).toBeUndefined();
    expect((await teacher.methods.classroom({ classId })).members.map((m) => m.displayName)).toContain('Ben Okafor');
    expect(await waitingRequests(teacher, classId)).toEqual([]);
  }, 90_000);
});
