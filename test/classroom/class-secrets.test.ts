// Removing a member replaces the class's secret and its join code, both of which they knew: the
// new secret travels in the removal, sealed for the members who stay, and every replica keeps it
// alike. The removed member's copy of the log holds it, but their key does not open it.
import { describe, expect, it } from 'vitest';
import { classSecretGeneration, currentJoinCode, openClassSecrets } from '../../electron/classroom';
import { BoxOpener } from '../../electron/classroom';
import { CLASS_ID, classWith, expectApplied, sign, TEST_JOIN_CODE, user } from './support';

describe('the class secret after a removal', () => {
  it('is a new secret that every member who stays opens alike, and the one removed cannot', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben', 'Cai']);
    const [ana, ben, cai] = students as [(typeof students)[0], (typeof students)[0], (typeof students)[0]];
    expect(classSecretGeneration(replica.db)).toBe(0);

    expectApplied(replica.run(teacher, { type: 'removeMember', userId: cai.id }));
    expect(classSecretGeneration(replica.db)).toBe(1);
    const [forTeacher] = openClassSecrets(replica.db, CLASS_ID, teacher.opener, 0);
    const [forAna] = openClassSecrets(replica.db, CLASS_ID, ana.opener, 0);
    const [forBen] = openClassSecrets(replica.db, CLASS_ID, ben.opener, 0);
    expect(forTeacher?.generation).toBe(1);
    expect(forTeacher?.secret.byteLength).toBe(20);
    expect(Buffer.from(forAna!.secret)).toEqual(Buffer.from(forTeacher!.secret));
    expect(Buffer.from(forBen!.secret)).toEqual(Buffer.from(forTeacher!.secret));
    expect(openClassSecrets(replica.db, CLASS_ID, cai.opener, 0)).toEqual([]);
    // Already known: nothing newer.
    expect(openClassSecrets(replica.db, CLASS_ID, ana.opener, 1)).toEqual([]);

    // The log carries it sealed only.
    const secretHex = Buffer.from(forTeacher!.secret).toString('hex');
    const secretB64 = Buffer.from(forTeacher!.secret).toString('base64url');
    const log = JSON.stringify(replica.log);
    expect(log).not.toContain(secretHex);
    expect(log).not.toContain(secretB64);

    // Every replica keeps the same.
    const other = replica.replay();
    expect(other.digest()).toBe(replica.digest());
    expect(Buffer.from(openClassSecrets(other.db, CLASS_ID, ana.opener, 0)[0]!.secret)).toEqual(Buffer.from(forTeacher!.secret));
  });

  it('gives each removal its own generation, and a new join code when joining is on', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben', 'Cai']);
    expectApplied(replica.run(teacher, { type: 'removeMember', userId: students[2]!.id }));
    const afterFirst = currentJoinCode(replica.db);
    expect(afterFirst).not.toBe(TEST_JOIN_CODE);
    expect(afterFirst).toMatch(/^[A-Z2-9]{32}$/);
    expectApplied(replica.run(teacher, { type: 'removeMember', userId: students[1]!.id }));
    expect(currentJoinCode(replica.db)).not.toBe(afterFirst);
    const opened = openClassSecrets(replica.db, CLASS_ID, students[0]!.opener, 0);
    expect(opened.map((each) => each.generation)).toEqual([1, 2]);
    expect(Buffer.from(opened[0]!.secret)).not.toEqual(Buffer.from(opened[1]!.secret));
    // Ben, removed second, opens the first new secret but not the second.
    expect(openClassSecrets(replica.db, CLASS_ID, students[1]!.opener, 0).map((each) => each.generation)).toEqual([1]);
  });

  it('leaves joining off when it was off', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    expectApplied(replica.run(teacher, { type: 'setJoinCode', joinCode: null }));
    expectApplied(replica.run(teacher, { type: 'removeMember', userId: students[1]!.id }));
    expect(currentJoinCode(replica.db)).toBeNull();
    expect(classSecretGeneration(replica.db)).toBe(1);
  });

  it('refuses, on every replica alike, a new secret sealed for the member being removed', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const honest = replica.seal(teacher, { type: 'removeMember', userId: students[1]!.id });
    const leaky = { ...honest.command } as Extract<typeof honest.command, { type: 'removeMember' }>;
    // The same sealed secret, with a key for Ben added by a modified laptop.
    const benKey = { userId: students[1]!.id, key: leaky.classSecret!.keys[0]!.key };
    const forged = sign(teacher, { ...leaky, classSecret: { ...leaky.classSecret!, keys: [...leaky.classSecret!.keys, benKey] } });
    const other = replica.replay();
    expect(replica.apply(forged)).toMatchObject({ status: 'rejected', code: 'CONFLICT' });
    expect(other.apply(forged, replica.log.at(-1)!.at)).toMatchObject({ status: 'rejected', code: 'CONFLICT' });
    expect(classSecretGeneration(replica.db)).toBe(0);
    // Refused as a whole: Ben is still a member.
    expect(replica.db.prepare('SELECT removed_at FROM members WHERE user_id = ?').pluck().get(students[1]!.id)).toBeNull();
    expect(other.digest()).toBe(replica.digest());
  });

  it('still removes a member with a command from before secrets were replaced', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    expectApplied(replica.apply(sign(teacher, { type: 'removeMember', userId: students[1]!.id })));
    expect(classSecretGeneration(replica.db)).toBe(0);
    expect(currentJoinCode(replica.db)).toBe(TEST_JOIN_CODE);
  });

  it('is replaced when a student who lost their laptop is re-admitted: the new laptop opens it, the lost one does not', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const [ana, ben] = students as [(typeof students)[0], (typeof students)[0]];
    const anaAgain = user('Ana (new laptop)');
    expectApplied(replica.run(anaAgain, { type: 'joinClass', displayName: anaAgain.name, laptopId: 'laptop-ana-new' }));
    expectApplied(replica.run(teacher, { type: 'readmitStudent', studentId: ana.id, newMemberId: anaAgain.id }));

    expect(classSecretGeneration(replica.db)).toBe(1);
    expect(currentJoinCode(replica.db)).not.toBe(TEST_JOIN_CODE);
    const [forTeacher] = openClassSecrets(replica.db, CLASS_ID, teacher.opener, 0);
    // Ana, on her new laptop, acts under her old id with her new box key.
    const [forNewLaptop] = openClassSecrets(replica.db, CLASS_ID, new BoxOpener(ana.id, anaAgain.box), 0);
    expect(Buffer.from(forNewLaptop!.secret)).toEqual(Buffer.from(forTeacher!.secret));
    expect(Buffer.from(openClassSecrets(replica.db, CLASS_ID, ben.opener, 0)[0]!.secret)).toEqual(Buffer.from(forTeacher!.secret));
    // The lost laptop's keys open nothing.
    expect(openClassSecrets(replica.db, CLASS_ID, ana.opener, 0)).toEqual([]);
    expect(replica.replay().digest()).toBe(replica.digest());
  });
});
