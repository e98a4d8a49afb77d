// What bench/peer.ts records about the machine it ran on: hardware, load, the temp folder's file
// system and how long an fdatasync takes there, and the memory of an empty Node process.
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { median, round } from './harness';

/** Median time of one small write + fdatasync in the temp folder: what each SQLite commit waits for. */
function fsyncProbe(): number {
  const file = join(tmpdir(), `quorum-fsync-probe-${process.pid}`);
  const fd = openSync(file, 'w');
  const times: number[] = [];
  try {
    const block = Buffer.alloc(256, 1);
    for (let i = 0; i < 200; i++) {
      const start = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return round(median(times), 3);
}

/** Resident memory of an empty Node process, and with the tsx loader (what a node run from its sources adds). */
function runtimeBaselineMiB(root: string) {
  const rss = (args: string[]) => {
    try {
      const out = execFileSync(process.execPath, [...args, '-e', 'console.log(process.memoryUsage().rss)'], { cwd: root, timeout: 20_000 });
      return round(Number(out.toString().trim()) / 2 ** 20);
    } catch {
      return NaN;
    }
  };
  return { node: rss([]), nodeWithTsx: rss(['--import', 'tsx']) };
}

function commit(root: string): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, timeout: 5_000 }).toString().trim();
  } catch {
    return 'unknown';
  }
}

function fileSystemOf(dir: string): string {
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' '));
    const contains = (mountPoint: string) => dir === mountPoint || dir.startsWith(mountPoint === '/' ? '/' : `${mountPoint}/`);
    const best = mounts.filter((m) => m[1] && contains(m[1])).sort((a, b) => b[1]!.length - a[1]!.length)[0];
    return best ? `${best[0]} (${best[2]}) on ${best[1]}` : 'unknown';
  } catch {
    return 'unknown'; // not Linux
  }
}

export function machine(root: string) {
  return {
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30),
    loadAverageAtStart: loadavg().map((l) => round(l, 2)),
    tmpdir: tmpdir(),
    fileSystem: fileSystemOf(tmpdir()),
    fdatasyncMedianMs: fsyncProbe(),
    runtimeBaselineMiB: runtimeBaselineMiB(root),
    commit: commit(root),
  };
}
export type Machine = ReturnType<typeof machine>;

/** The machine as a benchmark report opens with it: what the figures below depend on. */
export function describeMachine(m: Machine, loadAverageAtEnd: number[] | undefined): string[] {
  return [
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; commit ${m.commit.slice(0, 10)}`,
    `         temp folder ${m.fileSystem}, fdatasync p50 ${m.fdatasyncMedianMs} ms; load average ${m.loadAverageAtStart.join(' ')} at start, ${loadAverageAtEnd?.join(' ')} at end`,
    `         the benchmark client and every node share these ${m.cores} cores`,
  ];
}
