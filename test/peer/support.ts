// Laptops in one process on loopback for peer tests: real WebSockets, real SQLite files, real
// Raft groups; discovery off, so every address is given explicitly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassroomPeer, type ClassroomPeerOptions } from '../../electron/peer/classroom-peer';
import { silentLogger } from '../../electron/peer/transport';
import type { ClassStatus } from '../../shared/api';
import type { ClassroomCommand } from '../../shared/classroom/commands';

/** The laptops a test opened and their folders, closed and removed by `cleanUp`. */
export class Laptops {
  readonly dirs: string[] = [];
  readonly open: ClassroomPeer[] = [];

  /** A laptop with a fresh folder, or restarted on `dataDir`; `options` override the defaults below. */
  async start(name: string, dataDir = mkdtempSync(join(tmpdir(), `quorum-peer-${name}-`)), options: Partial<ClassroomPeerOptions> = {}): Promise<ClassroomPeer> {
    if (!this.dirs.includes(dataDir)) this.dirs.push(dataDir);
    const peer = await ClassroomPeer.open({
      dataDir,
      displayName: name,
      host: '127.0.0.1',
      port: 0,
      discovery: { enabled: false },
      logger: silentLogger,
      autopilot: { intervalMs: 100 },
      ...options,
    });
    this.open.push(peer);
    return peer;
  }

  async cleanUp(): Promise<void> {
    await Promise.all(this.open.splice(0).map((peer) => peer.close()));
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function classStatus(peer: ClassroomPeer, classId: string): Promise<ClassStatus> {
  const status = await peer.methods.status({});
  return status.classes.find((c) => c.classId === classId)!;
}

/** Every laptop knows every other's address, as the manual fallback would give them. */
export async function connectAll(all: ClassroomPeer[]): Promise<void> {
  for (const a of all) {
    for (const b of all) {
      if (a === b) continue;
      await a.methods.addPeerAddress({ address: (await b.methods.status({})).address });
    }
  }
}

/**
 * A class created on a teacher's laptop and joined by one laptop per student (every laptop given
 * every other's address), each student registered: the start of most classroom tests.
 */
export async function classroomOf(
  laptops: Laptops,
  teacherName: string,
  studentNames: string[],
  className = 'Physics 3',
): Promise<{ teacher: ClassroomPeer; students: ClassroomPeer[]; classId: string; joinCode: string }> {
  const teacher = await laptops.start(teacherName);
  const { classId, joinCode } = await teacher.methods.createClass({ name: className });
  const students: ClassroomPeer[] = [];
  for (const name of studentNames) students.push(await laptops.start(name));
  await connectAll([teacher, ...students]);
  for (const student of students) await student.methods.joinClass({ joinCode });
  for (const student of students) {
    await eventually('the student registered in the class', async () => (await student.methods.classroom({ classId })).me.role === 'student', 30_000);
  }
  return { teacher, students, classId, joinCode };
}

/** Submit `command` as `peer`'s user and insist that the class applied it within `waitMs`. */
export async function applied(peer: ClassroomPeer, classId: string, command: ClassroomCommand, waitMs = 10_000): Promise<void> {
  const outcome = await peer.methods.submitCommand({ classId, command, waitMs });
  if (outcome.status !== 'applied' || outcome.result.status !== 'applied') throw new Error(`not applied: ${JSON.stringify(outcome)}`);
}

/** A published assignment out of 20 points, with no due date: what most peer tests hand out. */
export function publishedAssignment(assignmentId: string, title: string): Extract<ClassroomCommand, { type: 'createAssignment' }> {
  return { type: 'createAssignment', assignmentId, title, instructions: '', pointsPossible: 20, dueAt: null, cutOffAt: null, materials: [], published: true };
}
