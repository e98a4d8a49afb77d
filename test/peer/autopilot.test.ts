// The membership autopilot on a real Raft group (one voter, real SQLite): laptops that ask to
// join together are admitted together.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../electron/raft';
import { AdmissionRefusedError, Autopilot } from '../../electron/peer/autopilot';
import { RaftGroup } from '../../electron/peer/group/raft-group';
import { ReplicatedKeyValue } from '../../electron/peer/routing/replicated-key-value';
import { SqliteStorage } from '../../electron/peer/storage';
import { silentLogger } from '../../electron/peer/transport';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function teacherAlone(excluded: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-autopilot-'));
  const storage = SqliteStorage.open(join(dir, 'class.sqlite'), new ReplicatedKeyValue());
  storage.bootstrap(['teacher']);
  const group = new RaftGroup({
    laptopId: 'teacher',
    storage,
    send: () => {},
    random: seededRandom(7),
    tickMs: 5,
    electionTicks: 10,
    heartbeatTicks: 1,
    compaction: { entries: 10_000, bytes: 1 << 24 },
    logger: silentLogger,
  });
  group.start();
  const autopilot = new Autopilot(group as RaftGroup<unknown>, () => [], silentLogger, { intervalMs: 10, excluded: () => excluded });
  cleanups.push(() => {
    group.stop();
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { group, storage, autopilot };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('admitting laptops', () => {
  it('admits thirty laptops asking at once in a few membership changes, not thirty', async () => {
    const { group, storage, autopilot } = teacherAlone();
    await until(() => group.isLeader());
    const students = Array.from({ length: 30 }, (_, i) => `student-${String(i).padStart(2, '0')}`);
    const indexes = await Promise.all(students.map((id) => autopilot.admit(id)));
    expect(group.status().config.learners).toEqual(students);
    const changes = storage.entries(storage.firstIndex(), storage.lastIndex() + 1).filter((e) => e.type === 'confChange');
    // The bootstrap's own voter, the first asker alone, then everyone who asked meanwhile.
    expect(changes.length).toBeLessThanOrEqual(3);
    expect(indexes.every((index) => index <= storage.appliedIndex())).toBe(true);
  });

  it('answers a member at once, and a laptop asking twice once', async () => {
    const { group, storage, autopilot } = teacherAlone();
    await until(() => group.isLeader());
    const [first, again] = await Promise.all([autopilot.admit('ana'), autopilot.admit('ana')]);
    expect(first).toBe(again);
    const before = storage.lastIndex();
    await autopilot.admit('ana');
    await autopilot.admit('teacher');
    expect(storage.lastIndex()).toBe(before);
  });

  it('refuses a removed member’s laptop, and takes it out of the group if it is in', async () => {
    const excluded: string[] = [];
    const { group, autopilot } = teacherAlone(excluded);
    await until(() => group.isLeader());
    await autopilot.admit('ben');
    excluded.push('ben');
    await expect(autopilot.admit('ben')).rejects.toBeInstanceOf(AdmissionRefusedError);
    autopilot.start();
    await until(() => !group.status().config.learners.includes('ben'));
    autopilot.stop();
  });
});
