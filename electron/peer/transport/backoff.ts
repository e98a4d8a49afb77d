// How long to wait before dialing a laptop again. Exponential so a laptop that is away costs
// little; jittered so thirty laptops that lost the same Wi-Fi do not all redial in lockstep.

export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialDelayMs: number;
  /** Cap on the delay. */
  maxDelayMs: number;
  /** Growth per failed attempt. */
  multiplier: number;
  /** Fraction of the delay that is random, in [0, 1]: 0.5 draws from [delay/2, delay]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 250, maxDelayMs: 30_000, multiplier: 2, jitter: 0.5 };

/** The delay before retry number `attempt` (0 for the first), drawing jitter from `random` in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** attempt);
  return Math.round(ceiling * (1 - policy.jitter * random()));
}
