// The join code on real peers over loopback: a laptop joins with the code the teacher shows; the
// teacher makes a new code or turns joining off, and the old code stops opening the class while
// the laptops already in it carry on; a removed laptop is refused even with the current code.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import { doorTagOf } from '../../electron/peer/class-joining';
import { classTag } from '../../electron/peer/discovery';
import { ServiceError } from '../../electron/peer/service';
import { IDENTITY_FILE } from '../../electron/peer/transport/identity';
import type { WebSocketTransport } from '../../electron/peer/transport';
import { encodeEnvelope } from '../../electron/peer/routing/envelope';
import { decodeForwardReply, encodeForwardRequest } from '../../electron/peer/routing/forward-protocol';
import { encodeKeyValueCommand } from '../../electron/peer/storage';
import { canonicalJoinCode, displayJoinCode, newJoinCode } from '../../shared/join-code';
import { applied, classStatus, connectAll, eventually, Laptops } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

/** How long a join with a code that opens nothing looks before giving up, in these tests. */
const SHORT_WAIT_MS = 1500;

async function joinError(peer: ClassroomPeer, joinCode: string, waitMs = SHORT_WAIT_MS): Promise<ServiceError> {
  const error = await peer.methods.joinClass({ joinCode, waitMs }).then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ServiceError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

/** A teacher's class with Ana in it, and a third laptop (not in the class) connected to both. */
async function classWithAna() {
  const teacher = await laptops.start('Ms Rivera');
  const { classId, joinCode } = await teacher.methods.createClass({ name: 'Chemistry' });
  const ana = await laptops.start('Ana');
  const newcomer = await laptops.start('Ben');
  await connectAll([teacher, ana, newcomer]);
  expect((await ana.methods.joinClass({ joinCode })).classId).toBe(classId);
  await eventually('Ana registered', async () => (await ana.methods.classroom({ classId })).me.role === 'student', 30_000);
  return { teacher, ana, newcomer, classId, joinCode };
}

describe('the join code', () => {
  it('is shown to teachers only, and is not the secret the class’s laptops share', async () => {
    const { teacher, ana, classId, joinCode } = await classWithAna();
    expect((await teacher.methods.classroom({ classId })).joinCode).toBe(joinCode);
    expect((await ana.methods.classroom({ classId })).joinCode).toBeNull();
    // The class id is the tag of the class's secret; a code opens a door to it, and is not the key.
    expect(doorTagOf(canonicalJoinCode(joinCode)!)).not.toBe(classId);
    expect(classTag(Buffer.from(canonicalJoinCode(joinCode)!))).not.toBe(classId);
  }, 60_000);

  it('stops opening the class once the teacher makes a new one, which opens it instead', async () => {
    const { teacher, ana, newcomer, classId, joinCode } = await classWithAna();
    const fresh = newJoinCode(randomBytes(20));
    await applied(teacher, classId, { type: 'setJoinCode', joinCode: fresh });
    expect((await teacher.methods.classroom({ classId })).joinCode).toBe(displayJoinCode(fresh));
    // Every laptop of the class closes the old door, Ana's included (she applied the change too).
    await eventually('Ana applied the new code', async () => (await classStatus(ana, classId)).applied >= (await classStatus(teacher, classId)).applied);

    const refused = await joinError(newcomer, joinCode);
    expect(refused.code).toBe('CLASS_NOT_FOUND');
    expect(refused.message).toMatch(/^No laptop of a class with this join code answered\./);
    expect((await newcomer.methods.status({})).classes).toHaveLength(0);

    // The new code, typed in lower case with spaces, opens the class.
    const typed = displayJoinCode(fresh).toLowerCase().replaceAll('-', ' ');
    expect((await newcomer.methods.joinClass({ joinCode: typed })).classId).toBe(classId);
    await eventually('Ben registered', async () => (await newcomer.methods.classroom({ classId })).me.role === 'student', 30_000);

    // Ana, already in, never needed a code again: her writes still go through.
    await applied(teacher, classId, {
      type: 'createAssignment',
      assignmentId: 'titration-1',
      title: 'Titration',
      instructions: '',
      pointsPossible: 10,
      dueAt: null,
      cutOffAt: null,
      materials: [],
      published: true,
    });
    await eventually('the assignment on Ana’s laptop', async () => (await ana.methods.classroom({ classId })).assignments.length === 1);
    await applied(ana, classId, { type: 'saveDraft', assignmentId: 'titration-1', baseVersion: 0, text: 'Started.', files: [] });
  }, 90_000);

  it('opens nothing once the teacher turns joining off', async () => {
    const { teacher, newcomer, classId, joinCode } = await classWithAna();
    await applied(teacher, classId, { type: 'setJoinCode', joinCode: null });
    expect((await teacher.methods.classroom({ classId })).joinCode).toBeNull();
    expect((await joinError(newcomer, joinCode)).code).toBe('CLASS_NOT_FOUND');
    const log = await teacher.methods.activity({ classId });
    expect(log.map((e) => e.summary)).toContain('Ms Rivera turned joining off');
  }, 60_000);

  it('may be changed by a teacher only', async () => {
    const { ana, classId } = await classWithAna();
    const outcome = await ana.methods.submitCommand({ classId, command: { type: 'setJoinCode', joinCode: newJoinCode(randomBytes(20)) } });
    expect(outcome).toMatchObject({ status: 'applied', result: { status: 'rejected', code: 'NOT_ALLOWED' } });
  }, 60_000);

  it('does not let a removed laptop back in', async () => {
    const { teacher, ana, classId, joinCode } = await classWithAna();
    const anaId = (await ana.methods.classroom({ classId })).me.userId;
    await applied(teacher, classId, { type: 'removeMember', userId: anaId });
    await eventually('Ana’s laptop out of the Raft group', async () => {
      const status = await classStatus(teacher, classId);
      return !status.voters.includes(ana.laptopId) && !status.learners.includes(ana.laptopId);
    }, 30_000);
    // Her laptop, starting over with an empty folder but the same laptop key, asks at the
    // teacher's door with the code still in use, and is told why not.
    await ana.close();
    const fresh = mkdtempSync(join(tmpdir(), 'quorum-peer-ana-again-'));
    copyFileSync(join(laptops.dirs[1]!, IDENTITY_FILE), join(fresh, IDENTITY_FILE));
    const again = await laptops.start('Ana', fresh);
    expect(again.laptopId).toBe(ana.laptopId);
    await connectAll([teacher, again]);
    // The removal made a new code (Ana knew the old one); even with the new one, she is refused.
    const current = (await teacher.methods.classroom({ classId })).joinCode!;
    expect(current).not.toBe(joinCode);
    expect((await joinError(again, joinCode)).code).toBe('CLASS_NOT_FOUND');
    // Long enough to connect again after the handshakes the old code failed (a refusal comes at once).
    const refused = await joinError(again, current, 15_000);
    expect(refused.code).toBe('NOT_ALLOWED');
    expect(refused.message).toBe('This laptop was removed from the class. Ask the teacher to add you again.');
    expect((await again.methods.status({})).classes).toHaveLength(0);
  }, 60_000);

  it('does not admit a laptop that knows the class’s secret but not the code in use', async () => {
    const { teacher, classId } = await classWithAna();
    // Mallory's laptop has a copy of Ana's classes.json (the class's secret) and asks to be
    // admitted with a made-up token, as a stolen copy would.
    const folder = mkdtempSync(join(tmpdir(), 'quorum-peer-mallory-'));
    const [entry] = JSON.parse(readFileSync(join(laptops.dirs[1]!, 'classes.json'), 'utf8')) as { classId: string }[];
    expect(entry!.classId).toBe(classId);
    writeFileSync(join(folder, 'classes.json'), JSON.stringify([{ ...entry, joining: { token: 'A'.repeat(43), displayName: 'Mallory' } }]), { mode: 0o600 });
    const mallory = await laptops.start('Mallory', folder);
    await connectAll([teacher, mallory]);
    // Refused: the laptop stops asking (the note of asking goes) and never enters the group.
    await eventually('Mallory’s laptop told no', async () => {
      const entries = JSON.parse(readFileSync(join(folder, 'classes.json'), 'utf8')) as { joining?: unknown }[];
      return entries[0]!.joining === undefined;
    }, 20_000);
    const status = await classStatus(teacher, classId);
    expect([...status.voters, ...status.learners]).not.toContain(mallory.laptopId);
    expect((await teacher.methods.classroom({ classId })).members.map((m) => m.displayName)).not.toContain('Mallory');

    // Her laptop, modified, sends the leader a write of its own: refused, and nothing is proposed.
    const before = (await classStatus(teacher, classId)).commit;
    const envelope = encodeEnvelope({ clientId: 'mallory', seq: 1, ackedBelow: 1, command: encodeKeyValueCommand({ op: 'put', key: 'graffiti', value: 'was here' }) });
    const transport = (mallory as unknown as { transport: WebSocketTransport }).transport;
    const reply = decodeForwardReply(await transport.request(teacher.laptopId, classId, encodeForwardRequest({ kind: 'write', envelope }), 3000));
    expect(reply).toEqual({ kind: 'error', code: 'NOT_ALLOWED', message: 'Only laptops of the class may write to it.' });
    expect((await teacher.methods.read({ classId, key: 'graffiti' })).value).toBeNull();
    expect((await classStatus(teacher, classId)).commit).toBe(before);
  }, 60_000);
});
