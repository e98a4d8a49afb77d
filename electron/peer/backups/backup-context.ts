// What the backups need of the peer, as one contract, so this folder depends on the peer's
// parts and never on the peer itself (ClassroomPeer builds this from its own fields).
import type { BackupProgress, BackupStatus, CommandOutcome } from '../../../shared/api';
import type { ClassroomCommand } from '../../../shared/classroom/commands';
import type { ItemOpener } from '../../classroom';
import type { BlobStore } from '../blobs';
import type { ClassRuntime } from '../class-runtime';
import type { SecretVault } from '../secrets';
import type { LaterSecret } from '../class-registry';
import type { Identity, Logger } from '../transport';

export interface BackupContext {
  /** This laptop's id: the only voter of a class restored here. */
  laptopId: string;
  /** This laptop's user: signs the hand-over grant put in a backup. */
  user: Identity;
  /** Opens what is sealed for this laptop's user: a backup carries the content keys it can open. */
  opener: ItemOpener;
  /** Where schedules (with their passphrases) are kept sealed. */
  vault: SecretVault;
  /** The laptop's files; a backup carries the class's, a restore puts them back. */
  store: BlobStore;
  logger: Logger;
  /** How long a "minute" of a schedule lasts: 60 000 ms, shorter in tests. */
  minuteMs: number;
  /** The SQLite file of `classId` on this laptop. */
  classFile(classId: string): string;
  /** The class as open on this laptop, or undefined when this laptop is not in it. */
  findClass(classId: string): ClassRuntime | undefined;
  /** The class's secrets, from this laptop's registry: the one it was made with, and those that replaced it. */
  classSecrets(classId: string): { secret: Uint8Array; later: LaterSecret[] } | undefined;
  /** Make sure this laptop holds a file of the class, fetching it from the class's laptops if needed. */
  fetchBlob(runtime: ClassRuntime, sha256: string): Promise<void>;
  /** Register a class whose file was just restored, and start it. */
  adoptClass(name: string, secret: Uint8Array, later: readonly LaterSecret[]): ClassRuntime;
  /** Sign `command` as this laptop's user and send it to the class. */
  submit(runtime: ClassRuntime, command: ClassroomCommand, waitMs: number): Promise<CommandOutcome>;
  onProgress(progress: BackupProgress): void;
  onStatus(status: BackupStatus): void;
}
