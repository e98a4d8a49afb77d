import { describe, expect, it } from 'vitest';
import { Inflights } from './inflights';

describe('the in-flight window', () => {
  it('is full at its message count and frees acknowledged messages', () => {
    const window = new Inflights(3, 1_000);
    window.add(1, 10);
    window.add(2, 10);
    expect(window.full()).toBe(false);
    window.add(5, 10);
    expect(window.full()).toBe(true);
    window.freeLE(2);
    expect(window.count).toBe(1);
    expect(window.full()).toBe(false);
  });

  it('is full at its byte budget', () => {
    const window = new Inflights(100, 50);
    window.add(1, 30);
    expect(window.full()).toBe(false);
    window.add(2, 30);
    expect(window.full()).toBe(true);
    window.freeLE(1);
    expect(window.full()).toBe(false);
  });
});
