// The idle phase of bench/peer.ts: a class of 31 laptops doing nothing, measured per laptop from
// outside: CPU time (/proc/<pid>/stat), TCP payload bytes of the transport's sockets (`ss`), bytes
// through read/write system calls (/proc/<pid>/io) and the loopback interface, resident memory.
// The API does not expose the transport's own byte counters.
import type { HeadlessCluster } from '../../test/integration/headless-cluster';
import { ioChars, loopbackBytes, memory, socketBytes, socketBytesBetween } from '../proc-stats';
import { classOf, cpuOf, settled } from './class-under-test';
import { median, pidOf, round, sleep } from './harness';
import { roundMemory } from './load-phases';

export const IDLE_LAPTOPS = 31;
const IDLE_SECONDS = 20;

export async function measureIdle(cluster: HeadlessCluster, deadline: number) {
  const setupStarted = Date.now();
  const test = await classOf(cluster, IDLE_LAPTOPS, deadline);
  await settled(test, deadline);
  const setupSeconds = (Date.now() - setupStarted) / 1000;
  await sleep(5_000); // the last joins' catch-up and promotions finish

  const nodes = cluster.nodes;
  const pids = new Set(nodes.map(pidOf));
  const ports = new Set(nodes.map((node) => node.transportPort));
  const cpuBefore = cpuOf(nodes);
  const ioBefore = nodes.map((node) => ioChars(pidOf(node)));
  const socketsBefore = socketBytes(pids, ports);
  const loopbackBefore = loopbackBytes();
  const started = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const cpuAfter = cpuOf(nodes);
  const ioAfter = nodes.map((node) => ioChars(pidOf(node)));
  const socketsAfter = socketBytes(pids, ports);
  const loopbackAfter = loopbackBytes();
  const seconds = (performance.now() - started) / 1000;

  const status = (await nodes[0]!.api.methods.status({})).classes.find((c) => c.classId === test.classId)!;
  const bytes = socketBytesBetween(socketsBefore, socketsAfter);
  const perLaptop = nodes.map((node, i) => {
    const sockets = bytes.get(pidOf(node)) ?? { sent: 0, received: 0 };
    const before = ioBefore[i];
    const after = ioAfter[i];
    return {
      node: node.name,
      role: node.laptopId === status.leader ? 'leader' : status.voters.includes(node.laptopId) ? 'voter' : 'learner',
      cpuPercentOfOneCore: round(((cpuAfter[i]! - cpuBefore[i]!) / seconds) * 100, 2),
      sentBytesPerSecond: round(sockets.sent / seconds),
      receivedBytesPerSecond: round(sockets.received / seconds),
      syscallWriteBytesPerSecond: before && after ? round((after.wchar - before.wchar) / seconds) : null,
      syscallReadBytesPerSecond: before && after ? round((after.rchar - before.rchar) / seconds) : null,
      rssMiB: roundMemory(memory(pidOf(node))).rssMiB,
    };
  });
  const leader = perLaptop.find((l) => l.role === 'leader') ?? null;
  const others = perLaptop.filter((l) => l.role !== 'leader');
  const spread = (pick: (l: (typeof perLaptop)[number]) => number) => ({
    median: round(median(perLaptop.map(pick)), 2),
    mean: round(perLaptop.reduce((sum, l) => sum + pick(l), 0) / perLaptop.length, 2),
    max: round(Math.max(...perLaptop.map(pick)), 2),
    leader: leader ? pick(leader) : null,
    othersMedian: round(median(others.map(pick)), 2),
  });
  return {
    laptops: nodes.length,
    voters: status.voters.length,
    learners: status.learners.length,
    setupSeconds: round(setupSeconds),
    seconds: round(seconds),
    cpuPercentOfOneCore: spread((l) => l.cpuPercentOfOneCore),
    tcpBytesPerSecond: spread((l) => l.sentBytesPerSecond + l.receivedBytesPerSecond),
    tcpSentBytesPerSecond: spread((l) => l.sentBytesPerSecond),
    // The whole machine's loopback, headers included: other programs' traffic counts too.
    loopbackBytesPerSecondPerLaptop:
      loopbackBefore !== null && loopbackAfter !== null ? round((loopbackAfter - loopbackBefore) / seconds / nodes.length) : null,
    rssMiB: spread((l) => l.rssMiB),
    perLaptop,
  };
}
