// The two small policies under the transport: the bounded send queue and the redial backoff.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../electron/raft/index';
import { backoffDelay, DEFAULT_BACKOFF } from '../../../electron/peer/transport/backoff';
import { SendQueue } from '../../../electron/peer/transport/send-queue';
import { testSeed } from './random-messages';

describe('SendQueue', () => {
  it('holds frames up to its byte limit and refuses the rest', () => {
    const queue = new SendQueue(100);
    expect(queue.push(new Uint8Array(60))).toBe(true);
    expect(queue.push(new Uint8Array(50))).toBe(false);
    expect(queue.push(new Uint8Array(40))).toBe(true);
    expect(queue.bytes).toBe(100);
    expect(queue.shift()?.byteLength).toBe(60);
    expect(queue.push(new Uint8Array(50))).toBe(true);
    expect([queue.shift()?.byteLength, queue.shift()?.byteLength, queue.shift()]).toEqual([40, 50, undefined]);
    expect(queue.bytes).toBe(0);
  });

  it('keeps its order and its accounting across many pushes and shifts', () => {
    const seed = testSeed('send queue');
    const random = seededRandom(seed);
    const queue = new SendQueue(10_000);
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 20_000; step++) {
      if (random() < 0.55) {
        const frame = new Uint8Array(1 + Math.floor(random() * 300));
        frame[0] = next % 256;
        if (queue.push(frame)) model.push(next++ % 256);
      } else {
        expect(queue.shift()?.[0], `seed ${seed} step ${step}`).toBe(model.shift());
      }
      expect(queue.bytes).toBeLessThanOrEqual(10_000);
      expect(queue.length).toBe(model.length);
    }
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([0, 1, 2, 3, 10, 100].map((attempt) => backoffDelay(noJitter, attempt, () => 0.7))).toEqual([250, 500, 1000, 2000, 30_000, 30_000]);
  });

  it('jitters within [delay × (1 − jitter), delay]', () => {
    const seed = testSeed('backoff jitter');
    const random = seededRandom(seed);
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(30_000, 250 * 2 ** attempt);
      for (let i = 0; i < 100; i++) {
        const delay = backoffDelay(DEFAULT_BACKOFF, attempt, random);
        expect(delay, `seed ${seed}`).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay, `seed ${seed}`).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});
