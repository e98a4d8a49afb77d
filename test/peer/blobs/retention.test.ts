// Which laptops keep an attachment for good: the class's voters, the teachers' laptops and the
// owner's; an ordinary student's laptop only caches what its user opened.
import { describe, expect, it } from 'vitest';
import { keepsBlob, likelyHolders } from '../../../electron/peer/blobs/retention';

const CLASS = {
  voters: ['voter-1', 'voter-2', 'teacher-desk'],
  teacherLaptops: ['teacher-desk', 'teacher-home'],
};

describe('keepsBlob', () => {
  it.each([
    ['a voter', 'voter-1', [], true],
    ['a teacher laptop that is also a voter', 'teacher-desk', [], true],
    ['a teacher laptop that is not a voter', 'teacher-home', [], true],
    ['the laptop of the student who submitted the file', 'student-7', ['student-7'], true],
    ['the other laptop of that student', 'student-7-tablet', ['student-7', 'student-7-tablet'], true],
    ['another student', 'student-8', ['student-7'], false],
    ['a student, for a teacher material', 'student-8', ['teacher-home'], false],
  ] as const)('%s: %s', (_who, laptopId, ownerLaptops, keeps) => {
    expect(keepsBlob({ laptopId, ...CLASS, ownerLaptops })).toBe(keeps);
  });

  it('keeps nothing anywhere for a class that lists nobody', () => {
    expect(keepsBlob({ laptopId: 'alone', voters: [], teacherLaptops: [], ownerLaptops: [] })).toBe(false);
  });
});

describe('likelyHolders', () => {
  it('asks the owner first, then the teachers, then the voters, each laptop once', () => {
    expect(likelyHolders({ ...CLASS, ownerLaptops: ['student-7'] })).toEqual(['student-7', 'teacher-desk', 'teacher-home', 'voter-1', 'voter-2']);
  });
});
