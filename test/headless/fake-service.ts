// A PeerService that answers from canned data and records what it was asked: enough to test the
// HTTP layer in front of it. The real peer has its own integration tests.
import type { ApiEventName, ApiEvents, ApiMethod, ApiParams, ApiResult, ClassStatus, NodeStatus } from '../../shared/api';
import type { PeerService, ServiceMethods } from '../../electron/peer/service';
import { silentLogger, type Logger } from '../../electron/peer/transport/types';

export const classStatus: ClassStatus = {
  classId: 'class-1',
  name: 'Physics 2B',
  role: 'leader',
  term: 3,
  leader: 'laptop-a',
  commit: 12,
  applied: 12,
  voters: ['laptop-a', 'laptop-b', 'laptop-c'],
  learners: ['laptop-d'],
  peers: [
    {
      laptopId: 'laptop-b',
      address: '192.168.1.21:4242',
      connected: true,
      lastContactMs: 40,
      membership: 'voter',
      progress: { match: 12, next: 13, state: 'replicate' },
    },
  ],
  outbox: 0,
  digest: 'ab'.repeat(32),
  digestAt: 12,
  leaderContactMs: 0,
  stopped: null,
};

export const nodeStatus: NodeStatus = {
  laptopId: 'laptop-a',
  displayName: 'Teacher laptop',
  address: 'laptop-a@192.168.1.20:4242',
  version: '0.1.0',
  classes: [classStatus],
};

/** What each method returns for the parameters the tests send. */
export const cannedResults: { [M in ApiMethod]: ApiResult<M> } = {
  status: nodeStatus,
  createClass: { classId: 'class-1', joinCode: 'JOIN-1234' },
  joinClass: { classId: 'class-1' },
  cancelJoin: { cancelled: false },
  write: { status: 'applied', index: 13, clientId: 'client-1', seq: 7 },
  read: { key: 'greeting', value: 'hello', appliedIndex: 13, leaderContactMs: 0, linearizable: true },
  addPeerAddress: { ok: true },
  recoveryPlan: {
    classId: 'class-1',
    possible: false,
    reason: 'The class has a leader right now, so it does not need recovering.',
    warning: '',
    source: { laptopId: 'laptop-a', lastIndex: 13, applied: 13 },
    reachable: ['laptop-a', 'laptop-b'],
    unreachableVoters: [],
  },
  recoverClass: { leader: 'laptop-a', term: 4 },
  classroom: {
    classId: 'class-1',
    name: 'Physics 2B',
    subject: 'Period 3',
    me: { userId: 'user-t', displayName: 'Ms Rivera', role: 'teacher' },
    joinCode: 'JOIN-1234',
    approveJoins: false,
    joinRequests: [],
    members: [{ userId: 'user-t', displayName: 'Ms Rivera', role: 'teacher', laptops: ['laptop-a'] }],
    assignments: [],
    rejections: [],
  },
  submitCommand: { status: 'pending', commandId: 'command-0001' },
  submission: {
    assignmentId: 'lab-0001',
    studentId: 'user-s',
    status: 'assigned',
    text: '',
    files: [],
    turnedIn: false,
    turnedInAt: null,
    turnedInClientAt: null,
    attempts: 0,
    dueAt: null,
    version: 0,
    grade: null,
    comments: [],
  },
  gradebook: { assignments: [], rows: [] },
  exportGradebook: { csv: 'Student\r\n' },
  activity: [{ index: 12, at: 1_790_000_000_000, authorId: 'user-s', authorName: 'Ana', type: 'turnIn', summary: 'Ana turned in “Lab”', outcome: 'applied' }],
  startUpload: { uploadId: 'upload-1' },
  uploadChunk: { received: 5 },
  finishUpload: { sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', name: 'hello.txt', type: 'text/plain', size: 5 },
  readFile: { data: 'aGVsbG8=', size: 5 },
  exportBackup: { file: '/media/usb/Physics 2B 2025-01-01 10-00-00.quorum-backup', bytes: 4096 },
  restoreBackup: { classId: 'class-1' },
  setBackupSchedule: { classId: 'class-1', schedule: { folder: '/media/usb', everyMinutes: 30, keep: 10 }, lastBackup: null, lastFailure: null, nextAt: 1_790_000_000_000, running: false },
  backupStatus: { classId: 'class-1', schedule: null, lastBackup: null, lastFailure: null, nextAt: null, running: false },
};

/** Parameters every method accepts, one example each. */
export const exampleParams: { [M in ApiMethod]: ApiParams<M> } = {
  status: {},
  createClass: { name: 'Physics 2B' },
  joinClass: { joinCode: 'JOIN-1234' },
  cancelJoin: {},
  write: { classId: 'class-1', command: { op: 'put', key: 'greeting', value: 'hello' }, waitMs: 500 },
  read: { classId: 'class-1', key: 'greeting', linearizable: true },
  addPeerAddress: { address: 'LAPTOPB1@192.168.1.21:4242' },
  recoveryPlan: { classId: 'class-1' },
  recoverClass: { classId: 'class-1', confirm: true },
  classroom: { classId: 'class-1' },
  submitCommand: { classId: 'class-1', command: { type: 'turnIn', assignmentId: 'lab-0001' }, waitMs: 500 },
  submission: { classId: 'class-1', assignmentId: 'lab-0001', studentId: 'user-s' },
  gradebook: { classId: 'class-1' },
  exportGradebook: { classId: 'class-1' },
  activity: { classId: 'class-1', limit: 20 },
  startUpload: { name: 'hello.txt', type: 'text/plain', size: 5 },
  uploadChunk: { uploadId: 'upload-1', offset: 0, data: 'aGVsbG8=' },
  finishUpload: { uploadId: 'upload-1' },
  readFile: { classId: 'class-1', sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', offset: 0, length: 5 },
  exportBackup: { classId: 'class-1', folder: '/media/usb', passphrase: 'a long passphrase' },
  restoreBackup: { file: '/media/usb/x.quorum-backup', passphrase: 'a long passphrase' },
  setBackupSchedule: { classId: 'class-1', folder: '/media/usb', passphrase: 'a long passphrase', everyMinutes: 30, keep: 10 },
  backupStatus: { classId: 'class-1' },
};

type Listener = (payload: never) => void;

export class FakePeerService implements PeerService {
  readonly methods: ServiceMethods;
  /** Every call, in order. */
  readonly calls: { method: ApiMethod; params: unknown }[] = [];
  closed = 0;
  private readonly listeners = new Map<ApiEventName, Set<Listener>>();
  /** Set to make the next call of a method throw this instead of answering. */
  private readonly failures = new Map<ApiMethod, unknown>();

  constructor(private readonly logger: Logger = silentLogger) {
    const methods: Partial<Record<ApiMethod, (params: never) => Promise<unknown>>> = {};
    for (const method of Object.keys(cannedResults) as ApiMethod[]) {
      methods[method] = async (params: never) => {
        this.calls.push({ method, params });
        const failure = this.failures.get(method);
        if (failure !== undefined) {
          this.failures.delete(method);
          throw failure;
        }
        return structuredClone(cannedResults[method]);
      };
    }
    this.methods = methods as ServiceMethods;
  }

  /** The next call of `method` throws `error`. */
  failNext(method: ApiMethod, error: unknown): void {
    this.failures.set(method, error);
  }

  /** Forgets failures set with failNext that no call has met yet. */
  clearFailures(): void {
    this.failures.clear();
  }

  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /** Sends an event to every subscriber, as the peer would. */
  emit<E extends ApiEventName>(event: E, payload: ApiEvents[E]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (payload: ApiEvents[E]) => void)(payload);
  }

  listenerCount(): number {
    return [...this.listeners.values()].reduce((sum, set) => sum + set.size, 0);
  }

  async close(): Promise<void> {
    this.closed++;
    this.logger.info('fake peer closed');
  }
}
