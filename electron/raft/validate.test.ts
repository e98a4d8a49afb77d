import { describe, expect, it } from 'vitest';
import { isWellFormedMessage } from './validate';

const app = {
  type: 'app',
  from: 'a',
  to: 'b',
  term: 2,
  index: 3,
  logTerm: 1,
  commit: 3,
  entries: [{ index: 4, term: 2, type: 'normal', data: new Uint8Array([1]) }],
};

describe('message validation', () => {
  it('accepts a well-formed append', () => {
    expect(isWellFormedMessage(app)).toBe(true);
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['an unknown type', { ...app, type: 'gossip' }],
    ['a negative term', { ...app, term: -1 }],
    ['a fractional index', { ...app, index: 1.5 }],
    ['an empty sender', { ...app, from: '' }],
    ['entries that skip an index', { ...app, entries: [{ index: 5, term: 2, type: 'normal', data: new Uint8Array() }] }],
    ['entries from a future term', { ...app, entries: [{ index: 4, term: 3, type: 'normal', data: new Uint8Array() }] }],
    ['entry data that is not bytes', { ...app, entries: [{ index: 4, term: 2, type: 'normal', data: 'x' }] }],
    ['a bad membership change', { ...app, entries: [{ index: 4, term: 2, type: 'confChange', change: { changes: [{ type: 'boom', nodeId: 'x' }] } }] }],
    ['a snapshot chunk overrunning its total', { type: 'snap', from: 'a', to: 'b', term: 1, offset: 4, totalBytes: 5, data: new Uint8Array(2), meta: { index: 3, term: 1, confState: { voters: ['a'], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } }],
    ['a vote without a transfer flag', { type: 'vote', from: 'a', to: 'b', term: 1, index: 0, logTerm: 0 }],
  ])('rejects %s', (_name, message) => {
    expect(isWellFormedMessage(message)).toBe(false);
  });
});
