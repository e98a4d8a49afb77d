// One seed per property-test file, so a failing run can be replayed exactly: QUORUM_FUZZ_SEED when
// it is set, else a fresh one. Every fc.assert of the file takes it, and it is printed first.

/** The seed for `file`'s properties; printed with the command that replays the run. */
export function propertySeed(file: string): number {
  const fromEnv = process.env['QUORUM_FUZZ_SEED'];
  const seed = fromEnv === undefined || fromEnv === '' ? Math.floor(Math.random() * 2 ** 31) : Number(fromEnv);
  // fast-check would quietly rescale a fraction or NaN into some other seed: not a replay.
  if (!Number.isSafeInteger(seed)) throw new Error(`QUORUM_FUZZ_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
  console.log(`property seed ${seed} (replay with QUORUM_FUZZ_SEED=${seed} npx vitest run ${file})`);
  return seed;
}
