// SIGTERM and SIGINT stop a laptop gracefully: a leader hands leadership to another voter before
// it goes, so the class doesn't sit out an election timeout, and the process exits 0. Clients keep
// writing through the other laptops all along; no acknowledged write is lost, and the stopped
// laptop, started again on the same data directory, catches up. Real processes on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassStatus } from '../../shared/api';
import { classStatus, converged, expectEveryKeyOn, formClass, leaderOf, WriteLoad } from './class-helpers';
import { eventually, HeadlessCluster, type NodeHandle } from './headless-cluster';

// Upper bounds only, loose enough for a loaded 2-core CI machine: the hand-off waits at most 2 s,
// and the rest of a shutdown takes milliseconds. How fast it really is, is for benchmarks to say.
const EXIT_WITHIN_MS = 10_000;

let cluster: HeadlessCluster | null = null;
afterEach(async () => {
  await cluster?.destroy();
  cluster = null;
});

/** A class of 3 whose nodes log at info, where the hand-off is reported. */
async function classOfThree(): Promise<{ cluster: HeadlessCluster; classId: string }> {
  const c = new HeadlessCluster({ logLevel: 'info' });
  cluster = c;
  const { classId } = await formClass(c, 3);
  return { cluster: c, classId };
}

/** The laptop `node` said it handed leadership to, from its log; null if it said nothing. */
function handedOffTo(node: NodeHandle): string | null {
  const record = node.logs.find((r) => r.message.startsWith('leadership hand'));
  if (!record) return null;
  expect(record.message, `${node.name} gave up leadership in time`).toBe('leadership handed off');
  return record.fields?.['to'] as string;
}

/** The Raft states `node` went through, in order, from its log. */
function raftStates(node: NodeHandle): Pick<ClassStatus, 'role' | 'leader' | 'term'>[] {
  return node.logs.filter((r) => r.message === 'raft state').map((r) => r.fields as Pick<ClassStatus, 'role' | 'leader' | 'term'>);
}

/** Start `node` again on its data directory: it is still a voter and catches up with everyone. */
async function restartAndCatchUp(c: HeadlessCluster, node: NodeHandle, classId: string, acknowledged: Set<string>): Promise<void> {
  await c.start(node);
  const statuses = await converged(c.nodes);
  expect(new Set(statuses.map((s) => s.digest)).size).toBe(1);
  for (const status of statuses) expect(status.voters).toContain(node.laptopId);
  await expectEveryKeyOn([node], classId, acknowledged);
}

describe('stopping a laptop with a signal', () => {
  it('SIGTERM on the leader hands leadership to a survivor, exits 0 and loses no acknowledged write', async () => {
    const { cluster: c, classId } = await classOfThree();
    const leader = await leaderOf(c);
    const survivors = c.nodes.filter((n) => n !== leader);
    const load = new WriteLoad(classId, 3, () => survivors);
    await load.moreAcknowledged(10);
    const before = await classStatus(leader);
    expect(before, 'the laptop about to be stopped still leads').toMatchObject({ role: 'leader', leader: leader.laptopId });

    const exit = await c.stop(leader, 'SIGTERM');

    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.elapsedMs).toBeLessThan(EXIT_WITHIN_MS);
    // Signs of a hand-off rather than an election, which no clock can blur: the stopping leader
    // named its successor before it went, and that survivor leads in the very next term.
    const successor = handedOffTo(leader);
    expect(successor, `${leader.name} logged a hand-off`).not.toBeNull();
    const successorNode = survivors.find((n) => n.laptopId === successor);
    expect(successorNode, `${successor} is one of the survivors`).toBeDefined();
    const after = await Promise.all(
      survivors.map((node) =>
        eventually(`${node.name} following ${successor}`, async () => {
          const status = await classStatus(node);
          return status.leader === successor && status;
        }),
      ),
    );
    for (const status of after) expect(status).toMatchObject({ leader: successor, term: before.term + 1 });
    // And the successor campaigned without pre-voting: a follower whose election timer ran out
    // pre-votes first; only the leader's TimeoutNow makes it campaign at once.
    const campaign = await eventually(`${successorNode!.name} logging its leadership`, async () => {
      const states = raftStates(successorNode!);
      const lastUnderOldLeader = states.findLastIndex((s) => s.leader === leader.laptopId);
      const since = states.slice(lastUnderOldLeader + 1);
      return since.some((s) => s.role === 'leader') && since;
    });
    expect(campaign.map((s) => s.role)).not.toContain('preCandidate');
    expect(campaign).toContainEqual({ role: 'leader', leader: successor, term: before.term + 1 });

    await load.moreAcknowledged(10);
    await load.stop();
    console.log(`SIGTERM on the leader: exited in ${Math.round(exit.elapsedMs)} ms; ${load.acknowledged.size} of ${load.attempted} writes acknowledged`);
    const statuses = await converged(survivors);
    expect(statuses[0]!.digest).toBe(statuses[1]!.digest);
    await expectEveryKeyOn(survivors, classId, load.acknowledged);

    await restartAndCatchUp(c, leader, classId, load.acknowledged);
  }, 120_000);

  it('SIGINT on a follower exits 0 and leaves the leader and its term alone while writes go on', async () => {
    const { cluster: c, classId } = await classOfThree();
    const leader = await leaderOf(c);
    const follower = c.nodes.find((n) => n !== leader)!;
    const others = c.nodes.filter((n) => n !== follower);
    const load = new WriteLoad(classId, 3, () => others);
    await load.moreAcknowledged(10);
    const before = await classStatus(leader);
    expect(before, 'the leader still leads').toMatchObject({ role: 'leader', leader: leader.laptopId });

    const exit = await c.stop(follower, 'SIGINT');

    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.elapsedMs).toBeLessThan(EXIT_WITHIN_MS);
    // A follower has no leadership to hand over.
    expect(handedOffTo(follower)).toBeNull();
    await load.moreAcknowledged(10);
    for (const node of others) {
      expect(await classStatus(node), node.name).toMatchObject({ leader: leader.laptopId, term: before.term });
    }
    await load.stop();
    console.log(`SIGINT on a follower: exited in ${Math.round(exit.elapsedMs)} ms; ${load.acknowledged.size} of ${load.attempted} writes acknowledged`);
    const statuses = await converged(others);
    expect(statuses[0]!.digest).toBe(statuses[1]!.digest);
    await expectEveryKeyOn(others, classId, load.acknowledged);

    await restartAndCatchUp(c, follower, classId, load.acknowledged);
  }, 120_000);
});
