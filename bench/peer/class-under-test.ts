// A class of headless laptops for bench/peer.ts, and the few things the phases do with it:
// create it, find its leader, wait until every laptop has applied the same index, write.
import type { HeadlessCluster, NodeHandle } from '../../test/integration/headless-cluster';
import { cpuSeconds } from '../proc-stats';
import { answerFrom, live, pidOf, progress, until } from './harness';

/** etcd's benchmark uses 8-byte keys and 256-byte values. */
const VALUE = 'v'.repeat(256);

export interface ClassUnderTest {
  cluster: HeadlessCluster;
  classId: string;
  joinCode: string;
  /** Writes of this benchmark the class has applied (as their callers were told). */
  writesApplied: number;
}

let nextKey = 0;
const newKey = () => `k${(nextKey++).toString(36)}`;

/** Start `names` as nodes, `parallel` at a time (start-up is CPU-bound: a few at once is fastest). */
export async function addNodes(cluster: HeadlessCluster, names: string[], parallel: number): Promise<NodeHandle[]> {
  const added: NodeHandle[] = [];
  for (let i = 0; i < names.length; i += parallel) {
    added.push(...(await Promise.all(names.slice(i, i + parallel).map((name) => cluster.add(name)))));
  }
  return added;
}

/** Each of `from` learns the address of each of `to` (discovery is off on loopback). */
export async function connect(from: NodeHandle[], to: NodeHandle[]): Promise<void> {
  await Promise.all(
    from.map(async (a) => {
      for (const b of to) {
        if (a === b) continue;
        await answerFrom(a, 'addPeerAddress', a.api.methods.addPeerAddress({ address: `${b.laptopId}@127.0.0.1:${b.transportPort}` }));
      }
    }),
  );
}

/** A class on `size` new laptops, the first its teacher; resolves once the autopilot has its voters. */
export async function classOf(cluster: HeadlessCluster, size: number, deadline: number): Promise<ClassUnderTest> {
  const started = Date.now();
  await addNodes(cluster, ['teacher'], 1);
  await addNodes(cluster, Array.from({ length: size - 1 }, (_, i) => `student-${i + 1}`), 4);
  progress(`${size} nodes started`, started);
  await connect(cluster.nodes, cluster.nodes);
  progress('every laptop knows every address', started);
  return classAmong(cluster, cluster.nodes, deadline, started);
}

/** A new class whose teacher is `laptops[0]` and whose students are the rest, already connected. */
export async function classAmong(cluster: HeadlessCluster, laptops: NodeHandle[], deadline: number, started = Date.now()): Promise<ClassUnderTest> {
  const [teacher, ...students] = laptops;
  const { classId, joinCode } = await answerFrom(teacher!, 'createClass', teacher!.api.methods.createClass({ name: 'Benchmark' }));
  for (const node of students) await answerFrom(node, 'joinClass', node.api.methods.joinClass({ joinCode }));
  progress('every laptop asked to join', started);
  const size = laptops.length;
  const voters = Math.min(size, size >= 10 ? 5 : 3);
  let members = '';
  await until(`${voters} voters and ${size} members`, deadline, async () => {
    const status = (await answerFrom(teacher!, 'status', teacher!.api.methods.status({}))).classes.find((c) => c.classId === classId)!;
    members = `${status.voters.length} voters, ${status.learners.length} learners`;
    return status.voters.length === voters && status.voters.length + status.learners.length === size;
  }, 250).catch((error: Error) => {
    throw new Error(`${error.message}; last seen ${members}`);
  });
  progress(`class of ${size}: ${members}`, started);
  return { cluster, classId, joinCode, writesApplied: 0 };
}

export async function leaderOf(test: ClassUnderTest, deadline: number): Promise<NodeHandle> {
  return until('a leader', deadline, async () => {
    for (const node of live(test.cluster)) {
      const status = (await node.api.methods.status({})).classes.find((c) => c.classId === test.classId);
      if (status?.role === 'leader') return node;
    }
    return null;
  });
}

/** The applied index `node` reports through a local read (cheap, unlike `status`, which hashes the state). */
export async function appliedIndex(node: NodeHandle, classId: string): Promise<number> {
  return (await node.api.methods.read({ classId, key: 'bench:probe' })).appliedIndex;
}

/** Every running node has applied the same index, twice in a row; resolves with it. */
export async function settled(test: ClassUnderTest, deadline: number): Promise<number> {
  let previous = -1;
  return until('every laptop at the same applied index', deadline, async () => {
    const indexes = await Promise.all(live(test.cluster).map((node) => appliedIndex(node, test.classId)));
    const same = indexes.every((i) => i === indexes[0]);
    const stable = same && indexes[0] === previous;
    previous = same ? indexes[0]! : -1;
    return stable ? indexes[0]! : null;
  }, 200);
}

/** One small put of a new key through `node`; true once applied there, false when left pending. */
export async function write(test: ClassUnderTest, node: NodeHandle, waitMs = 5_000): Promise<boolean> {
  const result = await node.api.methods.write({ classId: test.classId, command: { op: 'put', key: newKey(), value: VALUE }, waitMs });
  if (result.status !== 'applied') return false;
  test.writesApplied++;
  return true;
}

/** Each node's CPU seconds so far (NaN once it is gone). */
export function cpuOf(nodes: NodeHandle[]): number[] {
  return nodes.map((node) => cpuSeconds(pidOf(node)) ?? NaN);
}
