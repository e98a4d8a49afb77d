// Making the restoring laptop's user a teacher of the restored class. Every change to a class is
// a command signed by a member and checked by every laptop, and the laptop restoring a backup
// usually holds no teacher's key (the teacher's old laptop is what broke). So a backup carries a
// key made for it and the exporting teacher's signed grant making that key a teacher; with them
// the restoring laptop, in ordinary signed commands: lets the key join, applies the grant, joins
// its own user (if needed), has the key make that user a teacher and give it the keys of the
// sealed items the exporting teacher could read, and removes the key again.
import { createPrivateKey } from 'node:crypto';
import type { ClassroomCommand, LogCommand } from '../../../shared/classroom/commands';
import { shareKeysBatches, signCommand, type ItemOpener } from '../../classroom';
import type { ClassRuntime } from '../class-runtime';
import { identityFromPrivateKey, type Identity } from '../transport';
import type { BackupContext } from './backup-context';
import type { BackupMeta } from './backup-format';
import { roleIn } from './class-contents';
import { backupError } from './errors';

const LEADER_WAIT_MS = 15_000;
const APPLY_WAIT_MS = 10_000;

export async function handClassToThisUser(context: BackupContext, runtime: ClassRuntime, meta: BackupMeta, itemKeys: Map<string, Buffer>): Promise<void> {
  const me = context.user.laptopId;
  await leadingHere(context, runtime);
  if (roleIn(runtime, me) === 'teacher') return;
  const key = identityFromPrivateKey(createPrivateKey(meta.handover.keyPem));
  await proposeSigned(runtime, key, { type: 'joinClass', displayName: 'Backup hand-over', laptopId: context.laptopId });
  await proposeCommand(runtime, meta.handover.grant);
  if (roleIn(runtime, me) === null) await submitOwn(context, runtime, { type: 'joinClass', displayName: meta.teacherName, laptopId: context.laptopId });
  await proposeSigned(runtime, key, { type: 'addTeacher', userId: me });
  // The sealed drafts, grades and comments the exporting teacher could read, now for this user too:
  // wrapped with this user's own box key (the hand-over key has none), which their laptop holds.
  const exporter: ItemOpener = { userId: meta.teacherId, wrapper: context.opener.wrapper, contentKey: (_db, itemId) => itemKeys.get(itemId) ?? null, open: () => null };
  for (const batch of shareKeysBatches(runtime.storage.database, runtime.classId, exporter)) {
    if (batch.userId === me) await proposeCommand(runtime, signCommand(key, runtime.classId, batch));
  }
  await submitOwn(context, runtime, { type: 'removeMember', userId: key.laptopId });
}

async function leadingHere(context: BackupContext, runtime: ClassRuntime): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  while (runtime.group.status().leader !== context.laptopId) {
    if (Date.now() > deadline) throw handoverFailed('the restored class did not start on this laptop');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function proposeSigned(runtime: ClassRuntime, author: Identity, command: LogCommand): Promise<void> {
  return proposeCommand(runtime, signCommand(author, runtime.classId, command));
}

/** Propose an already signed command and wait for the class to apply it. */
async function proposeCommand(runtime: ClassRuntime, signed: unknown): Promise<void> {
  const outcome = await runtime.router.write(new TextEncoder().encode(JSON.stringify(signed)), APPLY_WAIT_MS);
  if (outcome.status !== 'applied') throw handoverFailed('the class did not apply the hand-over in time');
  const result = runtime.takeResult(outcome.seq);
  if (result?.kind === 'classroom' && result.status === 'rejected') throw handoverFailed(result.reason);
}

async function submitOwn(context: BackupContext, runtime: ClassRuntime, command: ClassroomCommand): Promise<void> {
  const outcome = await context.submit(runtime, command, APPLY_WAIT_MS);
  if (outcome.status !== 'applied') throw handoverFailed('the class did not apply the hand-over in time');
  if (outcome.result.status === 'rejected') throw handoverFailed(outcome.result.reason);
}

function handoverFailed(why: string): Error {
  return backupError(
    'HANDOVER_FAILED',
    `The class was restored on this laptop, but its user could not be made a teacher of it (${why}). Restart Quorum and ask for help if the class does not show you as its teacher.`,
  );
}
