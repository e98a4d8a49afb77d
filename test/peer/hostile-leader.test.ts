// No laptop trusts the leader beyond ordering. A modified laptop that leads the class puts
// forged and replayed commands into the log itself: a grade signed by nobody in the class, a
// student's own grade, a teacher's real grade command altered after signing, and the teacher's
// real command replayed. Every replica applies the same log, refuses each of them by its own
// checks, and ends with the same state, in which the real grade stands.
import { afterEach, describe, expect, it } from 'vitest';
import { BoxOpener, generateBoxKeyPair, sealCommand, signCommand, userIdOf } from '../../electron/classroom';
import { FileVault, loadOrCreateBoxKey } from '../../electron/peer/secrets';
import type { ClassRuntime } from '../../electron/peer/class-runtime';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import { decodeEnvelope } from '../../electron/peer/routing/envelope';
import { unstampWrite } from '../../electron/peer/routing/leader-stamp';
import { generateIdentity, loadOrCreateIdentity, silentLogger } from '../../electron/peer/transport';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { applied, classroomOf, classStatus, eventually, Laptops, publishedAssignment } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

/** The laptop's replica of the class, as a modified build of Quorum would reach it. */
function runtimeOf(peer: ClassroomPeer, classId: string): ClassRuntime {
  return (peer as unknown as { classes: Map<string, ClassRuntime> }).classes.get(classId)!;
}

/** The signed commands in the leader's log, as the bytes that were proposed. */
function loggedCommands(runtime: ClassRuntime): { bytes: Uint8Array; json: { command: { type: string } } }[] {
  const found = [];
  for (const entry of runtime.storage.entries(1, runtime.storage.lastIndex() + 1)) {
    if (entry.type !== 'normal' || entry.data.byteLength === 0) continue;
    const envelope = decodeEnvelope(unstampWrite(entry.data).envelope);
    if (typeof envelope === 'string') continue;
    try {
      found.push({ bytes: envelope.command, json: JSON.parse(new TextDecoder().decode(envelope.command)) as { command: { type: string } } });
    } catch {
      // Not a classroom command.
    }
  }
  return found;
}

/** The leader proposes `bytes` as if it were its own user's write; resolves with what applying did. */
async function injectAsLeader(leader: ClassRuntime, bytes: Uint8Array): Promise<{ status: string; code?: string }> {
  const outcome = await leader.router.write(bytes, 10_000);
  if (outcome.status !== 'applied') throw new Error('the injected command was not applied in time');
  const result = leader.takeResult(outcome.seq);
  if (result?.kind !== 'classroom') throw new Error(`unexpected result ${JSON.stringify(result)}`);
  return result;
}

describe('a modified laptop leading the class', () => {
  it('cannot get a forged, a self-awarded, an altered or a replayed grade past any replica', async () => {
    const { teacher, students, classId } = await classroomOf(laptops, 'Ms Rivera', ['Ana', 'Ben']);
    const [ana, ben] = students as [ClassroomPeer, ClassroomPeer];
    const all = [teacher, ana, ben];
    const anaId = (await ana.methods.classroom({ classId })).me.userId;
    await applied(teacher, classId, publishedAssignment('lab-pendulum', 'Pendulum lab'));
    await eventually('the assignment on Ana’s laptop', async () => (await ana.methods.classroom({ classId })).assignments.length === 1);
    await applied(ana, classId, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: 'Ten swings took 14.2 s.', files: [] });
    await applied(ana, classId, { type: 'turnIn', assignmentId: 'lab-pendulum' });
    await applied(teacher, classId, { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 0, score: 12, feedback: 'Measure more swings.' });
    await applied(teacher, classId, { type: 'returnGrade', assignmentId: 'lab-pendulum', studentId: anaId });

    // Whichever laptop leads turns hostile (three voters by now: see classroom-peer.test.ts).
    await eventually('three voters', async () => (await classStatus(teacher, classId)).voters.length === 3, 30_000);
    const leaderPeer = await eventually('a leader', async () => all.find((peer) => runtimeOf(peer, classId).group.isLeader()));
    const leader = runtimeOf(leaderPeer, classId);
    const realGrade = loggedCommands(leader).find((logged) => logged.json.command.type === 'grade');
    expect(realGrade).toBeDefined();
    const fullMarks: ClassroomCommand = { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 1, score: 20, feedback: 'Perfect.' };
    const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    /** `fullMarks` as `author`'s laptop would seal it for the class's readers, then signed: a well-formed grade. */
    const sealedBy = (author: ReturnType<typeof generateIdentity>, box: ReturnType<typeof loadOrCreateBoxKey>, commandId: string) => {
      const userId = userIdOf(Buffer.from(author.publicKey).toString('base64url'))!;
      const sealed = sealCommand(leader.storage.database, classId, commandId, { userId, boxKey: box.publicKey, opener: new BoxOpener(userId, box) }, fullMarks);
      return encode(signCommand(author, classId, sealed, { commandId }));
    };

    // A grade signed by a key nobody in the class has.
    const stranger = generateIdentity();
    expect(await injectAsLeader(leader, sealedBy(stranger, generateBoxKeyPair(), 'stranger-grade-1'))).toMatchObject({ status: 'rejected', code: 'NOT_A_MEMBER' });
    // Ana's own keys, giving herself full marks.
    const anaVault = new FileVault(laptops.dirs[1]!);
    const anaKey = await loadOrCreateIdentity(laptops.dirs[1]!, silentLogger, 'user-key.pem');
    expect(await injectAsLeader(leader, sealedBy(anaKey, loadOrCreateBoxKey(anaVault), 'ana-self-grade-1'))).toMatchObject({ status: 'rejected', code: 'NOT_ALLOWED' });
    // The teacher's real command, altered after it was signed: now for the assignment's full marks.
    const altered = JSON.parse(new TextDecoder().decode(realGrade!.bytes)) as { command: Record<string, unknown>; clientTime: number };
    altered.clientTime += 1;
    expect(await injectAsLeader(leader, encode(altered))).toMatchObject({ status: 'rejected', code: 'BAD_SIGNATURE' });
    // The teacher's real command again, byte for byte.
    expect(await injectAsLeader(leader, realGrade!.bytes)).toMatchObject({ status: 'rejected', code: 'REPLAYED' });

    // Every replica applied the same log to the same state, where the real grade stands.
    const end = (await classStatus(leaderPeer, classId)).applied;
    const digests = await Promise.all(
      all.map((peer) =>
        eventually('the replica caught up', async () => {
          const status = await classStatus(peer, classId);
          return status.applied >= end && status;
        }),
      ),
    );
    expect(new Set(digests.map((status) => status.digest)).size).toBe(1);
    for (const viewer of [ana, teacher]) {
      const work = await viewer.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId });
      expect(work.grade).toMatchObject({ score: 12, feedback: 'Measure more swings.' });
    }
  }, 90_000);
});
