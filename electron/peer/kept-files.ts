// Which of a class's files this laptop must keep a copy of, by the rule in blobs/retention.ts
// (the class's voters, its teachers' laptops and each file's owners' laptops), and where to ask
// for each. Read from this laptop's copy of the class as applied so far: a laptop behind the
// log keeps what it knows of, and the rest once it has caught up.
import { classFiles } from '../classroom/queries';
import { keepsBlob, likelyHolders } from './blobs';
import type { ClassRuntime } from './class-runtime';
import { ClassroomApi } from './classroom-api';

/** A file this laptop must keep, and the laptops likely to hold it. */
export interface KeptFile {
  sha256: string;
  /** The size its reference declares: a copy of any other size is refused. */
  size: number;
  /** For messages only. */
  name: string;
  /** Laptops to ask, most likely holders first (its owners', the teachers', the voters'); never this one. */
  holders: string[];
}

/** The files of the class this laptop must keep, in hash order. */
export function filesToKeep(runtime: ClassRuntime, laptopId: string): KeptFile[] {
  const voters = runtime.group.status().config.voters;
  const teacherLaptops = ClassroomApi.teacherLaptops(runtime);
  const kept: KeptFile[] = [];
  for (const file of classFiles(runtime.storage.database)) {
    const laptops = { voters, teacherLaptops, ownerLaptops: file.ownerLaptops };
    if (!keepsBlob({ laptopId, ...laptops })) continue;
    kept.push({ sha256: file.sha256, size: file.size, name: file.name, holders: likelyHolders(laptops).filter((id) => id !== laptopId) });
  }
  return kept;
}
