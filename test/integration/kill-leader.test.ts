// The leader's laptop dies (kill -9) in the middle of a stream of writes from several clients,
// again and again. Afterwards every acknowledged write is on every laptop and all replicas
// have the same digest. Real processes, real WebSockets, real SQLite files.
import { afterEach, describe, expect, it } from 'vitest';
import { converged, expectEveryKeyOn, formClass, leaderOf, WriteLoad } from './class-helpers';
import { HeadlessCluster } from './headless-cluster';

let cluster: HeadlessCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

async function killLeaderDuringWrites(size: number, rounds: number): Promise<void> {
  const c = new HeadlessCluster();
  cluster = c;
  const { classId } = await formClass(c, size);
  const load = new WriteLoad(classId, 4, () => c.nodes.filter((n) => n.process));

  for (let round = 0; round < rounds; round++) {
    await new Promise((r) => setTimeout(r, 1500));
    const leader = await leaderOf(c);
    await c.kill(leader);
    // The others keep accepting writes without it.
    await load.moreAcknowledged(5);
    await c.start(leader);
  }
  await load.stop();
  console.log(`${size} laptops, ${rounds} leaders killed: ${load.acknowledged.size} writes acknowledged of ${load.attempted} attempted`);
  expect(load.acknowledged.size).toBeGreaterThan(20);

  const statuses = await converged(c.nodes);
  expect(new Set(statuses.map((s) => s.digest)).size).toBe(1);
  await expectEveryKeyOn(c.nodes, classId, load.acknowledged);
}

describe('killing the leader with kill -9 during writes', () => {
  it('loses no acknowledged write on a class of 3 laptops', async () => {
    await killLeaderDuringWrites(3, 3);
  }, 180_000);

  it('loses no acknowledged write on a class of 5 laptops', async () => {
    await killLeaderDuringWrites(5, 2);
  }, 180_000);
});
