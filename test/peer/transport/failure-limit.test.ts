// The failure limit on its own: a host is turned away after `max` failures within the window, and
// let back as its failures age out; other hosts are not affected; the table stays bounded.
import { describe, expect, it } from 'vitest';
import { FailureLimit } from '../../../electron/peer/transport/failure-limit';

describe('FailureLimit', () => {
  it('turns a host away after max failures within the window, and lets it back as they age out', () => {
    const limit = new FailureLimit({ max: 3, windowMs: 1000 });
    for (const at of [0, 100, 200]) {
      expect(limit.blocked('10.0.0.9', at)).toBe(false);
      limit.record('10.0.0.9', at);
    }
    expect(limit.blocked('10.0.0.9', 300)).toBe(true);
    expect(limit.blocked('10.0.0.10', 300)).toBe(false);
    expect(limit.blocked('10.0.0.9', 1000)).toBe(false); // the first failure left the window
    limit.record('10.0.0.9', 1000);
    expect(limit.blocked('10.0.0.9', 1001)).toBe(true);
    expect(limit.blocked('10.0.0.9', 2300)).toBe(false);
  });

  it('remembers a bounded number of hosts, forgetting the stalest', () => {
    const limit = new FailureLimit({ max: 1, windowMs: 60_000 });
    for (let i = 0; i < 5000; i++) limit.record(`host-${i}`, i);
    expect(limit.blocked('host-4999', 5000)).toBe(true);
    expect(limit.blocked('host-0', 5000)).toBe(false);
  });
});
