// A class moves onto newer rules only by a teacher's adoptRules, and a laptop whose Quorum does
// not know those rules stops there, changing nothing, instead of applying on by older rules and
// drifting from the others. Laptops say which rules they know; a student can neither move the
// class nor stop anyone's laptop.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyClassroomCommand, classRules, laptopsBehindOn, noteableRules } from '../../electron/classroom';
import { NeedsNewerQuorumError } from '../../electron/peer/storage';
import { classroomCommand, type LogCommand } from '../../shared/classroom/commands';
import { CLASS_RULES } from '../../shared/classroom/rules';
import { assignment, CLASS_ID, classWith, expectApplied, sign, type User, type Replica } from './support';

/** Apply `command` signed by `author` on `replica` as a laptop whose Quorum knows rules up to `knownRules`. */
function applyAs(replica: Replica, knownRules: number, author: User, command: LogCommand) {
  const signed = sign(author, command, { commandId: randomBytes(12).toString('base64url') });
  replica.log.push({ signed, at: (replica.now += 60_000) });
  return replica.db.transaction(() => applyClassroomCommand(replica.db, CLASS_ID, JSON.parse(JSON.stringify(signed)), replica.now, knownRules))();
}

describe('class rules', () => {
  it('starts every class on rules 1, which this build knows, with every laptop on them', () => {
    const { replica } = classWith(['Ana']);
    expect(CLASS_RULES).toBeGreaterThanOrEqual(1);
    expect(classRules(replica.db)).toBe(1);
    expect(replica.db.prepare('SELECT DISTINCT rules FROM member_laptops').pluck().all()).toEqual([1]);
    expect(noteableRules(replica.db, 'laptop-0', 1)).toBe(false);
    expect(laptopsBehindOn(replica.db, 1)).toEqual([]);
  });

  it('records which rules each laptop knows, said only by its own member', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const [ana, ben] = students as [User, User];
    expect(laptopsBehindOn(replica.db, 2)).toEqual(['laptop-0', 'laptop-1', 'laptop-t']);
    expect(noteableRules(replica.db, 'laptop-0', 2)).toBe(true);

    expectApplied(applyAs(replica, 2, ana, { type: 'noteRules', laptopId: 'laptop-0', rules: 2 }));
    expect(noteableRules(replica.db, 'laptop-0', 2)).toBe(false);
    expect(laptopsBehindOn(replica.db, 2)).toEqual(['laptop-1', 'laptop-t']);

    // Ben cannot speak for Ana's laptop, nor for a laptop that is nobody's.
    expect(applyAs(replica, 2, ben, { type: 'noteRules', laptopId: 'laptop-0', rules: 3 })).toMatchObject({ status: 'rejected', code: 'NOT_ALLOWED' });
    expect(applyAs(replica, 2, ben, { type: 'noteRules', laptopId: 'laptop-x', rules: 2 })).toMatchObject({ status: 'rejected', code: 'NOT_ALLOWED' });
    // Saying it again, or saying less, changes nothing.
    expect(applyAs(replica, 2, ana, { type: 'noteRules', laptopId: 'laptop-0', rules: 1 })).toMatchObject({ status: 'rejected', code: 'STALE' });

    expectApplied(applyAs(replica, 2, ben, { type: 'noteRules', laptopId: 'laptop-1', rules: 2 }));
    expectApplied(applyAs(replica, 2, teacher, { type: 'noteRules', laptopId: 'laptop-t', rules: 2 }));
    expect(laptopsBehindOn(replica.db, 2)).toEqual([]);
    // A removed member's laptop no longer holds the class back.
    expect(laptopsBehindOn(replica.db, 3)).toEqual(['laptop-0', 'laptop-1', 'laptop-t']);
    expectApplied(replica.run(teacher, { type: 'removeMember', userId: ben.id }));
    expect(laptopsBehindOn(replica.db, 3)).toEqual(['laptop-0', 'laptop-t']);
  });

  it('moves onto newer rules where the laptop knows them, and stops, changing nothing, where it does not', () => {
    const { replica: updated, teacher } = classWith(['Ana']);
    expectApplied(updated.run(teacher, assignment('lab-0001')));
    const older = updated.replay();
    expect(older.digest()).toBe(updated.digest());

    const adopt = sign(teacher, { type: 'adoptRules', rules: 2 }, { commandId: 'adopt-rules-2' });
    const at = (updated.now += 60_000);
    expectApplied(updated.db.transaction(() => applyClassroomCommand(updated.db, CLASS_ID, adopt, at, 2))());
    expect(classRules(updated.db)).toBe(2);

    const before = older.digest();
    expect(() => older.db.transaction(() => applyClassroomCommand(older.db, CLASS_ID, adopt, at, 1))()).toThrow(NeedsNewerQuorumError);
    expect(older.digest()).toBe(before);
    // Every time: the same laptop stops at the same entry, however often it is restarted.
    expect(() => older.db.transaction(() => applyClassroomCommand(older.db, CLASS_ID, adopt, at, 1))()).toThrow(/too old for the class/);
    expect(older.digest()).toBe(before);

    // Updated, it carries on from there and agrees with the rest.
    expectApplied(older.db.transaction(() => applyClassroomCommand(older.db, CLASS_ID, adopt, at, 2))());
    expect(older.digest()).toBe(updated.digest());
  });

  it('stops an older laptop at any command once its copy says the class is on newer rules (as a snapshot may bring)', () => {
    const { replica, teacher } = classWith(['Ana']);
    replica.db.prepare('UPDATE class_info SET rules = 2').run();
    const before = replica.digest();
    expect(() => replica.run(teacher, assignment('lab-0002'))).toThrow(NeedsNewerQuorumError);
    expect(replica.digest()).toBe(before);
  });

  it('lets only a teacher move the class, only forward, so a student cannot stop anyone’s laptop', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    const [ana] = students as [User];
    const before = replica.digest();
    // Refused by the rules every laptop shares, before any laptop would stop for it.
    expect(applyAs(replica, 1, ana, { type: 'adoptRules', rules: 99 })).toMatchObject({ status: 'rejected', code: 'NOT_ALLOWED' });
    expect(classRules(replica.db)).toBe(1);
    expectApplied(applyAs(replica, 3, teacher, { type: 'adoptRules', rules: 3 }));
    expect(applyAs(replica, 3, teacher, { type: 'adoptRules', rules: 2 })).toMatchObject({ status: 'rejected', code: 'STALE' });
    expect(applyAs(replica, 3, teacher, { type: 'adoptRules', rules: 3 })).toMatchObject({ status: 'rejected', code: 'STALE' });
    expect(classRules(replica.db)).toBe(3);
    expect(replica.digest()).not.toBe(before);
  });

  it('is not something a person can ask for through the API: the laptops take these steps themselves', () => {
    expect(classroomCommand.check({ type: 'adoptRules', rules: 2 }, 'command')).toMatch(/type/);
    expect(classroomCommand.check({ type: 'noteRules', laptopId: 'laptop-0', rules: 2 }, 'command')).toMatch(/type/);
  });
});
