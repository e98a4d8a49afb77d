// Replicas that apply the same log reach the same state, whatever the log holds: random runs of
// commands from a teacher, two students and a stranger (allowed or not, stale or fresh, on
// assignments that exist or not, at committed times that go back as well as forward) are sealed
// and signed as their authors' laptops would, applied on one laptop's copy, then replayed on two
// fresh copies: all three digests agree, entry for entry. Replay a failure with QUORUM_FUZZ_SEED.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { propertySeed } from '../property-seed';
import { HOUR, Replica, START, TEST_JOIN_CODE, user, type User } from './support';

const seed = propertySeed('test/classroom/replicas.property.test.ts');

const ASSIGNMENTS = ['lab-0001', 'lab-0002', 'lab-0003'];
const assignmentId = fc.constantFrom(...ASSIGNMENTS);
const version = fc.integer({ min: 0, max: 3 });
const text = fc.string({ maxLength: 40 });
const score = fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 25 }));

/** A command with its author's place (0 teacher, 1 Ana, 2 Ben, 3 a stranger) and student's place. */
const step = fc.record({
  author: fc.integer({ min: 0, max: 3 }),
  student: fc.integer({ min: 1, max: 2 }),
  hoursLater: fc.integer({ min: -2, max: 30 }),
  kind: fc.constantFrom(
    'createAssignment',
    'editAssignment',
    'grantExtension',
    'saveDraft',
    'turnIn',
    'unsubmit',
    'grade',
    'returnGrade',
    'excuse',
    'comment',
    'addTeacher',
    'removeMember',
    'setJoinCode',
  ),
  assignmentId,
  version,
  text,
  score,
  flag: fc.boolean(),
});

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function commandOf(s: Step, studentId: string, n: number): ClassroomCommand {
  const dueAt = START + 24 * HOUR;
  const fields = {
    title: s.text || 'Lab',
    instructions: s.text,
    pointsPossible: s.flag ? 20 : null,
    dueAt,
    cutOffAt: s.flag ? dueAt + 2 * HOUR : null,
    materials: [],
    published: s.flag || s.version > 0,
  };
  switch (s.kind) {
    case 'createAssignment':
      return { type: 'createAssignment', assignmentId: s.assignmentId, ...fields };
    case 'editAssignment':
      return { type: 'editAssignment', assignmentId: s.assignmentId, baseVersion: Math.max(1, s.version), ...fields };
    case 'grantExtension':
      return { type: 'grantExtension', assignmentId: s.assignmentId, studentId, dueAt: s.flag ? dueAt + 48 * HOUR : null };
    case 'saveDraft':
      return { type: 'saveDraft', assignmentId: s.assignmentId, baseVersion: s.version, text: s.text, files: [] };
    case 'turnIn':
      return { type: 'turnIn', assignmentId: s.assignmentId };
    case 'unsubmit':
      return { type: 'unsubmit', assignmentId: s.assignmentId };
    case 'grade':
      return { type: 'grade', assignmentId: s.assignmentId, studentId, baseVersion: s.version, score: s.score, feedback: s.text };
    case 'returnGrade':
      return { type: 'returnGrade', assignmentId: s.assignmentId, studentId };
    case 'excuse':
      return { type: 'excuse', assignmentId: s.assignmentId, studentId, excused: s.flag };
    case 'comment':
      return { type: 'comment', commentId: `comment-${String(n).padStart(4, '0')}`, assignmentId: s.assignmentId, studentId, text: s.text || 'Hello' };
    case 'addTeacher':
      return { type: 'addTeacher', userId: studentId };
    case 'removeMember':
      return { type: 'removeMember', userId: studentId };
    case 'setJoinCode':
      return { type: 'setJoinCode', joinCode: s.flag ? TEST_JOIN_CODE : null };
  }
}

describe('replicas of a class', () => {
  it('reach the same digest from the same log, whatever commands it holds', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const people: User[] = [user('Teacher'), user('Ana'), user('Ben'), user('Stranger')];
        const origin = new Replica();
        origin.run(people[0]!, { type: 'createClass', name: 'Physics', subject: '', displayName: 'Teacher', laptopId: 'laptop-t', joinCode: TEST_JOIN_CODE });
        origin.run(people[1]!, { type: 'joinClass', displayName: 'Ana', laptopId: 'laptop-a' });
        origin.run(people[2]!, { type: 'joinClass', displayName: 'Ben', laptopId: 'laptop-b' });
        let at = origin.now;
        steps.forEach((s, n) => {
          at += s.hoursLater * HOUR; // the leaders' clocks disagree: committed times may go back
          origin.run(people[s.author]!, commandOf(s, people[s.student]!.id, n), { at });
        });
        const [first, second] = [origin.replay(), origin.replay()];
        expect(first.digest()).toBe(origin.digest());
        expect(second.digest()).toBe(origin.digest());
      }),
      { seed, numRuns: 60 },
    );
  }, 120_000);
});
