// The contract between the renderer and whatever serves it: the Electron preload (IPC) or the
// headless node (HTTP + a WebSocket event stream). One definition, so the same renderer runs
// in both. Runs anywhere: no Node, Electron or DOM imports.
import type { ClassroomCommand, ClassroomResult, FileRef } from './classroom/commands';
import type { AssignmentView, Gradebook, JoinRequestView, MemberView, RejectionView, Role, SubmissionView } from './classroom/views';

/** A laptop's role in one class's Raft group. */
export type PeerRole = 'leader' | 'follower' | 'candidate' | 'preCandidate';

/** Replication state of one laptop as the leader sees it. */
export interface ReplicationProgress {
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
}

/** Another laptop of the class, as this laptop knows it. */
export interface PeerInfo {
  laptopId: string;
  /** Where it was last reached or announced, "host:port". */
  address: string | null;
  connected: boolean;
  /** Milliseconds since we last heard from it, or null if never. */
  lastContactMs: number | null;
  membership: 'voter' | 'learner' | 'none';
  /** Only on the leader. */
  progress: ReplicationProgress | null;
}

/** Everything a status screen or a test needs to know about one class on this laptop. */
export interface ClassStatus {
  classId: string;
  name: string;
  role: PeerRole;
  term: number;
  leader: string | null;
  commit: number;
  applied: number;
  voters: string[];
  learners: string[];
  peers: PeerInfo[];
  /** Writes made here and not yet applied by the class. */
  outbox: number;
  /** SHA-256 of the state machine at `digestAt`, to compare replicas. */
  digest: string;
  /**
   * The applied index `digest` is of: `applied` in an answer to `status`; in a pushed status, up
   * to a second behind it while the class is busy (hashing a whole class many times a second would cost more than the writes).
   */
  digestAt: number;
  /** Milliseconds since this laptop last heard from the leader (0 on the leader), or null. */
  leaderContactMs: number | null;
  /** Why this laptop stopped following the class (its Quorum is too old, its disk failed); null while it follows. */
  stopped: ClassStopped | null;
}

/** Why a class stopped on a laptop: a code for programs, a sentence for people. */
export interface ClassStopped {
  /** NEEDS_NEWER_QUORUM: the class uses rules or a format this Quorum does not know; COPY_NOT_UPDATED: its copy could not be written. */
  code: 'NEEDS_NEWER_QUORUM' | 'COPY_NOT_UPDATED';
  message: string;
}

export interface NodeStatus {
  laptopId: string;
  displayName: string;
  /** "LAPTOPID@host:port": what another laptop types to add this one by hand. */
  address: string;
  version: string;
  classes: ClassStatus[];
}

/** A local read: fast, and stamped with how fresh it is. */
export interface ReadResult {
  key: string;
  value: string | null;
  /** The applied index the value reflects. */
  appliedIndex: number;
  /** Milliseconds since the last contact with the leader, or null when never in contact. */
  leaderContactMs: number | null;
  linearizable: boolean;
}

/** A write either applied by the class (and by this laptop) or kept in the outbox for later. */
export type WriteResult =
  | { status: 'applied'; index: number; clientId: string; seq: number }
  | { status: 'pending'; clientId: string; seq: number };

/**
 * What recovering a class would do. A class whose voting laptops can't be reached (taken home)
 * can't save anything; a teacher may rebuild it from the most complete copy in reach.
 */
export interface RecoveryPlan {
  classId: string;
  /** Whether recovering is allowed now; `reason` says why or why not, as a sentence. */
  possible: boolean;
  reason: string;
  /** What the teacher must accept first (empty when not possible). */
  warning: string;
  /** The reachable laptop with the most complete copy: the class is rebuilt from it. */
  source: { laptopId: string; lastIndex: number; applied: number } | null;
  /** Laptops of the class that answered, this one included. */
  reachable: string[];
  /** Voting laptops that did not answer. */
  unreachableVoters: string[];
}

/** A class as this laptop's user may see it. */
export interface ClassroomOverview {
  classId: string;
  name: string;
  subject: string;
  /**
   * This laptop's user; `role` is null until the class has applied their joining. `asking`: not
   * yet a member, this laptop asked a teacher to let it in ('waiting') or was told no ('refused').
   */
  me: { userId: string; displayName: string; role: Role | null; asking?: 'waiting' | 'refused' };
  /** The code students join with; shown to teachers only (null for students). */
  joinCode: string | null;
  /** Whether a teacher must let each new laptop in ("approve each student"). */
  approveJoins: boolean;
  /** Laptops waiting for a teacher to let them in, oldest first; teachers only (empty for students). */
  joinRequests: JoinRequestView[];
  members: MemberView[];
  assignments: AssignmentView[];
  /** This user's commands the class refused, newest first, with the reason. */
  rejections: RejectionView[];
}

/** A classroom command applied by the class (or refused by its rules), or kept to send later. */
export type CommandOutcome =
  | { status: 'applied'; result: ClassroomResult }
  | { status: 'pending'; commandId: string };

/** One entry of the class's replicated log, as people read it: the class's audit trail. */
export interface ActivityEntry {
  /** Its position in the log. */
  index: number;
  /** When the leader proposed it (the class clock); null for entries without a time. */
  at: number | null;
  authorId: string | null;
  authorName: string | null;
  /** The classroom command's type, or "membership" for laptops joining and leaving the group. */
  type: string;
  /** A sentence: "Ana turned in “Pendulum lab”". */
  summary: string;
  outcome: 'applied' | 'rejected';
  /** Why it was refused. */
  reason?: string;
}

/** A backup file written: where it is, and its size in bytes. */
export interface BackupFile {
  file: string;
  bytes: number;
}

/**
 * A class's automatic backups on this laptop: where and how often, when the last one was made,
 * and why the last attempt failed when it did (a sentence: "The backup folder … can't be found").
 */
export interface BackupStatus {
  classId: string;
  /** Null: no automatic backups of this class from this laptop. */
  schedule: { folder: string; everyMinutes: number; keep: number } | null;
  /** The last backup the schedule made (ms since 1970), or null. */
  lastBackup: { at: number; file: string; bytes: number } | null;
  /** Set when the last attempt failed; cleared by the next backup that succeeds. */
  lastFailure: { at: number; reason: string } | null;
  /** When the next automatic backup is due, or null without a schedule. */
  nextAt: number | null;
  /** Whether a backup of this class is being written now. */
  running: boolean;
}

/** How far a long backup or restore has come. */
export interface BackupProgress {
  classId: string;
  operation: 'export' | 'restore';
  doneBytes: number;
  totalBytes: number;
}

/** A command of the interim key-value state machine (the classroom replaces it). */
export type KeyValueWrite = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string };

/** Every API method: its parameters and its result. */
export interface ApiMethods {
  status: { params: Record<string, never>; result: NodeStatus };
  /** Create a class taught from this laptop; `displayName` is the teacher's own name as the class shows it. */
  createClass: { params: { name: string; subject?: string; displayName?: string }; result: { classId: string; joinCode: string } };
  /**
   * Join a class with the code its teacher shows; `displayName` is the student's name as the class
   * shows it. Resolves once a laptop of the class answered (within `waitMs`, default 20 s); being
   * admitted follows in the background, shown by `status`.
   */
  joinClass: { params: { joinCode: string; displayName?: string; waitMs?: number }; result: { classId: string } };
  /**
   * Stop the joinClass under way (one waiting for a teacher to let this laptop in, say): it fails
   * with CANCELLED. `cancelled` is false when no join was under way.
   */
  cancelJoin: { params: Record<string, never>; result: { cancelled: boolean } };
  write: { params: { classId: string; command: KeyValueWrite; waitMs?: number }; result: WriteResult };
  read: { params: { classId: string; key: string; linearizable?: boolean }; result: ReadResult };
  /** Manual fallback where multicast is blocked: "LAPTOPID@host:port". */
  addPeerAddress: { params: { address: string }; result: { ok: true } };
  /** The class as this laptop's user may see it: members, assignments, refused commands. */
  classroom: { params: { classId: string }; result: ClassroomOverview };
  /** Sign a classroom command as this laptop's user and send it to the class. */
  submitCommand: { params: { classId: string; command: ClassroomCommand; waitMs?: number }; result: CommandOutcome };
  /** One student's work on one assignment (a student may ask only for their own). */
  submission: { params: { classId: string; assignmentId: string; studentId: string }; result: SubmissionView };
  /** Students by assignments: a teacher sees everyone, a student their own row. */
  gradebook: { params: { classId: string }; result: Gradebook };
  /** The gradebook as CSV (teachers only). */
  exportGradebook: { params: { classId: string }; result: { csv: string } };
  /** The class's recent log, newest first (a teacher sees every entry, a student their own). */
  activity: { params: { classId: string; limit?: number }; result: ActivityEntry[] };
  /** Begin adding a file (in parts of at most 512 KiB, base64): its name, type and size in bytes. */
  startUpload: { params: { name: string; type: string; size: number }; result: { uploadId: string } };
  uploadChunk: { params: { uploadId: string; offset: number; data: string }; result: { received: number } };
  /** The whole file arrived: stored on this laptop, and its reference to put in a command. */
  finishUpload: { params: { uploadId: string }; result: FileRef };
  /** Part of a file of the class (base64), fetched from another laptop first when this one lacks it. */
  readFile: { params: { classId: string; sha256: string; offset: number; length: number }; result: { data: string; size: number } };
  /** Whether the class can be recovered from here, and what it would cost. Changes nothing. */
  recoveryPlan: { params: { classId: string }; result: RecoveryPlan };
  /** Recover the class (etcd's force-new-cluster idea): only with `confirm: true`, only when `recoveryPlan` allows it. */
  recoverClass: { params: { classId: string; confirm: boolean }; result: { leader: string; term: number } };
  /**
   * Write the whole class (its state, secret and files), encrypted with `passphrase`, to one file
   * in `folder` (teachers only). Progress comes as `backupProgress` events.
   */
  exportBackup: { params: { classId: string; folder: string; passphrase: string }; result: BackupFile };
  /**
   * Restore a class from a backup file on a laptop that is not in it: the class starts again here
   * with this laptop as its only voter and this laptop's user as a teacher; others join with its join code.
   */
  restoreBackup: { params: { file: string; passphrase: string }; result: { classId: string } };
  /**
   * Back the class up automatically every `everyMinutes` into `folder`, keeping the last `keep`
   * (default 10); `everyMinutes: 0` stops it (teachers only). Kept across restarts.
   */
  setBackupSchedule: {
    params: { classId: string; folder: string; passphrase: string; everyMinutes: number; keep?: number };
    result: BackupStatus;
  };
  /** The class's automatic backups: when the last was made, or why it failed (teachers only). */
  backupStatus: { params: { classId: string }; result: BackupStatus };
}

export type ApiMethod = keyof ApiMethods;
export type ApiParams<M extends ApiMethod> = ApiMethods[M]['params'];
export type ApiResult<M extends ApiMethod> = ApiMethods[M]['result'];

/**
 * A joinClass under way on this laptop: looking for a laptop of the class, waiting for a teacher to
 * let it in (`message` is the class's sentence, `displayName` the name it asked as), or over.
 */
export interface JoinProgress {
  state: 'looking' | 'waiting' | 'over';
  displayName: string;
  message: string | null;
}

/** Events pushed to every UI. */
export interface ApiEvents {
  status: ClassStatus;
  applied: { classId: string; index: number };
  outbox: { classId: string; pending: number };
  /** A backup or restore under way. */
  backupProgress: BackupProgress;
  /** A class's automatic backups changed: one was made, failed, or the schedule was set. */
  backupStatus: BackupStatus;
  /** A joinClass under way here: looking, waiting for a teacher, or over. */
  joining: JoinProgress;
}
export type ApiEventName = keyof ApiEvents;

/** Errors cross every boundary as plain data; `code` is what the UI turns into a sentence. */
export interface ApiError {
  code: string;
  message: string;
}

export type ApiResponse<M extends ApiMethod> = { ok: true; result: ApiResult<M> } | { ok: false; error: ApiError };

/**
 * What the preload exposes to the renderer as `window.quorum`: the API above over IPC, the same
 * contract the headless node serves over HTTP (see shared/http.ts and shared/client.ts).
 */
export interface QuorumApi {
  /** The app's version from package.json, e.g. "0.1.0". */
  readonly version: string;
  /** Calls a method of the peer; failures (an unknown method, a stopped peer) come back as `{ok: false, error}`, never thrown. */
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResponse<M>>;
  /** Subscribes to an event of the peer; returns the unsubscribe function. Throws for a name that is not an event. */
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
}
