// The randomized nemesis (sim/nemesis.ts) over many seeds.
//   QUORUM_NEMESIS_SEEDS=N   run N seeds (default 2,000)
//   QUORUM_NEMESIS_FIRST=F   starting at seed F (default 1), to explore beyond CI's range
//   QUORUM_NEMESIS_SEED=S    replay seed S alone, printing every fault injected

import { describe, expect, it } from 'vitest';
import { runNemesis, type NemesisReport } from './sim/nemesis';

const replaySeed = process.env.QUORUM_NEMESIS_SEED;
const seedCount = Number(process.env.QUORUM_NEMESIS_SEEDS ?? 2000);
const firstSeed = Number(process.env.QUORUM_NEMESIS_FIRST ?? 1);
const seeds = replaySeed !== undefined ? [Number(replaySeed)] : Array.from({ length: seedCount }, (_, i) => firstSeed + i);
const replay = (seed: number) => `QUORUM_NEMESIS_SEED=${seed} npx vitest run test/raft/nemesis.test.ts`;

describe('nemesis', () => {
  it(`keeps Raft safe and live under partitions, crashes, loss and membership changes (seeds ${seeds[0]}..${seeds.at(-1)})`, () => {
    const started = Date.now();
    console.log(`nemesis: running seeds ${seeds[0]}..${seeds.at(-1)} (${seeds.length} seeds)`);
    const failures: string[] = [];
    const failedSeeds: number[] = [];
    const totals = { ticks: 0, proposals: 0, committed: 0, crashes: 0, partitions: 0, confChanges: 0, reads: 0, snapshots: 0, terms: 0 };
    for (const seed of seeds) {
      const trace = replaySeed !== undefined ? (line: string) => console.log(line) : undefined;
      let report: NemesisReport;
      try {
        report = runNemesis(seed, { trace });
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        failures.push(`seed ${seed}: ${message}\n  replay: ${replay(seed)}`);
        failedSeeds.push(seed);
        continue;
      }
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += report[key];
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`nemesis: seeds ${seeds[0]}..${seeds.at(-1)} done in ${seconds}s; ${failures.length} failed; totals ${JSON.stringify(totals)}`);
    if (failures.length > 0) {
      const shown = failures.slice(0, 5).join('\n\n');
      const more = failures.length > 5 ? `\n\n…and ${failures.length - 5} more failing seeds: ${failedSeeds.slice(5).join(', ')}` : '';
      expect.fail(`${failures.length} of ${seeds.length} nemesis seeds failed:\n\n${shown}${more}`);
    }
  }, 900_000);
});
