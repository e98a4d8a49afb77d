// "Approve each student", as every replica checks it: only a teacher turns it on or off and
// answers; a laptop asks once and at most LIMITS.waitingJoinRequests wait at a time; a laptop
// nobody let in cannot register; turning approval off clears the waiting list.
import { describe, expect, it } from 'vitest';
import { joinStanding, members, openJoinRequests } from '../../electron/classroom';
import { LIMITS } from '../../shared/classroom/commands';
import { classWith, expectApplied, user } from './support';

describe('approving each student', () => {
  it('is turned on and off by a teacher only', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    expect(replica.run(students[0]!, { type: 'setJoinApproval', approve: true })).toMatchObject({ status: 'rejected', code: 'NOT_ALLOWED' });
    expect(joinStanding(replica.db, 'laptop-new')).toBe('open');
    expectApplied(replica.run(teacher, { type: 'setJoinApproval', approve: true }));
    expect(joinStanding(replica.db, 'laptop-new')).toBe('unknown');
    // The laptops already in the class are in: nothing to approve.
    expect(joinStanding(replica.db, 'laptop-0')).toBe('member');
  });

  it('records who asks at a member’s door, once per laptop, for the teachers to see', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    const [ana] = students as [(typeof students)[0]];
    expect(replica.run(ana, { type: 'requestToJoin', laptopId: 'laptop-ben', displayName: 'Ben' })).toMatchObject({
      code: 'NOT_ALLOWED',
      reason: expect.stringMatching(/anyone with its join code/),
    });
    expectApplied(replica.run(teacher, { type: 'setJoinApproval', approve: true }));
    // Ana's laptop was the door Ben's laptop knocked at.
    expectApplied(replica.run(ana, { type: 'requestToJoin', laptopId: 'laptop-ben', displayName: 'Ben' }));
    expect(replica.run(teacher, { type: 'requestToJoin', laptopId: 'laptop-ben', displayName: 'Benjamin' })).toMatchObject({ code: 'CONFLICT' });
    expect(replica.run(ana, { type: 'requestToJoin', laptopId: 'laptop-0', displayName: 'Ana again' })).toMatchObject({ code: 'CONFLICT' });
    expect(joinStanding(replica.db, 'laptop-ben')).toBe('waiting');
    expect(openJoinRequests(replica.db, teacher.id)).toEqual([{ laptopId: 'laptop-ben', displayName: 'Ben', askedAt: expect.any(Number), recordedByName: 'Ana', refused: false }]);
    expect(openJoinRequests(replica.db, ana.id)).toEqual([]);
    // Nobody outside the class can fill the list.
    expect(replica.run(user('Stranger'), { type: 'requestToJoin', laptopId: 'laptop-x', displayName: 'X' })).toMatchObject({ code: 'NOT_A_MEMBER' });
  });

  it('lets only a teacher answer, and a laptop registers only once let in', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    const [ana] = students as [(typeof students)[0]];
    const ben = user('Ben');
    const cho = user('Cho');
    expectApplied(replica.run(teacher, { type: 'setJoinApproval', approve: true }));
    expectApplied(replica.run(ana, { type: 'requestToJoin', laptopId: 'laptop-ben', displayName: 'Ben' }));
    expectApplied(replica.run(ana, { type: 'requestToJoin', laptopId: 'laptop-cho', displayName: 'Cho' }));
    // Ben's user signs his own joinClass, but his laptop is still waiting.
    expect(replica.run(ben, { type: 'joinClass', displayName: 'Ben', laptopId: 'laptop-ben' })).toMatchObject({
      code: 'NOT_ALLOWED',
      reason: 'Your teacher has not let this laptop into the class yet.',
    });
    expect(replica.run(ana, { type: 'answerJoinRequest', laptopId: 'laptop-ben', approve: true })).toMatchObject({ code: 'NOT_ALLOWED' });
    expect(replica.run(teacher, { type: 'answerJoinRequest', laptopId: 'laptop-nobody', approve: true })).toMatchObject({ code: 'NOT_FOUND' });
    expectApplied(replica.run(teacher, { type: 'answerJoinRequest', laptopId: 'laptop-ben', approve: true }));
    expectApplied(replica.run(teacher, { type: 'answerJoinRequest', laptopId: 'laptop-cho', approve: false }));
    expect(joinStanding(replica.db, 'laptop-cho')).toBe('refused');
    // Cho stays on the teacher's list, refused, so a teacher may let her in after all.
    expect(openJoinRequests(replica.db, teacher.id)).toEqual([expect.objectContaining({ laptopId: 'laptop-cho', refused: true })]);
    expectApplied(replica.run(ben, { type: 'joinClass', displayName: 'Ben', laptopId: 'laptop-ben' }));
    expect(replica.run(cho, { type: 'joinClass', displayName: 'Cho', laptopId: 'laptop-cho' })).toMatchObject({ code: 'NOT_ALLOWED' });
    // A teacher changes their mind: Cho comes in after all, and leaves the list.
    expectApplied(replica.run(teacher, { type: 'answerJoinRequest', laptopId: 'laptop-cho', approve: true }));
    expect(openJoinRequests(replica.db, teacher.id)).toEqual([]);
    expectApplied(replica.run(cho, { type: 'joinClass', displayName: 'Cho', laptopId: 'laptop-cho' }));
    // Once in, his laptop is a member's: refusing it now is not how a student is taken out.
    expect(replica.run(teacher, { type: 'answerJoinRequest', laptopId: 'laptop-ben', approve: false })).toMatchObject({ code: 'CONFLICT' });
    // Every replica that applies the same log holds the same tables.
    expect(replica.replay().digest()).toBe(replica.digest());
  });

  it(`keeps at most ${LIMITS.waitingJoinRequests} waiting, and clears them when approval is turned off`, () => {
    const { replica, teacher, students } = classWith(['Ana']);
    const [ana] = students as [(typeof students)[0]];
    expectApplied(replica.run(teacher, { type: 'setJoinApproval', approve: true }));
    for (let i = 0; i < LIMITS.waitingJoinRequests; i++) {
      expectApplied(replica.run(ana, { type: 'requestToJoin', laptopId: `laptop-asker-${i}`, displayName: `Asker ${i}` }));
    }
    expect(replica.run(ana, { type: 'requestToJoin', laptopId: 'laptop-one-too-many', displayName: 'Late' })).toMatchObject({
      code: 'NOT_ALLOWED',
      reason: expect.stringMatching(/^50 people are already waiting/),
    });
    // An answer makes room.
    expectApplied(replica.run(teacher, { type: 'answerJoinRequest', laptopId: 'laptop-asker-0', approve: false }));
    expectApplied(replica.run(ana, { type: 'requestToJoin', laptopId: 'laptop-one-too-many', displayName: 'Late' }));
    expectApplied(replica.run(teacher, { type: 'setJoinApproval', approve: false }));
    // Nobody waits any more; the one refused is still listed as refused.
    expect(openJoinRequests(replica.db, teacher.id)).toEqual([expect.objectContaining({ laptopId: 'laptop-asker-0', refused: true })]);
    expect(joinStanding(replica.db, 'laptop-asker-1')).toBe('open');
    // Turned on again, the one refused stays refused; those who waited ask again.
    expectApplied(replica.run(teacher, { type: 'setJoinApproval', approve: true }));
    expect(joinStanding(replica.db, 'laptop-asker-0')).toBe('refused');
    expect(joinStanding(replica.db, 'laptop-asker-1')).toBe('unknown');
  });

  it('asks for a laptop let in before approval was turned on that registers after, and registers it once let in', () => {
    const { replica, teacher } = classWith(['Ana']);
    const ben = user('Ben');
    // Ben's laptop came in with the code; before his user registered, the teacher turned approval on.
    expectApplied(replica.run(teacher, { type: 'setJoinApproval', approve: true }));
    expectApplied(replica.run(ben, { type: 'joinClass', displayName: 'Ben', laptopId: 'laptop-ben' }));
    // Not a member: asking, in his own name, on the teacher's list.
    expect(members(replica.db, teacher.id).map((m) => m.displayName)).toEqual(['Ms Rivera', 'Ana']);
    expect(joinStanding(replica.db, 'laptop-ben')).toBe('waiting');
    expect(openJoinRequests(replica.db, teacher.id)).toEqual([expect.objectContaining({ laptopId: 'laptop-ben', displayName: 'Ben', recordedByName: '' })]);
    // Asking again changes nothing.
    expect(replica.run(ben, { type: 'joinClass', displayName: 'Ben', laptopId: 'laptop-ben' })).toMatchObject({ code: 'NOT_ALLOWED' });
    expectApplied(replica.run(teacher, { type: 'answerJoinRequest', laptopId: 'laptop-ben', approve: true }));
    expectApplied(replica.run(ben, { type: 'joinClass', displayName: 'Ben', laptopId: 'laptop-ben' }));
    expect(members(replica.db, teacher.id).map((m) => m.displayName)).toEqual(['Ms Rivera', 'Ana', 'Ben']);
    expect(replica.replay().digest()).toBe(replica.digest());
  });

  it('refuses to record a removed student’s laptop', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const [ana, ben] = students as [(typeof students)[0], (typeof students)[0]];
    expectApplied(replica.run(teacher, { type: 'setJoinApproval', approve: true }));
    expectApplied(replica.run(teacher, { type: 'removeMember', userId: ben.id }));
    expect(replica.run(ana, { type: 'requestToJoin', laptopId: 'laptop-1', displayName: 'Ben' })).toMatchObject({ code: 'NOT_ALLOWED' });
  });
});
