// What a backup holds of a class, taken at one instant: the state tables as a snapshot image (the
// encoding snapshots already use), the applied index, its term and the digest they give, and
// the files the state refers to. Synchronous, so no entry is applied in between.
import type Database from 'better-sqlite3';
import type { FileRef } from '../../../shared/classroom/commands';
import { currentMember } from '../../classroom';
import type { ClassRuntime } from '../class-runtime';
import { ClassroomApi } from '../classroom-api';
import { componentVersion } from '../storage/migrate';
import { createImage } from '../storage/snapshot-image';
import type { BlobAnnouncement } from './backup-format';

export interface ClassContents {
  classId: string;
  className: string;
  appliedIndex: number;
  term: number;
  digest: string;
  /** The state tables as a snapshot image. */
  image: Uint8Array;
  /** Every file the class refers to, once each, with the name it was given first. */
  files: (BlobAnnouncement & { name: string })[];
}

export function captureClass(runtime: ClassRuntime): ClassContents {
  const { storage, stateMachine } = runtime;
  const db = storage.database;
  const appliedIndex = storage.appliedIndex();
  return {
    classId: runtime.classId,
    className: ClassroomApi.className(runtime) ?? '',
    appliedIndex,
    term: storage.term(appliedIndex),
    digest: storage.digest(),
    image: createImage(db, stateMachine, componentVersion(db, stateMachine.name)),
    files: referencedFiles(db),
  };
}

/** The role `userId` has in the class now, or null when not a member. */
export function roleIn(runtime: ClassRuntime, userId: string): 'teacher' | 'student' | null {
  return currentMember(runtime.storage.database, userId)?.role ?? null;
}

/** Materials of assignments, and files of submissions and of earlier attempts. */
function referencedFiles(db: Database.Database): ClassContents['files'] {
  const lists = [
    ...(db.prepare('SELECT materials FROM assignments').pluck().all() as string[]),
    ...(db.prepare('SELECT files FROM submissions').pluck().all() as string[]),
    ...(db.prepare('SELECT files FROM attempts').pluck().all() as string[]),
  ];
  const files = new Map<string, BlobAnnouncement & { name: string }>();
  for (const list of lists) {
    for (const file of JSON.parse(list) as FileRef[]) {
      if (!files.has(file.sha256)) files.set(file.sha256, { sha256: file.sha256, size: file.size, name: file.name });
    }
  }
  return [...files.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
}
