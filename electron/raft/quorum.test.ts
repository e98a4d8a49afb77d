import { describe, expect, it } from 'vitest';
import { jointCommitted, jointVoteResult, majorityCommitted, majorityVoteResult } from './quorum';

const set = (...ids: string[]) => new Set(ids);
const matches = (m: Record<string, number | undefined>) => (id: string) => m[id];

describe('majority commit index', () => {
  it.each([
    { voters: ['a'], match: { a: 5 }, want: 5 },
    { voters: ['a', 'b', 'c'], match: { a: 5, b: 3, c: 1 }, want: 3 },
    { voters: ['a', 'b', 'c'], match: { a: 5 }, want: 0 },
    { voters: ['a', 'b', 'c', 'd'], match: { a: 9, b: 7, c: 4, d: 1 }, want: 4 },
    { voters: ['a', 'b', 'c', 'd', 'e'], match: { a: 9, b: 7, c: 4, d: 1, e: 0 }, want: 4 },
  ])('$voters with $match commits $want', ({ voters, match, want }) => {
    expect(majorityCommitted(set(...voters), matches(match))).toBe(want);
  });

  it('takes the lower of both halves in joint consensus', () => {
    const voters = { incoming: set('a', 'b', 'c'), outgoing: set('c', 'd', 'e') };
    expect(jointCommitted(voters, matches({ a: 9, b: 9, c: 2, d: 1, e: 1 }))).toBe(1);
    expect(jointCommitted(voters, matches({ a: 9, b: 9, c: 5, d: 5, e: 1 }))).toBe(5);
  });

  it('commits nothing without voters', () => {
    expect(jointCommitted({ incoming: set(), outgoing: set() }, matches({}))).toBe(0);
  });
});

describe('vote counting', () => {
  const votes = (v: Record<string, boolean | undefined>) =>
    new Map(Object.entries(v).filter((e): e is [string, boolean] => e[1] !== undefined));
  it.each([
    { voters: ['a', 'b', 'c'], votes: { a: true }, want: 'pending' },
    { voters: ['a', 'b', 'c'], votes: { a: true, b: true }, want: 'won' },
    { voters: ['a', 'b', 'c'], votes: { a: true, b: false, c: false }, want: 'lost' },
    { voters: ['a', 'b', 'c', 'd'], votes: { a: true, b: true }, want: 'pending' },
    { voters: ['a', 'b', 'c', 'd'], votes: { a: true, b: false, c: false }, want: 'lost' },
  ] as const)('$voters with $votes is $want', ({ voters, votes: v, want }) => {
    expect(majorityVoteResult(set(...voters), votes(v))).toBe(want);
  });

  it('needs both halves in joint consensus', () => {
    const voters = { incoming: set('a', 'b', 'c'), outgoing: set('a', 'd', 'e') };
    expect(jointVoteResult(voters, votes({ a: true, b: true }))).toBe('pending');
    expect(jointVoteResult(voters, votes({ a: true, b: true, d: true }))).toBe('won');
    expect(jointVoteResult(voters, votes({ a: true, b: true, d: false, e: false }))).toBe('lost');
  });
});
