// Whether the LAN tests can run here. Locally they are skipped with a loud banner when they
// cannot (not root, no namespaces); in CI (process.env.CI set) they must run, so the caller turns
// "unavailable" into a failing test instead of a skip.
import { available, type Availability } from './netns';

export interface LanSupport extends Availability {
  /** True when the tests must run: CI is set. */
  required: boolean;
}

export async function lanSupport(suite: string): Promise<LanSupport> {
  const availability = await available();
  const required = Boolean(process.env.CI);
  if (!availability.ok && !required) {
    const line = '!'.repeat(100);
    console.warn(
      `\n${line}\n!!! SKIPPING ${suite}: ${availability.reason}\n` +
        `!!! These tests build a LAN of network namespaces; run them as root on Linux (they FAIL when CI is set).\n${line}\n`,
    );
  }
  return { ...availability, required };
}
