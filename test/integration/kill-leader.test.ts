// The leader's laptop dies (kill -9) in the middle of a stream of writes from several clients,
// again and again. Afterwards every acknowledged write is on every laptop and all replicas
// have the same digest. Real processes, real WebSockets, real SQLite files.
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, HeadlessCluster, type NodeHandle } from './headless-cluster';

let cluster: HeadlessCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

async function classOf(size: number): Promise<{ cluster: HeadlessCluster; classId: string }> {
  const c = new HeadlessCluster();
  cluster = c;
  const teacher = await c.add('teacher');
  const { classId, joinCode } = await teacher.api.methods.createClass({ name: 'Chemistry' });
  for (let i = 1; i < size; i++) await c.add(`student-${i}`);
  await c.connectAll();
  for (const node of c.nodes.slice(1)) await node.api.methods.joinClass({ joinCode });
  const voters = Math.min(size, size >= 10 ? 5 : 3);
  await eventually(`${voters} voters and every laptop a member`, async () => {
    const status = (await teacher.api.methods.status({})).classes[0]!;
    return status.voters.length === voters && status.voters.length + status.learners.length === size;
  }, 30_000);
  return { cluster: c, classId };
}

async function leaderOf(c: HeadlessCluster): Promise<NodeHandle> {
  return eventually('a leader', async () => {
    for (const node of c.nodes) {
      if (!node.process) continue;
      const status = (await node.api.methods.status({})).classes[0];
      if (status?.role === 'leader') return node;
    }
    return null;
  });
}

async function killLeaderDuringWrites(size: number, rounds: number): Promise<void> {
  const { cluster: c, classId } = await classOf(size);
  const acknowledged = new Set<string>();
  let writing = true;
  let next = 0;
  const writer = async (client: number) => {
    while (writing) {
      const live = c.nodes.filter((n) => n.process);
      const node = live[(client + next) % live.length]!;
      const key = `client${client}-${next++}`;
      try {
        const result = await node.api.methods.write({ classId, command: { op: 'put', key, value: String(next) }, waitMs: 2000 });
        if (result.status === 'applied') acknowledged.add(key);
      } catch {
        // The node died under us: the write may or may not apply, and is not acknowledged.
      }
    }
  };
  const writers = Array.from({ length: 4 }, (_, i) => writer(i));

  for (let round = 0; round < rounds; round++) {
    await new Promise((r) => setTimeout(r, 1500));
    const leader = await leaderOf(c);
    const before = acknowledged.size;
    await c.kill(leader);
    // The others keep accepting writes without it.
    await eventually('writes commit without the old leader', async () => acknowledged.size > before + 5, 20_000);
    await c.start(leader);
  }
  writing = false;
  await Promise.all(writers);
  console.log(`${size} laptops, ${rounds} leaders killed: ${acknowledged.size} writes acknowledged of ${next} attempted`);
  expect(acknowledged.size).toBeGreaterThan(20);

  const statuses = await eventually('every replica at the same applied index and digest', async () => {
    const all = await Promise.all(c.nodes.map(async (n) => (await n.api.methods.status({})).classes[0]!));
    return all.every((s) => s.digest === all[0]!.digest && s.applied === all[0]!.applied && s.outbox === 0) && all;
  }, 30_000);
  expect(new Set(statuses.map((s) => s.digest)).size).toBe(1);

  for (const node of c.nodes) {
    for (const key of acknowledged) {
      const read = await node.api.methods.read({ classId, key });
      expect(read.value, `${key} on ${node.name}`).not.toBeNull();
    }
  }
}

describe('killing the leader with kill -9 during writes', () => {
  it('loses no acknowledged write on a class of 3 laptops', async () => {
    await killLeaderDuringWrites(3, 3);
  }, 180_000);

  it('loses no acknowledged write on a class of 5 laptops', async () => {
    await killLeaderDuringWrites(5, 2);
  }, 180_000);
});
