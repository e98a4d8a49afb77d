import { describe, expect, it } from 'vitest';
import { applyConfChange } from './confchange';
import { fromConfState, toConfState } from './config';
import type { ConfChange, ConfState } from './types';

const cs = (voters: string[], learners: string[] = [], extra: Partial<ConfState> = {}): ConfState => ({
  voters,
  learners,
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
  ...extra,
});

function apply(from: ConfState, change: ConfChange) {
  const result = applyConfChange(fromConfState(from), change);
  return result.ok ? toConfState(result.config) : result.reason;
}

describe('membership changes', () => {
  it('adds a learner and promotes it with simple changes', () => {
    const withLearner = apply(cs(['a']), { changes: [{ type: 'addLearner', nodeId: 'b' }] });
    expect(withLearner).toEqual(cs(['a'], ['b']));
    expect(apply(cs(['a'], ['b']), { changes: [{ type: 'addVoter', nodeId: 'b' }] })).toEqual(cs(['a', 'b']));
  });

  it('demotes a voter to a learner and removes a member', () => {
    expect(apply(cs(['a', 'b']), { changes: [{ type: 'addLearner', nodeId: 'b' }] })).toEqual(cs(['a'], ['b']));
    expect(apply(cs(['a'], ['b']), { changes: [{ type: 'removeNode', nodeId: 'b' }] })).toEqual(cs(['a']));
  });

  it('enters joint consensus automatically for more than one voter change', () => {
    const joint = apply(cs(['a', 'b', 'c']), {
      changes: [
        { type: 'addVoter', nodeId: 'd' },
        { type: 'removeNode', nodeId: 'a' },
      ],
    });
    expect(joint).toEqual(cs(['b', 'c', 'd'], [], { votersOutgoing: ['a', 'b', 'c'], autoLeave: true }));
    const left = apply(joint as ConfState, { changes: [] });
    expect(left).toEqual(cs(['b', 'c', 'd']));
  });

  it('keeps a demoted outgoing voter voting until the joint configuration is left', () => {
    const joint = apply(cs(['a', 'b', 'c']), { changes: [{ type: 'addLearner', nodeId: 'c' }], transition: 'jointExplicit' });
    expect(joint).toEqual(cs(['a', 'b'], [], { votersOutgoing: ['a', 'b', 'c'], learnersNext: ['c'] }));
    expect(apply(joint as ConfState, { changes: [] })).toEqual(cs(['a', 'b'], ['c']));
  });

  it.each([
    ['removing the last voter', cs(['a']), { changes: [{ type: 'removeNode', nodeId: 'a' }] }, /every voter/],
    ['leaving a joint configuration that is not joint', cs(['a']), { changes: [] }, /not in a joint/],
    [
      'a change while joint',
      cs(['b'], [], { votersOutgoing: ['a'] }),
      { changes: [{ type: 'addVoter', nodeId: 'c' }] },
      /already in a joint/,
    ],
    ['a change naming nobody', cs(['a']), { changes: [{ type: 'addVoter', nodeId: '' }] }, /names no node/],
  ] as const)('refuses %s', (_name, from, change, reason) => {
    expect(apply(from, change as unknown as ConfChange)).toMatch(reason);
  });
});
