// A whole classroom on a LAN of network namespaces: a teacher and 30 students, each a real
// `quorum-node` in its own namespace, finding each other by real mDNS. The class forms, then
// survives packet loss and slow links, a laptop frozen for a minute, and the leader cut off.
//
// The tests run in order and build on each other (one class, formed in the first). Host 1 is the
// teacher, hosts 2..N+1 the students. QUORUM_LAN_STUDENTS=<n> runs fewer students for a quick
// local iteration; the default, and what CI runs, is 30. QUORUM_LAN_LOG_LEVEL=info sets the nodes'
// log level and QUORUM_LAN_LOG_DIR=<dir> keeps each node's log (stderr) there, written as it comes.
//
// When a wait runs long, the live output says what it is still waiting for every 15 s, and a laptop
// that does not answer is described down to the system call its node is stuck in; when a test
// fails, every laptop's last view and the tail of its log are printed, and so is any overflow of
// the kernel's ARP table since the LAN was built. Those two explained the hangs that once kept this
// suite opt-in: an ARP table too small for the LAN (see netns.ts) and a node deadlocked inside
// Node 20's crypto (see exportRawPublicKey in electron/peer/transport/identity.ts).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClassStatus, WriteResult } from '../../shared/api';
import { ClassroomLaptop } from './classroom-laptop';
import { lanSupport } from './lan-support';
import { Lan, neighbourTableOverflows } from './netns';
import { NotYet, waitUntil } from './waiting';

const support = await lanSupport('LAN classroom tests (test/lan/classroom.test.ts)');

describe.runIf(!support.ok && support.required)('LAN classroom in CI', () => {
  it('can create network namespaces (required when CI is set)', () => {
    throw new Error(`network namespaces are unavailable: ${support.reason}`);
  });
});

const STUDENTS = studentCount(process.env.QUORUM_LAN_STUDENTS);
const LAPTOPS = STUDENTS + 1;
/** The autopilot's rule, restated: 3 voters, or 5 once the class has 10 laptops or more. */
const EXPECTED_VOTERS = LAPTOPS >= 10 ? 5 : Math.min(3, LAPTOPS);
const TEACHER_HOST = 1;
/** How many laptops start at once: each loads the peer through tsx, which is CPU-bound. */
const START_CONCURRENCY = 8;
const FREEZE_MS = 60_000;
/** Raft's election timeout is 14 ticks of 50 ms; after this long a disruptive election would have shown. */
const SETTLE_MS = 3_000;
const WRITE_WAIT_MS = 30_000;
const JOIN_WAIT_MS = 180_000;
/** What a relayed API call may take beyond its own wait (the agent's timeout is 60 s). */
const CALL_SLACK_MS = 10_000;
/** How often a long wait reports what it is still waiting for. */
const PROGRESS_EVERY_MS = 15_000;
/** Each test's timeout covers the sum of its own waits, so a failure is always one of them, with its message. */
const MARGIN_MS = 60_000;

function studentCount(text: string | undefined): number {
  if (text === undefined || text === '') return 30;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 2 || count > 200) throw new RangeError(`QUORUM_LAN_STUDENTS must be 2 to 200, not ${text}`);
  return count;
}

const startedAt = Date.now();
function progress(message: string): void {
  console.info(`[classroom +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}`);
}

/** The ARP table's overflow count when the LAN was built; null until then or where it cannot be read. */
let overflowsAtStart: number | null = null;

/** A sentence about the machine rather than the peers, when something there went wrong; '' otherwise. */
function machineTrouble(): string {
  const now = neighbourTableOverflows();
  if (overflowsAtStart === null || now === null || now === overflowsAtStart) return '';
  return (
    ` [the kernel's ARP table, which every namespace on this machine shares, overflowed ${now - overflowsAtStart} times` +
    ` during this run: packets to neighbours not yet resolved were dropped (dmesg: "neighbor table overflow!"); see netns.ts]`
  );
}

/** Polls `probe` until it returns a value, saying every PROGRESS_EVERY_MS what it still waits for, so a slow run explains itself as it goes. */
function until<T>(what: string, probe: () => Promise<T | NotYet>, timeoutMs: number, intervalMs = 250): Promise<T> {
  return waitUntil(what, timeoutMs, probe, { say: progress, progressEveryMs: PROGRESS_EVERY_MS, trouble: machineTrouble, intervalMs });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `task` over `items` with at most `limit` at a time. */
async function inBatches<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

describe.runIf(support.ok)(`a classroom of 1 teacher and ${STUDENTS} students on a LAN`, () => {
  let lan: Lan;
  let dataRoot: string;
  const laptops: ClassroomLaptop[] = [];
  let classId = '';
  /** Every key a student wrote and the value it wrote, to check on the replicas. */
  const written = new Map<string, string>();
  const timings: string[] = [];

  const teacher = () => laptops[0]!;
  const students = () => laptops.slice(1);
  const byId = (laptopId: string | null) => laptops.find((laptop) => laptop.laptopId === laptopId);
  const nameOf = (laptopId: string | null) => byId(laptopId)?.name ?? String(laptopId);

  /** One laptop's view in a few words, for timeout messages. */
  function describe(laptop: ClassroomLaptop, status: ClassStatus | null): string {
    if (!status) return laptop.describeSilence();
    const connected = status.peers.filter((peer) => peer.connected).length;
    return `${laptop.name} (${status.role} at term ${status.term}, leader ${nameOf(status.leader)}, ${connected} connected, applied ${status.applied})`;
  }

  async function statuses(among: ClassroomLaptop[]): Promise<(ClassStatus | null)[]> {
    return Promise.all(among.map((laptop) => laptop.classStatus()));
  }

  /** The one leader every laptop of `among` agrees on, with its status. */
  async function agreedLeader(among: ClassroomLaptop[]): Promise<{ leader: ClassroomLaptop; status: ClassStatus } | NotYet> {
    const all = await statuses(among);
    const silent = among.filter((_, i) => all[i] === null);
    if (silent.length > 0) return new NotYet(`no class status from ${silent.map((l) => l.describeSilence()).join('; ')}`);
    const leaders = among.filter((_, i) => all[i]!.role === 'leader');
    if (leaders.length !== 1) return new NotYet(`${leaders.length} laptops think they lead: ${leaders.map((l) => l.name).join(', ')}`);
    const leader = leaders[0]!;
    const disagreeing = among.filter((_, i) => all[i]!.leader !== leader.laptopId);
    if (disagreeing.length > 0) return new NotYet(`${disagreeing.map((l) => l.name).join(', ')} do not follow ${leader.name}`);
    return { leader, status: all[among.indexOf(leader)]! };
  }

  /** Waits until every laptop of `among` has applied the same entries: same applied index and digest, empty outbox. */
  async function converge(among: ClassroomLaptop[], what: string, timeoutMs: number): Promise<{ ms: number; status: ClassStatus }> {
    const since = Date.now();
    const status = await until(
      `${what}: the same applied index and digest on ${among.length} laptops`,
      async () => {
        const all = await statuses(among);
        const silent = among.filter((_, i) => all[i] === null);
        if (silent.length > 0) return new NotYet(`no class status from ${silent.map((l) => l.describeSilence()).join('; ')}`);
        const applied = new Set(all.map((s) => s!.applied));
        const digests = new Set(all.map((s) => s!.digest));
        const outboxes = all.reduce((sum, s) => sum + s!.outbox, 0);
        if (applied.size > 1 || digests.size > 1 || outboxes > 0) {
          const spread = among.map((laptop, i) => `${laptop.name}@${all[i]!.applied}/${all[i]!.digest.slice(0, 6)}`).join(' ');
          return new NotYet(`${applied.size} applied indexes, ${digests.size} digests, ${outboxes} writes in outboxes: ${spread}`);
        }
        return all[0]!;
      },
      timeoutMs,
    );
    return { ms: Date.now() - since, status };
  }

  /** Writes through `laptop`'s own node; remembers the key for the final checks. */
  async function write(laptop: ClassroomLaptop, key: string, waitMs = WRITE_WAIT_MS): Promise<WriteResult & { key: string }> {
    const value = `${laptop.name}:${Date.now()}`;
    written.set(key, value);
    return { ...(await laptop.call('write', { classId, command: { op: 'put', key, value }, waitMs })), key };
  }

  /** The keys of writes not applied within their wait, for the failure message. */
  function pendingKeys(results: (WriteResult & { key: string })[]): string[] {
    return results.filter((result) => result.status !== 'applied').map((result) => result.key);
  }

  /** Every remembered key has its value on `laptop` (a local read). */
  async function expectAllWrites(laptop: ClassroomLaptop): Promise<void> {
    const entries = [...written];
    const values = await inBatches(entries, 16, async ([key]) => (await laptop.call('read', { classId, key })).value);
    const wrong = entries.flatMap(([key, value], i) => (values[i] === value ? [] : [`${key}=${values[i]}`]));
    expect(wrong, `writes missing or wrong on ${laptop.name}`).toEqual([]);
  }

  function record(line: string): void {
    timings.push(line);
    progress(line);
  }

  beforeAll(async () => {
    const since = Date.now();
    lan = await Lan.create(LAPTOPS);
    overflowsAtStart = neighbourTableOverflows();
    dataRoot = mkdtempSync(join(tmpdir(), 'quorum-classroom-'));
    const logDir = process.env.QUORUM_LAN_LOG_DIR;
    if (logDir) mkdirSync(logDir, { recursive: true });
    const hosts = lan.hosts.map((host) => host.index);
    const started = await inBatches(hosts, START_CONCURRENCY, (index) => {
      const name = index === TEACHER_HOST ? 'teacher' : `student-${index - 1}`;
      return ClassroomLaptop.start(lan, index, {
        name,
        dataDir: join(dataRoot, `laptop-${index}`),
        ...(process.env.QUORUM_LAN_LOG_LEVEL ? { logLevel: process.env.QUORUM_LAN_LOG_LEVEL } : {}),
        ...(logDir ? { logFile: join(logDir, `${name}.log`) } : {}),
      });
    });
    laptops.push(...started);
    record(`${LAPTOPS} laptops running in ${LAPTOPS} namespaces after ${Date.now() - since} ms`);
  }, 240_000);

  let failed = false;
  beforeEach(({ onTestFailed }) => onTestFailed(() => void (failed = true)));

  afterAll(async () => {
    for (const laptop of laptops.filter((l) => !l.exited())) {
      try {
        laptop.thaw(); // a laptop left frozen by a failed test
      } catch {
        // already gone
      }
    }
    if (failed) {
      // What every laptop saw last, before they are stopped: the state a failure left behind.
      const last = await statuses(laptops);
      console.warn(`laptops after the failure:\n  ${laptops.map((laptop, i) => describe(laptop, last[i]!)).join('\n  ')}`);
      const trouble = machineTrouble();
      if (trouble) console.warn(`the machine:${trouble}`);
    }
    await Promise.all(laptops.map((laptop) => laptop.stop()));
    const logDir = process.env.QUORUM_LAN_LOG_DIR;
    if (logDir) {
      console.info(`node logs written to ${logDir}`);
    } else if (failed) {
      // The nodes log at warn: what they complained about is short enough to show here.
      for (const laptop of laptops.filter((l) => l.stderr.length > 0)) {
        console.warn(`${laptop.name}'s log ends:\n  ${laptop.stderr.slice(-20).join('\n  ')}`);
      }
    }
    await lan?.destroy();
    if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
    if (timings.length > 0) console.info(`classroom timings:\n  ${timings.join('\n  ')}`);
  }, 90_000);

  it(`forms by mDNS alone: ${STUDENTS} students join with the code, ${EXPECTED_VOTERS} voters, one leader, equal digests`, async () => {
    const created = await teacher().call('createClass', { name: 'Physics 3B' });
    classId = created.classId;
    const since = Date.now();
    await Promise.all(students().map((student) => student.call('joinClass', { joinCode: created.joinCode })));
    progress(`${STUDENTS} students asked to join within ${Date.now() - since} ms`);

    let lastReport = '';
    const { leader, status } = await until(
      `all ${LAPTOPS} laptops members with ${EXPECTED_VOTERS} voters and one leader`,
      async () => {
        const all = await statuses(laptops);
        const teacherView = all[0];
        const report = teacherView ? `${teacherView.voters.length} voters + ${teacherView.learners.length} learners in the teacher's log` : '';
        if (report !== lastReport) progress(`joining: ${report} after ${Date.now() - since} ms`);
        lastReport = report;
        const outside = laptops.filter((laptop, i) => {
          const s = all[i];
          return !s || s.classId !== classId || ![...s.voters, ...s.learners].includes(laptop.laptopId);
        });
        if (outside.length > 0) {
          const why = outside.map((laptop) => describe(laptop, all[laptops.indexOf(laptop)]!));
          return new NotYet(`${outside.length} not yet members by their own log: ${why.join('; ')}`);
        }
        const sizes = new Set(all.map((s) => `${s!.voters.length}+${s!.learners.length}`));
        if (sizes.size > 1 || !sizes.has(`${EXPECTED_VOTERS}+${LAPTOPS - EXPECTED_VOTERS}`)) {
          return new NotYet(`voters+learners seen: ${[...sizes].join(', ')}`);
        }
        return agreedLeader(laptops);
      },
      JOIN_WAIT_MS,
      500,
    );
    record(`all ${LAPTOPS} laptops joined after ${Date.now() - since} ms (leader ${leader.name}, term ${status.term})`);
    expect(new Set(status.voters).size).toBe(EXPECTED_VOTERS);
    expect(status.voters).toContain(teacher().laptopId); // the teacher's laptop is preferred
    expect(new Set([...status.voters, ...status.learners])).toEqual(new Set(laptops.map((laptop) => laptop.laptopId)));
    progress(`voters: ${status.voters.map(nameOf).join(', ')}`);

    const writesSince = Date.now();
    const results = await Promise.all(
      students().map(async (student) => {
        const mine: (WriteResult & { key: string })[] = [];
        for (let k = 0; k < 3; k++) mine.push(await write(student, `joined/${student.name}/${k}`));
        return mine;
      }),
    );
    const pending = pendingKeys(results.flat());
    record(`${STUDENTS * 3} writes from ${STUDENTS} students committed in ${Date.now() - writesSince} ms (${pending.length} left pending)`);
    expect(pending, `writes still pending after ${WRITE_WAIT_MS} ms${machineTrouble()}`).toEqual([]);

    const converged = await converge(laptops, 'after the first writes', 60_000);
    record(`replicas converged ${converged.ms} ms after the last write (applied ${converged.status.applied})`);
    await expectAllWrites(teacher());
    await expectAllWrites(students().at(-1)!);
  }, JOIN_WAIT_MS + 3 * (WRITE_WAIT_MS + CALL_SLACK_MS) + 60_000 + MARGIN_MS);

  it('commits and converges with 5 % loss on every laptop and slow links on a few', async () => {
    const { leader, status } = await until('a leader', () => agreedLeader(laptops), 20_000);
    // Slow links where they hurt: a voter that is not the leader, and two learners.
    const studentVoters = students().filter((s) => status.voters.includes(s.laptopId) && s !== leader);
    const learners = students().filter((s) => status.learners.includes(s.laptopId));
    const slow = [...studentVoters.slice(0, 1), ...learners.slice(0, 2)];
    await Promise.all(laptops.map((laptop) => lan.setLoss(laptop.hostIndex, 5)));
    await Promise.all(slow.map((laptop) => lan.setBandwidth(laptop.hostIndex, { rate: '256kbit' })));
    progress(`5 % loss on all ${LAPTOPS}; 256 kbit/s out of ${slow.map((l) => l.name).join(', ')}`);
    try {
      const since = Date.now();
      const results = await Promise.all(
        students().map(async (student) => [await write(student, `lossy/${student.name}/0`), await write(student, `lossy/${student.name}/1`)]),
      );
      const pending = pendingKeys(results.flat());
      record(`under loss: ${STUDENTS * 2} writes committed in ${Date.now() - since} ms (${pending.length} left pending)`);
      expect(pending, `writes still pending after ${WRITE_WAIT_MS} ms${machineTrouble()}`).toEqual([]);
      const converged = await converge(laptops, 'under loss', 90_000);
      record(`under loss: replicas converged ${converged.ms} ms after the last write`);
      for (const laptop of slow) await expectAllWrites(laptop);
    } finally {
      await Promise.all(laptops.map((laptop) => lan.setLoss(laptop.hostIndex, 0)));
      await Promise.all(slow.map((laptop) => lan.setBandwidth(laptop.hostIndex, null)));
    }
  }, 20_000 + 2 * (WRITE_WAIT_MS + CALL_SLACK_MS) + 90_000 + MARGIN_MS);

  it(`a student laptop frozen for ${FREEZE_MS / 1000} s (SIGSTOP) neither moves the leader nor changes the term, and catches up`, async () => {
    const before = await until('a leader', () => agreedLeader(laptops), 20_000);
    const studentVoter = students().find((s) => before.status.voters.includes(s.laptopId) && s !== before.leader);
    const frozen = studentVoter ?? students().find((s) => s !== before.leader)!;
    const writers = students().filter((s) => s !== frozen);
    const wasVoter = before.status.voters.includes(frozen.laptopId);
    progress(`freezing ${frozen.name} (${wasVoter ? 'voter' : 'learner'}); leader ${before.leader.name}, term ${before.status.term}`);

    const seen = new Set<string>();
    let writes = 0;
    frozen.freeze();
    const frozenAt = Date.now();
    try {
      // Through the minute: the class keeps committing, and the leader's view is sampled.
      while (Date.now() - frozenAt < FREEZE_MS) {
        const writer = writers[writes % writers.length]!;
        const result = await write(writer, `frozen/${writes}`, 10_000);
        expect(result.status, `write ${writes} from ${writer.name} while ${frozen.name} is frozen${machineTrouble()}`).toBe('applied');
        writes++;
        const view = await before.leader.classStatus();
        if (view) seen.add(`${nameOf(view.leader)}@${view.term}`);
        await sleep(1_000);
      }
    } finally {
      frozen.thaw();
    }
    const thawedAt = Date.now();
    progress(`thawed ${frozen.name} after ${thawedAt - frozenAt} ms; ${writes} writes committed meanwhile`);

    const caughtUp = await until(
      `${frozen.name} to catch up with the leader`,
      async () => {
        const [mine, theirs] = await Promise.all([frozen.classStatus(), before.leader.classStatus()]);
        if (!mine || !theirs) return new NotYet(`no status from ${!mine ? frozen.name : before.leader.name}`);
        if (mine.applied !== theirs.applied || mine.digest !== theirs.digest) return new NotYet(`${mine.applied} of ${theirs.applied} applied`);
        return mine;
      },
      60_000,
    );
    record(`frozen ${frozen.name} caught up ${Date.now() - thawedAt} ms after SIGCONT (applied ${caughtUp.applied})`);

    // Long enough for an election the thawed laptop might provoke to show.
    const settleUntil = Date.now() + SETTLE_MS;
    while (Date.now() < settleUntil) {
      const view = await agreedLeader(laptops);
      if (view instanceof NotYet) seen.add(`no agreement: ${view.why}`);
      else seen.add(`${view.leader.name}@${view.status.term}`);
      await sleep(250);
    }
    expect([...seen]).toEqual([`${before.leader.name}@${before.status.term}`]);
    const after = await until('a leader', () => agreedLeader(laptops), 10_000);
    expect(after.leader).toBe(before.leader);
    expect(after.status.term).toBe(before.status.term);
    const terms = new Set((await statuses(laptops)).map((s) => s?.term));
    expect([...terms]).toEqual([before.status.term]);
    const stillVoter = after.status.voters.includes(frozen.laptopId);
    progress(`${frozen.name} is now a ${stillVoter ? 'voter' : 'learner'}; voters: ${after.status.voters.map(nameOf).join(', ')}`);
    expect(after.status.voters.length).toBe(EXPECTED_VOTERS);

    await converge(laptops, 'after the freeze', 60_000);
    await expectAllWrites(frozen);
  }, 20_000 + FREEZE_MS + 10_000 + CALL_SLACK_MS + 60_000 + SETTLE_MS + 10_000 + 60_000 + MARGIN_MS);

  it('when the leader is cut off, the rest elect a new one and keep committing; back on the LAN it steps down and catches up', async () => {
    const before = await until('a leader', () => agreedLeader(laptops), 20_000);
    const old = before.leader;
    const rest = laptops.filter((laptop) => laptop !== old);
    const restVoters = rest.filter((laptop) => before.status.voters.includes(laptop.laptopId));
    progress(`cutting off the leader ${old.name} (term ${before.status.term}); voters left: ${restVoters.map((l) => l.name).join(', ')}`);

    await lan.setConnected(old.hostIndex, false);
    const cutAt = Date.now();
    let healed = false;
    try {
      // Only a voter can win, so watching the remaining voters closely gives the failover time.
      const elected = await until(
        'a new leader among the rest',
        async () => {
          const all = await statuses(restVoters);
          const index = all.findIndex((s) => s?.role === 'leader' && s.term > before.status.term);
          return index < 0 ? new NotYet(all.map((s, i) => `${restVoters[i]!.name}:${s?.role}@${s?.term}`).join(' ')) : restVoters[index]!;
        },
        30_000,
        50,
      );
      const failoverMs = Date.now() - cutAt;
      record(`partition: ${elected.name} leads ${failoverMs} ms after ${old.name}'s link went down`);
      const agreed = await until('the rest to follow the new leader', () => agreedLeader(rest), 20_000);
      expect(agreed.leader).toBe(elected);
      record(`partition: all ${rest.length} others follow ${elected.name} ${Date.now() - cutAt} ms after the cut`);

      // The rest keep committing, through their own nodes.
      const writers = students().filter((s) => s !== old).slice(0, 10);
      const since = Date.now();
      const results = await Promise.all(writers.map((writer) => write(writer, `partition/${writer.name}`, 15_000)));
      expect(pendingKeys(results), `writes still pending after 15000 ms${machineTrouble()}`).toEqual([]);
      record(`partition: ${writers.length} writes committed in ${Date.now() - since} ms without the old leader`);

      // CheckQuorum: alone on its side, the old leader stops believing it leads.
      const stepDown = await until(
        `${old.name} to step down while cut off`,
        async () => {
          const mine = await old.classStatus();
          return mine && mine.role !== 'leader' ? mine : new NotYet(`${old.name} is ${mine?.role ?? 'silent'}`);
        },
        20_000,
        100,
      );
      record(`partition: ${old.name} stepped down (${stepDown.role}) ${Date.now() - cutAt} ms after the cut`);

      // PreVote: however often it tried to campaign alone, it never raised its term.
      const isolated = await old.classStatus();
      expect(isolated?.term, `${old.name}'s term while cut off`).toBe(before.status.term);

      await lan.setConnected(old.hostIndex, true);
      healed = true;
      const healedAt = Date.now();
      const rejoined = await until(
        `${old.name} to follow ${elected.name} again`,
        async () => {
          const mine = await old.classStatus();
          return mine && mine.role === 'follower' && mine.leader === elected.laptopId ? mine : new NotYet(`${mine?.role} of ${nameOf(mine?.leader ?? null)}`);
        },
        30_000,
      );
      expect(rejoined.term).toBe(agreed.status.term);
      const converged = await converge(laptops, 'after the partition healed', 60_000);
      record(`partition healed: ${old.name} follows ${elected.name}; all ${LAPTOPS} converged ${Date.now() - healedAt} ms after reconnecting`);
      const after = await until('one leader for all', () => agreedLeader(laptops), 20_000);
      expect(after.leader).toBe(elected);
      // Its return forced no election: the term is still the one the rest elected in.
      expect(after.status.term).toBe(agreed.status.term);
      expect(new Set((await statuses(laptops)).map((s) => s?.term))).toEqual(new Set([agreed.status.term]));
      expect(converged.status.voters.length).toBe(EXPECTED_VOTERS);
      await expectAllWrites(old);
    } finally {
      if (!healed) await lan.setConnected(old.hostIndex, true);
    }
  }, 20_000 + 30_000 + 20_000 + 15_000 + CALL_SLACK_MS + 20_000 + 30_000 + 60_000 + 20_000 + MARGIN_MS);
});
