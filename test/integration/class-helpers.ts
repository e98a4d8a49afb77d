// A class on a HeadlessCluster, for integration tests: formed the way a teacher and students form
// one, written to by clients that remember which writes were acknowledged, and checked for
// replicas that agree.
import { expect } from 'vitest';
import type { ClassStatus } from '../../shared/api';
import { eventually, type HeadlessCluster, type NodeHandle } from './headless-cluster';

/**
 * Start `size` nodes and form a class: the first ("teacher") creates it, the others join with
 * its join code. Resolves once the autopilot has promoted the voters it wants.
 */
export async function formClass(cluster: HeadlessCluster, size: number): Promise<{ classId: string }> {
  const teacher = await cluster.add('teacher');
  const { classId, joinCode } = await teacher.api.methods.createClass({ name: 'Chemistry' });
  for (let i = 1; i < size; i++) await cluster.add(`student-${i}`);
  await cluster.connectAll();
  for (const node of cluster.nodes.slice(1)) await node.api.methods.joinClass({ joinCode });
  const voters = Math.min(size, size >= 10 ? 5 : 3);
  await eventually(
    `${voters} voters and every laptop a member`,
    async () => {
      const status = await classStatus(teacher);
      return status.voters.length === voters && status.voters.length + status.learners.length === size;
    },
    30_000,
  );
  return { classId };
}

/** The status of the one class `node` belongs to. */
export async function classStatus(node: NodeHandle): Promise<ClassStatus> {
  const status = (await node.api.methods.status({})).classes[0];
  if (!status) throw new Error(`${node.name} belongs to no class`);
  return status;
}

/** The running node that says it leads the class. */
export async function leaderOf(cluster: HeadlessCluster): Promise<NodeHandle> {
  return eventually('a leader', async () => {
    for (const node of cluster.nodes) {
      if (!node.process) continue;
      if ((await classStatus(node)).role === 'leader') return node;
    }
    return null;
  });
}

/**
 * Clients writing distinct keys, one write at a time each, through the nodes `through` names at
 * the moment of each write (in turn). A write counts as acknowledged only when its node answered
 * `applied`; one that failed or stayed pending may still apply, and is not counted.
 */
export class WriteLoad {
  readonly acknowledged = new Set<string>();
  attempted = 0;
  private writing = true;
  private readonly clients: Promise<void>[];

  constructor(
    private readonly classId: string,
    clientCount: number,
    private readonly through: () => NodeHandle[],
  ) {
    this.clients = Array.from({ length: clientCount }, (_, client) => this.runClient(client));
  }

  /** Resolves once `count` more writes than now have been acknowledged. */
  async moreAcknowledged(count: number, timeoutMs = 20_000): Promise<void> {
    const target = this.acknowledged.size + count;
    await eventually(`${count} more acknowledged writes`, async () => this.acknowledged.size >= target, timeoutMs);
  }

  /** Stop writing; resolves when every client's last write has been answered. */
  async stop(): Promise<void> {
    this.writing = false;
    await Promise.all(this.clients);
  }

  private async runClient(client: number): Promise<void> {
    while (this.writing) {
      const nodes = this.through();
      const attempt = this.attempted++;
      const node = nodes[(client + attempt) % nodes.length]!;
      const key = `client${client}-${attempt}`;
      try {
        const command = { op: 'put' as const, key, value: String(attempt) };
        const result = await node.api.methods.write({ classId: this.classId, command, waitMs: 2000 });
        if (result.status === 'applied') this.acknowledged.add(key);
      } catch {
        // The node stopped under us: the write may or may not apply, and is not acknowledged.
      }
    }
  }
}

/** Waits until `nodes` agree: the same applied index and digest, and nothing left in an outbox. */
export async function converged(nodes: NodeHandle[], timeoutMs = 30_000): Promise<ClassStatus[]> {
  return eventually(
    `${nodes.map((node) => node.name).join(', ')} at the same applied index and digest`,
    async () => {
      const all = await Promise.all(nodes.map(classStatus));
      return all.every((s) => s.digest === all[0]!.digest && s.applied === all[0]!.applied && s.outbox === 0) && all;
    },
    timeoutMs,
  );
}

/** Every key has a value on every node. */
export async function expectEveryKeyOn(nodes: NodeHandle[], classId: string, keys: Iterable<string>): Promise<void> {
  for (const node of nodes) {
    for (const key of keys) {
      const read = await node.api.methods.read({ classId, key });
      expect(read.value, `${key} on ${node.name}`).not.toBeNull();
    }
  }
}
