// Who may recover a class, when, and from which laptop's copy.
import { describe, expect, it } from 'vitest';
import { planRecovery, type RecoveryInput } from './plan';
import type { LogPosition } from './protocol';

const at = (lastIndex: number, lastTerm: number, extra: Partial<LogPosition> = {}): LogPosition => ({
  term: lastTerm,
  lastIndex,
  lastTerm,
  applied: lastIndex,
  leader: null,
  leaderContactMs: null,
  ...extra,
});

function plan(positions: Record<string, LogPosition>, overrides: Partial<RecoveryInput> = {}) {
  return planRecovery({
    classId: 'c',
    self: 'teacher',
    isTeacher: true,
    voters: ['teacher', 'v1', 'v2'],
    positions: new Map(Object.entries(positions)),
    ...overrides,
  });
}

describe('planning a class recovery', () => {
  it('is possible for a teacher when most voters are away, and names what is lost', () => {
    const result = plan({ teacher: at(10, 2), learner: at(9, 2) });
    expect(result).toMatchObject({ possible: true, source: { laptopId: 'teacher', lastIndex: 10 }, unreachableVoters: ['v1', 'v2'] });
    expect(result.warning).toMatch(/2 voting laptops that are not here will be lost/);
  });

  it('takes the copy Raft would call most up to date: last term first, then length, this laptop on a tie', () => {
    expect(plan({ teacher: at(10, 2), learner: at(12, 2) }).source?.laptopId).toBe('learner');
    expect(plan({ teacher: at(10, 3), learner: at(12, 2) }).source?.laptopId).toBe('teacher');
    expect(plan({ learner: at(10, 2), teacher: at(10, 2) }).source?.laptopId).toBe('teacher');
  });

  it('is refused to a student laptop', () => {
    expect(plan({ teacher: at(10, 2) }, { isTeacher: false })).toMatchObject({ possible: false, reason: expect.stringMatching(/teacher/) });
  });

  it('is refused while a quorum of voters is in reach', () => {
    expect(plan({ teacher: at(10, 2), v1: at(10, 2) })).toMatchObject({ possible: false, reason: expect.stringMatching(/2 of the class’s 3/) });
  });

  it('is refused while someone hears from a leader, but not for a leader last heard of long ago', () => {
    expect(plan({ teacher: at(10, 2), learner: at(10, 2, { leader: 'v1', leaderContactMs: 200 }) }).possible).toBe(false);
    expect(plan({ teacher: at(10, 2), learner: at(10, 2, { leader: 'v1', leaderContactMs: 60_000 }) }).possible).toBe(true);
  });
});
