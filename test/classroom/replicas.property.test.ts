// Replicas that apply the same log reach the same state, whatever the log holds: random runs of
// commands from a teacher, two students and a stranger (allowed or not, stale or fresh, on
// assignments that exist or not, at committed times that go back as well as forward) are sealed
// and signed as their authors' laptops would, applied on one laptop's copy, then replayed on two
// fresh copies: all three digests agree, entry for entry. Replay a failure with QUORUM_FUZZ_SEED.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { propertySeed } from '../property-seed';
import { HOUR, Replica, sign, START, TEST_JOIN_CODE, user, type User } from './support';

const seed = propertySeed('test/classroom/replicas.property.test.ts');

const ASSIGNMENTS = ['lab-0001', 'lab-0002', 'lab-0003'];
/** Mostly the assignment every run starts with, so work is saved, graded and returned on it. */
const assignmentId = fc.oneof({ arbitrary: fc.constant(ASSIGNMENTS[0]!), weight: 3 }, { arbitrary: fc.constantFrom(...ASSIGNMENTS), weight: 1 });
/** Mostly the version a first save or edit expects, sometimes a stale or future one. */
const version = fc.oneof({ arbitrary: fc.constantFrom(0, 1), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 3 }), weight: 1 });
const text = fc.string({ maxLength: 40 });
const score = fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 25 }));

/** A command with its author's place (0 teacher, 1 Ana, 2 Ben, 3 a stranger) and student's place. */
const step = fc.record({
  author: fc.integer({ min: 0, max: 3 }),
  student: fc.integer({ min: 1, max: 2 }),
  // Mostly within the day, so work is due rather than long closed; now and then a jump past the cut-off.
  hoursLater: fc.oneof({ arbitrary: fc.integer({ min: -2, max: 3 }), weight: 5 }, { arbitrary: fc.integer({ min: -2, max: 30 }), weight: 1 }),
  // Weighted so that most runs build up a class with work in it, and still try every command.
  kind: fc.oneof(
    ...(
      [
        ['createAssignment', 3],
        ['editAssignment', 2],
        ['grantExtension', 1],
        ['saveDraft', 8],
        ['turnIn', 4],
        ['unsubmit', 1],
        ['grade', 5],
        ['returnGrade', 3],
        ['excuse', 1],
        ['comment', 3],
        ['addTeacher', 1],
        ['removeMember', 1],
        ['setJoinCode', 1],
        ['joinClass', 1],
        ['setJoinApproval', 1],
        ['requestToJoin', 1],
        ['answerJoinRequest', 1],
        ['readmitStudent', 1],
        ['noteRules', 1],
      ] as const
    ).map(([kind, weight]) => ({ arbitrary: fc.constant(kind), weight })),
  ),
  /** Below 8 the command comes from whoever may send it (so it mostly applies); else from `author`. */
  proper: fc.integer({ min: 0, max: 9 }),
  laptop: fc.constantFrom('laptop-x', 'laptop-y', 'laptop-a'),
  /** The class rules a laptop says its Quorum knows (noteRules). */
  rules: fc.integer({ min: 1, max: 3 }),
  assignmentId,
  version,
  text,
  score,
  flag: fc.boolean(),
});

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/** The laptop each person's Quorum runs on, for the commands a laptop sends about itself (noteRules). */
const LAPTOPS = ['laptop-t', 'laptop-a', 'laptop-b', 'laptop-x'];

/** Who may send each kind: a student (about themselves), the stranger (joining), or else the teacher. */
function properAuthor(s: Step): number {
  if (s.kind === 'noteRules') return s.student;
  if (s.kind === 'saveDraft' || s.kind === 'turnIn' || s.kind === 'unsubmit' || s.kind === 'requestToJoin') return s.student;
  if (s.kind === 'joinClass') return 3;
  return 0;
}

/** `s` as a command about `studentId`; the stranger (`strangerId`) is who a student may be re-admitted as. */
function commandOf(s: Step & { kind: Exclude<Step['kind'], 'noteRules'> }, studentId: string, strangerId: string, n: number): ClassroomCommand {
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
    case 'joinClass':
      return { type: 'joinClass', displayName: s.text || 'Someone', laptopId: s.laptop };
    case 'setJoinApproval':
      return { type: 'setJoinApproval', approve: s.flag };
    case 'requestToJoin':
      return { type: 'requestToJoin', laptopId: s.laptop, displayName: s.text || 'Someone' };
    case 'answerJoinRequest':
      return { type: 'answerJoinRequest', laptopId: s.laptop, approve: s.flag };
    case 'readmitStudent':
      return { type: 'readmitStudent', studentId, newMemberId: s.flag ? strangerId : studentId };
  }
}

describe('replicas of a class', () => {
  it('reach the same digest from the same log, whatever commands it holds', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40, size: 'max' }), (steps) => {
        const people: User[] = [user('Teacher'), user('Ana'), user('Ben'), user('Stranger')];
        const origin = new Replica();
        origin.run(people[0]!, { type: 'createClass', name: 'Physics', subject: '', displayName: 'Teacher', laptopId: 'laptop-t', joinCode: TEST_JOIN_CODE });
        origin.run(people[1]!, { type: 'joinClass', displayName: 'Ana', laptopId: 'laptop-a' });
        origin.run(people[2]!, { type: 'joinClass', displayName: 'Ben', laptopId: 'laptop-b' });
        origin.run(people[0]!, {
          type: 'createAssignment',
          assignmentId: ASSIGNMENTS[0]!,
          title: 'Lab',
          instructions: '',
          pointsPossible: 20,
          dueAt: START + 24 * HOUR,
          cutOffAt: null,
          materials: [],
          published: true,
        });
        let at = origin.now;
        steps.forEach((s, n) => {
          at += s.hoursLater * HOUR; // the leaders' clocks disagree: committed times may go back
          const author = s.proper < 8 ? properAuthor(s) : s.author;
          if (s.kind === 'noteRules') {
            // A laptop's own step, signed as it is sent (nothing in it is sealed); usually about the author's own laptop.
            const laptopId = s.proper < 8 ? LAPTOPS[author]! : s.laptop;
            origin.now = Math.max(origin.now, at);
            origin.apply(sign(people[author]!, { type: 'noteRules', laptopId, rules: s.rules }), at);
          } else {
            origin.run(people[author]!, commandOf({ ...s, kind: s.kind }, people[s.student]!.id, people[3]!.id, n), { at });
          }
        });
        const [first, second] = [origin.replay(), origin.replay()];
        expect(first.digest()).toBe(origin.digest());
        expect(second.digest()).toBe(origin.digest());
      }),
      { seed, numRuns: 60 },
    );
  }, 120_000);
});
