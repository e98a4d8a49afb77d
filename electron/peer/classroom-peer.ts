// The classroom peer: one per laptop, many classes. It owns the laptop's identity, the
// transport, discovery and one ClassRuntime per class, and implements the API of
// shared/api.ts for the Electron shell and the headless node alike. It never imports Electron.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { ApiEventName, ApiEvents, ClassStatus, NodeStatus, PeerInfo, ReadResult, WriteResult } from '../../shared/api';
import { version } from '../../package.json';
import { ClassRegistry, knownGeneration, networkSecrets, newClassSecret, secretBytes, type ClassEntry, type LaterSecret } from './class-registry';
import { canonicalJoinCode, displayJoinCode, newJoinCode } from '../../shared/join-code';
import { classSecretGeneration, currentJoinCode, currentMember, mayComeIn, openClassSecrets, type ItemOpener } from '../classroom';
import { admissionToken, admissionTokenMatches, decodeTicketRequest, doorTagOf, encodeTicketReply, JoinDoors, knock, type TicketReply } from './class-joining';
import { DoorApprovals } from './door-approvals';
import { ClassRuntime, DEFAULT_TIMING, type RaftTiming } from './class-runtime';
import type { CompactionPolicy } from './storage';
import type { AutopilotOptions } from './autopilot';
import { MdnsDiscovery } from './discovery';
import { decodeForwardReply, encodeForwardRequest } from './routing/forward-protocol';
import { encodeKeyValueCommand } from './storage';
import { IDENTITY_FILE, loadOrCreateIdentity, MAX_EARLIER_SECRETS, WebSocketTransport, type Logger } from './transport';
import { loadOrCreateBoxKey, openSecretVault, type KeySealer } from './secrets';
import { ServiceError, type PeerService, type ServiceMethods } from './service';
import { isPeerExchangeRequest } from './peer-exchange';
import { LaptopAddressBook } from './laptop-addresses';
import { withTimeout } from './util/with-timeout';
import { ClassroomApi } from './classroom-api';
import { ClassFiles } from './class-files';
import { FileKeeper, type FileKeeperLimits } from './file-keeper';
import { recentActivity } from './class-activity';
import { answerBlobRequest, BlobStore, isBlobRequest, type SendRequest } from './blobs';
import { isHoldRequest } from './blobs/hold-protocol';
import { LIMITS } from '../../shared/classroom/commands';
import { answerRecoveryRequest, gatherPlan, recoverClass, type RecoveryContext } from './recovery/class-recovery';
import { isRecoveryRequest } from './recovery/protocol';
import { ClassBackups } from './backups/class-backups';
import type { BackupContext } from './backups/backup-context';
import type { SecretVault } from './secrets';
import type { Identity } from './transport';
import { stoppedReason } from './group/stopped-reason';
import { CLASS_RULES } from '../../shared/classroom/rules';

export interface ClassroomPeerOptions {
  dataDir: string;
  displayName: string;
  /** Transport bind address and port (0: any free port). */
  host: string;
  port: number;
  discovery: { enabled: boolean; interface?: string };
  logger: Logger;
  timing?: Partial<RaftTiming>;
  autopilot?: Partial<AutopilotOptions>;
  /** When each class's log is compacted (see ClassRuntime); the default suits a classroom. */
  compaction?: Partial<CompactionPolicy>;
  /** The app's keyring (through the main process), to seal the laptop's keys with; absent or null: owner-only files. */
  sealer?: KeySealer | null;
  /** How long a minute of an automatic backup schedule lasts: 60 000 ms (tests shorten it). */
  backupMinuteMs?: number;
  /** Limits of the background pulls of the files this laptop keeps (`files: 0`: none, for tests of reading). */
  fileKeeping?: Partial<FileKeeperLimits>;
  /** The newest class rules this laptop applies: CLASS_RULES, except in tests that stand in for an older or newer Quorum. */
  knownRules?: number;
}

// Addresses rarely change: exchange on every new connection, and otherwise seldom, since each
// round costs a request per connected laptop (quadratic in the class size).
const PEER_EXCHANGE_MS = 30_000;
/** The signing key of this laptop's user (teacher or student), beside the laptop's own key. */
const USER_KEY_FILE = 'user-key.pem';
const JOIN_RETRY_MS = 300;
/** How long joinClass looks for a laptop of the class before saying it found none. */
const JOIN_WAIT_MS = 20_000;
/** How long joinClass waits for a teacher to let this laptop in, once told to wait (LONG_CALLS_MS in electron/ipc/peer-relay.ts allows it). */
const JOIN_APPROVAL_WAIT_MS = 30 * 60_000;
/** How old the digest in a pushed status may be while the class applies entries (ClassStatus.digestAt). */
const PUSHED_DIGEST_MAX_AGE_MS = 1000;
/** One readFile answer carries at most this much (base64 makes it a third larger). */
const MAX_FILE_READ_BYTES = 512 * 1024;

type Listener = (payload: never) => void;

export class ClassroomPeer implements PeerService {
  readonly methods: ServiceMethods;
  private readonly classes = new Map<string, ClassRuntime>();
  private readonly listeners = new Map<ApiEventName, Set<Listener>>();
  /** When we last received anything from each laptop. */
  private readonly lastHeard = new Map<string, number>();
  private readonly addressBook: LaptopAddressBook;
  private readonly timing: RaftTiming;
  private discovery: MdnsDiscovery | null = null;
  private statusTimer: ReturnType<typeof setInterval> | null = null;
  private exchangeTimer: ReturnType<typeof setInterval> | null = null;
  private closing: Promise<void> | null = null;
  /** The doors (join codes) of this laptop's classes, and the one it is knocking at, if any. */
  private readonly doors: JoinDoors;
  private knocking: string | null = null;
  /** Set by cancelJoin: the join under way stops at its next round. */
  private joinCancelled = false;
  /** Who may be given the way into a class whose teacher approves each student. */
  private readonly doorApprovals: DoorApprovals;
  private readonly backups: ClassBackups;
  /** Pulls the files this laptop must keep, in the background. */
  private readonly keeper: FileKeeper;
  /** Per class, the laptops of removed members out of its Raft group: not heard any more, whatever they know. */
  private readonly shutOut = new Map<string, Set<string>>();
  /** Classes this laptop is asking to be admitted to now. */
  private readonly asking = new Set<string>();
  /** Per class, the laptops in its Raft group as last seen: who may still prove its earlier secrets. */
  private readonly groupLaptops = new Map<string, Set<string>>();

  static async open(options: ClassroomPeerOptions): Promise<ClassroomPeer> {
    mkdirSync(join(options.dataDir, 'classes'), { recursive: true });
    const vault = await openSecretVault({ dataDir: options.dataDir, sealer: options.sealer ?? null, logger: options.logger });
    const identity = await loadOrCreateIdentity(options.dataDir, options.logger, IDENTITY_FILE, vault);
    const user = await loadOrCreateIdentity(options.dataDir, options.logger, USER_KEY_FILE, vault);
    const box = loadOrCreateBoxKey(vault);
    const registry = new ClassRegistry(vault);
    const files = new ClassFiles(await BlobStore.open(join(options.dataDir, 'blobs')), options.logger);
    const transport = new WebSocketTransport({
      identity,
      host: options.host,
      port: options.port,
      logger: options.logger,
    });
    for (const entry of registry.all()) {
      const { current, earlier } = networkSecrets(entry);
      transport.addClass(entry.classId, current, earlier);
    }
    await transport.start();
    const peer = new ClassroomPeer(options, registry, transport, new ClassroomApi(user, options.displayName, box, files), files, { vault, user });
    try {
      await peer.start();
    } catch (error) {
      await transport.stop();
      throw error;
    }
    return peer;
  }

  private constructor(
    private readonly options: ClassroomPeerOptions,
    private readonly registry: ClassRegistry,
    private readonly transport: WebSocketTransport,
    private readonly classroom: ClassroomApi,
    private readonly files: ClassFiles,
    keys: { vault: SecretVault; user: Identity },
  ) {
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.doors = new JoinDoors(transport, () => this.advertise());
    this.addressBook = new LaptopAddressBook({
      dataDir: options.dataDir,
      transport,
      logger: options.logger,
      ownHost: () => this.reachableHost(),
    });
    this.backups = new ClassBackups(this.backupContext(keys));
    this.keeper = new FileKeeper({
      laptopId: transport.laptopId,
      store: files.store,
      request: (classId) => this.requester(classId),
      connectedPeers: (classId) => transport.connectedPeers(classId),
      logger: options.logger,
      limits: options.fileKeeping ?? {},
    });
    files.pullUnderWay = (sha256) => this.keeper.hurry(sha256);
    this.doorApprovals = new DoorApprovals({
      isMember: (runtime) => currentMember(runtime.storage.database, classroom.userIdIn(runtime)) !== undefined,
      record: (runtime, laptopId, displayName) => classroom.submit(runtime, { type: 'requestToJoin', laptopId, displayName }, 0),
      logger: options.logger,
    });
    this.methods = {
      status: async () => this.status(),
      exportBackup: async (params) => this.backups.exportBackup(params),
      restoreBackup: async (params) => this.backups.restoreBackup(params),
      setBackupSchedule: async (params) => this.backups.setSchedule(params),
      backupStatus: async ({ classId }) => this.backups.status(classId),
      createClass: async ({ name, subject, displayName }) => this.createClass(name, subject ?? '', displayName),
      joinClass: async ({ joinCode, displayName, waitMs }) => this.joinClass(joinCode, displayName, waitMs),
      cancelJoin: async () => {
        const underWay = this.knocking !== null;
        if (underWay) this.joinCancelled = true;
        return { cancelled: underWay };
      },
      write: async ({ classId, command, waitMs }) => this.write(classId, command, waitMs),
      read: async ({ classId, key, linearizable }) => this.read(classId, key, linearizable === true),
      addPeerAddress: async ({ address }) => this.addressBook.add(address),
      classroom: async ({ classId }) => this.classroom.overview(this.runtime(classId), this.laptopId),
      submitCommand: async ({ classId, command, waitMs }) => this.classroom.submit(this.runtime(classId), command, clampWait(waitMs)),
      submission: async ({ classId, assignmentId, studentId }) => this.classroom.submission(this.runtime(classId), assignmentId, studentId),
      gradebook: async ({ classId }) => this.classroom.gradebook(this.runtime(classId)),
      exportGradebook: async ({ classId }) => this.classroom.exportGradebook(this.runtime(classId)),
      activity: async ({ classId, limit }) => recentActivity(this.runtime(classId), this.classroom.userIdIn(this.runtime(classId)), limit ?? 100),
      startUpload: async ({ name, type, size }) => this.files.startUpload(name, type, size),
      uploadChunk: async ({ uploadId, offset, data }) => this.files.uploadChunk(uploadId, offset, data),
      finishUpload: async ({ uploadId }) => this.files.finishUpload(uploadId),
      readFile: async ({ classId, sha256, offset, length }) =>
        this.files.read(this.runtime(classId), this.classroom.openerIn(this.runtime(classId)), sha256, offset, Math.min(length, MAX_FILE_READ_BYTES), this.requester(classId)),
      recoveryPlan: async ({ classId }) => (await gatherPlan(this.recoveryContext(classId))).plan,
      recoverClass: async ({ classId, confirm }) => {
        if (confirm !== true) {
          throw new ServiceError('NOT_CONFIRMED', 'Recovering a class needs the teacher to confirm it, having read what it will do.');
        }
        return recoverClass(this.recoveryContext(classId));
      },
    };
  }

  get laptopId(): string {
    return this.transport.laptopId;
  }

  /** The newest class rules this laptop's Quorum applies (shared/classroom/rules.ts). */
  private get knownRules(): number {
    return this.options.knownRules ?? CLASS_RULES;
  }

  private async start(): Promise<void> {
    // A laptop of the class that was away when a member was removed knows only an earlier secret.
    // The class's own laptops are let in with it; anyone else (the removed member's laptop, or a
    // new key made with their copy of the secret) is not.
    this.transport.setEarlierSecretPolicy((classId, laptopId) => this.groupLaptops.get(classId)?.has(laptopId) === true && !this.shutOut.get(classId)?.has(laptopId));
    this.transport.onMessage((from, classTag, message) => {
      if (this.shutOut.get(classTag)?.has(from)) return;
      this.lastHeard.set(from, Date.now());
      this.classes.get(classTag)?.step(from, message);
    });
    this.transport.onRequest(async (from, classTag, payload) => {
      this.lastHeard.set(from, Date.now());
      const behindDoor = this.doors.classOf(classTag);
      if (behindDoor !== undefined) {
        // At a door, a laptop that proved the join code may ask for a ticket, and nothing else.
        const asked = decodeTicketRequest(payload);
        if (!asked) throw new Error('only a ticket may be asked for with a join code');
        return encodeTicketReply(this.ticketFor(behindDoor, from, asked.displayName));
      }
      const runtime = this.classes.get(classTag);
      if (!runtime) throw new Error('not a member of that class');
      if (this.shutOut.get(classTag)?.has(from)) throw new Error('that laptop was removed from the class');
      if (isPeerExchangeRequest(payload)) return this.addressBook.answerExchange(runtime, from, payload);
      if (isRecoveryRequest(payload)) return answerRecoveryRequest(this.recoveryContext(classTag), from, payload);
      if (isBlobRequest(payload)) return answerBlobRequest(this.files.store, payload, { mayServe: (sha) => this.files.mayServe(runtime, from, sha) });
      if (isHoldRequest(payload)) return this.files.answerHold(runtime, from, payload, this.requester(classTag));
      return runtime.answer(payload, from);
    });
    this.transport.onPeerState((event) => {
      if (event.state !== 'disconnected') for (const tag of event.classes) this.classes.get(tag)?.nudge();
      // Also when a connection gains a class: a laptop that came in through a join code's door.
      if (event.state !== 'disconnected') void this.addressBook.exchange(this.classes.values(), event.laptopId);
      if (event.state !== 'disconnected') this.keeper.reachable(event.laptopId, event.classes);
      this.emitStatusSoon();
    });
    for (const entry of this.registry.all()) {
      const runtime = this.openClass(entry, false);
      // Stopped while waiting to be admitted: ask again.
      if (entry.joining) void this.askToJoin(runtime, entry.joining.displayName, entry.joining.token);
    }
    this.backups.start();
    this.addressBook.dialSaved();
    if (this.options.discovery.enabled) {
      this.discovery = new MdnsDiscovery({
        laptopId: this.laptopId,
        port: this.transport.port,
        classTags: this.advertisedTags(),
        logger: this.options.logger,
        ...(this.options.discovery.interface ? { interface: this.options.discovery.interface } : {}),
      });
      this.discovery.on('peer', (found) => this.addressBook.found(found));
      await this.discovery.start();
    }
    this.statusTimer = setInterval(() => this.emitStatus(), 1000);
    this.exchangeTimer = setInterval(() => void this.addressBook.exchange(this.classes.values()), PEER_EXCHANGE_MS);
  }

  // ---- events ---------------------------------------------------------------------------

  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  private emit<E extends ApiEventName>(event: E, payload: ApiEvents[E]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (payload: ApiEvents[E]) => void)(payload);
      } catch (error) {
        this.options.logger.warn('an event listener failed', { event, error: String(error) });
      }
    }
  }

  private statusSoon: ReturnType<typeof setTimeout> | null = null;
  private emitStatusSoon(): void {
    // Not once closing: the classes' files close while leadership is handed off, which itself changes their state.
    if (this.statusSoon || this.closing) return;
    this.statusSoon = setTimeout(() => {
      this.statusSoon = null;
      if (!this.closing) this.emitStatus();
    }, 50);
  }

  private emitStatus(): void {
    if (!this.listeners.get('status')?.size) return;
    for (const runtime of this.classes.values()) this.emit('status', this.classStatus(runtime, PUSHED_DIGEST_MAX_AGE_MS));
  }

  // ---- classes --------------------------------------------------------------------------

  /** What discovery advertises and looks for: our classes, their doors, and the door we knock at. */
  private advertisedTags(): string[] {
    return [...this.classes.keys(), ...this.doors.tags(), ...(this.knocking ? [this.knocking] : [])];
  }

  private advertise(): void {
    this.discovery?.setClassTags(this.advertisedTags());
  }

  /**
   * After each apply: keep this class's door in step with its join code, its secrets with those
   * the log gives this user, and its shut-out laptops with its members, as the log has them.
   */
  private followLog(runtime: ClassRuntime): void {
    this.doors.sync(runtime.classId, currentJoinCode(runtime.storage.database));
    this.syncSecrets(runtime);
    this.classroom.followRules(runtime, this.laptopId, this.knownRules);
    this.classroom.registerOnceLetIn(runtime, this.laptopId);
    // Only once out of the Raft group: a voter's own vote may be needed to take it out.
    const { voters, learners, votersOutgoing, learnersNext } = runtime.group.config();
    const inGroup = new Set([...voters, ...learners, ...votersOutgoing, ...learnersNext]);
    const shutOut = new Set(ClassroomApi.removedLaptops(runtime).filter((laptop) => !inGroup.has(laptop)));
    const changed = !sameSet(this.groupLaptops.get(runtime.classId), inGroup) || !sameSet(this.shutOut.get(runtime.classId), shutOut);
    this.shutOut.set(runtime.classId, shutOut);
    this.groupLaptops.set(runtime.classId, inGroup);
    // A laptop that left the group may no longer be heard on an earlier secret.
    if (changed) this.transport.recheckClasses();
  }

  /** Move onto the class's newer secrets that the log holds for this user, keeping the earlier ones for laptops that were away. */
  private syncSecrets(runtime: ClassRuntime): void {
    const entry = this.registry.get(runtime.classId);
    if (!entry) return;
    const known = knownGeneration(entry);
    if (classSecretGeneration(runtime.storage.database) <= known) return;
    let opener: ItemOpener;
    try {
      // As the member this user is in the class (a re-admitted student acts under their old id).
      opener = this.classroom.openerIn(runtime);
    } catch {
      return; // This laptop's key was replaced: it is no one in the class.
    }
    const opened = openClassSecrets(runtime.storage.database, runtime.classId, opener, known);
    const later: LaterSecret[] = opened.map(({ generation, secret }) => ({ generation, secret: Buffer.from(secret).toString('base64url') }));
    if (!this.registry.addLater(runtime.classId, later)) return;
    this.options.logger.info('the class has a new secret', { classId: runtime.classId, generation: knownGeneration(entry) });
    this.joinNetwork(entry);
  }

  /** Prove the class's current secret to other laptops (and accept its earlier ones from the class's own). */
  private joinNetwork(entry: ClassEntry): void {
    const { current, earlier } = networkSecrets(entry);
    this.transport.addClass(entry.classId, current, earlier);
  }

  /**
   * What a laptop that proved `classId`'s join code, asking as `displayName`, gets: the way in,
   * unless it was removed, or (when a teacher approves each student) until a teacher let it in.
   */
  private ticketFor(classId: string, from: string, displayName: string | null): TicketReply {
    const runtime = this.classes.get(classId);
    const entry = this.registry.get(classId);
    if (!runtime || !entry) return { refused: 'This laptop is not part of that class any more.' };
    const removed = ClassroomApi.removedLaptops(runtime);
    if (removed.includes(from)) return { refused: 'This laptop was removed from the class. Ask the teacher to add you again.' };
    if (removed.includes(this.laptopId)) return { refused: 'The laptop that answered was removed from the class; try again to reach another.' };
    const code = currentJoinCode(runtime.storage.database);
    if (code === null) return { refused: 'Joining this class is turned off. Ask the teacher for a new join code.' };
    const held = this.doorApprovals.answer(runtime, from, displayName);
    if (held) return held;
    return {
      ticket: {
        classId,
        name: ClassroomApi.className(runtime) ?? entry.name,
        secret: secretBytes(entry),
        later: (entry.later ?? []).slice(-MAX_EARLIER_SECRETS),
        token: admissionToken(code, from),
      },
    };
  }

  private openClass(entry: ClassEntry, bootstrap: boolean): ClassRuntime {
    const runtime: ClassRuntime = new ClassRuntime({
      classId: entry.classId,
      laptopId: this.laptopId,
      file: join(this.options.dataDir, 'classes', `${entry.classId}.sqlite`),
      bootstrap,
      knownRules: this.knownRules,
      timing: this.timing,
      send: (to, message) => void this.transport.send(to, entry.classId, message),
      request: (to, payload, timeoutMs) => this.transport.request(to, entry.classId, payload, timeoutMs),
      connectedPeers: () => this.transport.connectedPeers(entry.classId),
      ...(this.options.compaction ? { compaction: this.options.compaction } : {}),
      autopilot: {
        preferred: (): string[] => this.teachers(runtime),
        excluded: (): string[] => ClassroomApi.removedLaptops(runtime),
        ...this.options.autopilot,
      },
      logger: this.options.logger,
      onChange: () => this.emitStatusSoon(),
      onApplied: (index) => {
        this.followLog(runtime);
        this.keeper.nudge(entry.classId);
        this.emit('applied', { classId: entry.classId, index });
      },
      onOutboxChange: (pending) => this.emit('outbox', { classId: entry.classId, pending }),
      mayAdmit: (laptopId, token) => {
        const code = currentJoinCode(runtime.storage.database);
        if (code === null) return 'Joining this class is turned off. Ask the teacher for a new join code.';
        if (!admissionTokenMatches(code, laptopId, token)) return 'The join code this laptop used is no longer in use. Ask the teacher for the current one.';
        // Even a laptop holding the secret and a token from the code in use waits for a teacher's yes.
        return mayComeIn(runtime.storage.database, laptopId) ? null : 'Your teacher has not let this laptop into the class yet.';
      },
      beforeForwarding: (command, leader) => this.files.beforeDelivery(command, leader, this.requester(entry.classId)),
    });
    this.classes.set(entry.classId, runtime);
    runtime.start();
    this.keeper.watch(runtime);
    this.followLog(runtime);
    this.advertise();
    return runtime;
  }

  private runtime(classId: string): ClassRuntime {
    const runtime = this.classes.get(classId);
    if (!runtime) throw new ServiceError('UNKNOWN_CLASS', 'This laptop is not part of that class.');
    return runtime;
  }

  /** Requests to laptops of `classId`, for the file layer. */
  private requester(classId: string): SendRequest {
    return (to, payload, timeoutMs) => this.transport.request(to, classId, payload, timeoutMs);
  }

  private recoveryContext(classId: string): RecoveryContext {
    const runtime = this.runtime(classId);
    return {
      laptopId: this.laptopId,
      runtime,
      teachers: () => this.teachers(runtime),
      connectedPeers: () => this.transport.connectedPeers(classId),
      request: (to, payload, timeoutMs) => this.transport.request(to, classId, payload, timeoutMs),
      logger: this.options.logger,
    };
  }

  private teachers(runtime: ClassRuntime): string[] {
    return ClassroomApi.teacherLaptops(runtime);
  }

  private async createClass(name: string, subject: string, displayName?: string): Promise<{ classId: string; joinCode: string }> {
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (trimmed.length === 0 || trimmed.length > LIMITS.name || subject.trim().length > LIMITS.name) {
      throw new ServiceError('BAD_CLASS_NAME', `A class needs a name (and may have a subject) of 1 to ${LIMITS.name} characters.`);
    }
    const secret = newClassSecret();
    const joinCode = newJoinCode(randomBytes(20));
    const entry = this.registry.add(trimmed, secret, true);
    this.joinNetwork(entry);
    const runtime = this.openClass(entry, true);
    // The class's own facts travel in its log, so every laptop that joins learns them.
    await this.classroom.submit(
      runtime,
      { type: 'createClass', name: trimmed, subject: subject.trim(), displayName: personName(displayName, this.options.displayName), laptopId: this.laptopId, joinCode },
      10_000,
    );
    return { classId: entry.classId, joinCode: displayJoinCode(joinCode) };
  }

  /**
   * Join the class behind `joinCode`: find one of its laptops at the code's door (by discovery or
   * an address added by hand), get the way in from it, then ask to be admitted in the background
   * while the UI shows the progress. Resolves once the class is known here.
   */
  private async joinClass(joinCode: string, displayName?: string, waitMs = JOIN_WAIT_MS): Promise<{ classId: string }> {
    const code = canonicalJoinCode(typeof joinCode === 'string' ? joinCode : '');
    const already = code === null ? undefined : this.doors.classOf(doorTagOf(code));
    if (already !== undefined) return { classId: already };
    if (this.knocking) throw new ServiceError('BUSY', 'This laptop is already looking for a class. Wait until it has found it or given up.');
    const name = personName(displayName, this.options.displayName);
    this.joinCancelled = false;
    this.emit('joining', { state: 'looking', displayName: name, message: null });
    const ticket = await knock({
      joinCode,
      displayName: name,
      waitMs: Math.min(Math.max(0, Number.isFinite(waitMs) ? waitMs : JOIN_WAIT_MS), 120_000),
      approvalWaitMs: JOIN_APPROVAL_WAIT_MS,
      keyring: this.transport,
      connectedAt: (tag) => this.transport.connectedPeers(tag),
      request: (to, tag, payload, timeoutMs) => this.transport.request(to, tag, payload, timeoutMs),
      onDoor: (tag) => {
        this.knocking = tag;
        this.advertise();
      },
      onWaiting: (sentence) => this.emit('joining', { state: 'waiting', displayName: name, message: sentence }),
      onTicket: (found) => {
        const entry = this.registry.add(found.name, found.secret, false, found.later);
        this.registry.setJoining(entry.classId, { token: found.token, displayName: name });
        let runtime = this.classes.get(entry.classId);
        if (!runtime) {
          this.joinNetwork(entry);
          runtime = this.openClass(entry, false);
        }
        void this.askToJoin(runtime, name, found.token);
      },
      isClosing: () => this.closing !== null,
      isCancelled: () => this.joinCancelled,
      logger: this.options.logger,
    }).finally(() => this.emit('joining', { state: 'over', displayName: name, message: null }));
    return { classId: ticket.classId };
  }

  /** Ask whoever we can reach to admit this laptop, until the log says we are a member. */
  private async askToJoin(runtime: ClassRuntime, displayName: string, token: string): Promise<void> {
    if (this.asking.has(runtime.classId)) return;
    this.asking.add(runtime.classId);
    try {
      await this.askUntilAdmitted(runtime, displayName, token);
    } finally {
      this.asking.delete(runtime.classId);
    }
  }

  private async askUntilAdmitted(runtime: ClassRuntime, displayName: string, token: string): Promise<void> {
    const isMember = () => {
      const { voters, learners } = runtime.group.status().config;
      return voters.includes(this.laptopId) || learners.includes(this.laptopId);
    };
    const request = encodeForwardRequest({ kind: 'join', laptopId: this.laptopId, token });
    while (!this.closing && !isMember()) {
      const known = runtime.group.leader();
      const targets = known ? [known] : this.transport.connectedPeers(runtime.classId);
      for (const target of targets) {
        try {
          let reply = decodeForwardReply(await this.transport.request(target, runtime.classId, request, 3000));
          if (reply?.kind === 'notLeader' && reply.leader && reply.leader !== target) {
            // Asked the one that leads: its answer is the one that counts.
            reply = decodeForwardReply(await this.transport.request(reply.leader, runtime.classId, request, 3000));
          }
          if (reply?.kind === 'applied') break;
          if (reply?.kind === 'error' && reply.code === 'NOT_ALLOWED') {
            this.options.logger.warn('the class refused to admit this laptop', { classId: runtime.classId, reason: reply.message });
            this.registry.setJoining(runtime.classId, null);
            return;
          }
        } catch {
          // Not reachable yet: discovery or the next round will find someone.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, JOIN_RETRY_MS));
    }
    this.options.logger.info('admitted to the class', { classId: runtime.classId });
    // Now a laptop of the class, it registers its user as a student (kept in the outbox until applied).
    if (!this.closing) {
      // Kept in the outbox until applied, so the note of asking can go.
      await this.classroom
        .submit(runtime, { type: 'joinClass', displayName, laptopId: this.laptopId }, 0)
        .then(() => this.registry.setJoining(runtime.classId, null))
        .catch((error: unknown) => this.options.logger.warn('could not register as a student yet', { error: String(error) }));
    }
    this.emitStatusSoon();
  }

  // ---- reads and writes -----------------------------------------------------------------

  private async write(classId: string, command: unknown, waitMs = 5000): Promise<WriteResult> {
    const runtime = this.runtime(classId);
    const parsed = validateCommand(command);
    const wait = clampWait(waitMs);
    const outcome = await runtime.router.write(encodeKeyValueCommand(parsed), wait);
    if (outcome.status === 'applied') runtime.takeResult(outcome.seq);
    const clientId = runtime.outbox.clientId;
    return outcome.status === 'applied'
      ? { status: 'applied', index: outcome.index, clientId, seq: outcome.seq }
      : { status: 'pending', clientId, seq: outcome.seq };
  }

  private async read(classId: string, key: string, linearizable: boolean): Promise<ReadResult> {
    const runtime = this.runtime(classId);
    if (typeof key !== 'string') throw new ServiceError('BAD_KEY', 'A read needs a key.');
    if (linearizable) {
      try {
        await withTimeout(runtime.group.readIndex(), 5000);
      } catch {
        throw new ServiceError('NO_LEADER', 'The class cannot be reached right now, so an up-to-date answer is not possible.');
      }
    }
    return {
      key,
      value: runtime.stateMachine.get(runtime.storage.database, key) ?? null,
      appliedIndex: runtime.storage.appliedIndex(),
      leaderContactMs: runtime.group.leaderContactMs(),
      linearizable,
    };
  }

  // ---- status ---------------------------------------------------------------------------

  private status(): NodeStatus {
    return {
      laptopId: this.laptopId,
      displayName: this.options.displayName,
      address: `${this.laptopId}@${this.reachableHost()}:${this.transport.port}`,
      version,
      classes: [...this.classes.values()].map((runtime) => this.classStatus(runtime)),
    };
  }

  /** The address others can dial: the bind address, or this laptop's first LAN address. */
  private reachableHost(): string {
    const host = this.options.host;
    if (host !== '0.0.0.0' && host !== '::') return host.includes(':') ? `[${host}]` : host;
    for (const addresses of Object.values(networkInterfaces())) {
      const lan = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
      if (lan) return lan.address;
    }
    return '127.0.0.1';
  }

  /** The status of one class; its digest may be up to `digestMaxAgeMs` old (see ClassStatus.digestAt). */
  private classStatus(runtime: ClassRuntime, digestMaxAgeMs = 0): ClassStatus {
    const status = runtime.group.status();
    const { voters, learners } = status.config;
    const connected = new Set(this.transport.connectedPeers(runtime.classId));
    const ids = new Set([...voters, ...learners, ...connected]);
    ids.delete(this.laptopId);
    const now = Date.now();
    const peers: PeerInfo[] = [...ids].sort().map((laptopId) => {
      const heard = this.lastHeard.get(laptopId);
      const progress = status.progress[laptopId];
      return {
        laptopId,
        address: this.addressBook.addressOf(laptopId),
        connected: connected.has(laptopId),
        lastContactMs: heard === undefined ? null : now - heard,
        membership: voters.includes(laptopId) ? 'voter' : learners.includes(laptopId) ? 'learner' : 'none',
        progress: progress ? { match: progress.match, next: progress.next, state: progress.state } : null,
      };
    });
    const name = ClassroomApi.className(runtime) ?? this.registry.get(runtime.classId)?.name ?? '';
    const { index: digestAt, digest } = runtime.storage.recentDigest(digestMaxAgeMs);
    return {
      classId: runtime.classId,
      name,
      role: status.role,
      term: status.term,
      leader: runtime.group.leader(),
      commit: status.commit,
      applied: runtime.storage.appliedIndex(),
      voters,
      learners,
      peers,
      outbox: runtime.outbox.size(),
      digest,
      digestAt,
      leaderContactMs: runtime.group.leaderContactMs(),
      stopped: stoppedReason(runtime.group.stoppedBy()),
    };
  }

  /** What the backups need of this peer (electron/peer/backups). */
  private backupContext(keys: { vault: SecretVault; user: Identity }): BackupContext {
    return {
      laptopId: this.laptopId,
      user: keys.user,
      opener: this.classroom.opener,
      vault: keys.vault,
      store: this.files.store,
      logger: this.options.logger,
      minuteMs: this.options.backupMinuteMs ?? 60_000,
      classFile: (classId) => join(this.options.dataDir, 'classes', `${classId}.sqlite`),
      findClass: (classId) => this.classes.get(classId),
      classSecrets: (classId) => {
        const entry = this.registry.get(classId);
        return entry ? { secret: secretBytes(entry), later: entry.later ?? [] } : undefined;
      },
      fetchBlob: async (runtime, sha256) => {
        await this.files.fetch(runtime, this.classroom.userIdIn(runtime), sha256, this.requester(runtime.classId));
      },
      adoptClass: (name, secret, later) => {
        const entry = this.registry.add(name, secret, true, later);
        this.joinNetwork(entry);
        return this.openClass(entry, false);
      },
      submit: (runtime, command, waitMs) => this.classroom.submit(runtime, command, waitMs),
      onProgress: (progress) => this.emit('backupProgress', progress),
      onStatus: (status) => this.emit('backupStatus', status),
    };
  }

  // ---- shutdown -------------------------------------------------------------------------

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.backups.stop();
      await this.keeper.stop();
      if (this.statusTimer) clearInterval(this.statusTimer);
      if (this.exchangeTimer) clearInterval(this.exchangeTimer);
      if (this.statusSoon) clearTimeout(this.statusSoon);
      // Leadership hand-off needs the transport, so classes close first.
      await Promise.all([...this.classes.values()].map((runtime) => runtime.close()));
      await this.discovery?.stop();
      await this.transport.stop();
    })();
    return this.closing;
  }
}

function validateCommand(command: unknown): { op: 'put'; key: string; value: string } | { op: 'delete'; key: string } {
  const c = command as { op?: unknown; key?: unknown; value?: unknown } | null;
  const keyOk = typeof c?.key === 'string' && c.key.length > 0 && c.key.length <= 1024;
  if (c && keyOk && c.op === 'delete') return { op: 'delete', key: c.key as string };
  if (c && keyOk && c.op === 'put' && typeof c.value === 'string' && c.value.length <= 1024 * 1024) {
    return { op: 'put', key: c.key as string, value: c.value };
  }
  throw new ServiceError('BAD_COMMAND', 'A write is {op: "put", key, value} or {op: "delete", key}, with a key of up to 1024 characters.');
}

/** How long a write may wait to be applied before it is answered "pending": 0 to 60 s, 5 s by default. */
function clampWait(waitMs: number | undefined): number {
  return waitMs !== undefined && Number.isFinite(waitMs) ? Math.min(Math.max(0, waitMs), 60_000) : 5000;
}

function sameSet(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): boolean {
  return a !== undefined && a.size === b.size && [...b].every((each) => a.has(each));
}

/** The name a person gave (trimmed, at most 120 characters), else this laptop's display name. */
function personName(given: string | undefined, fallback: string): string {
  const name = (given ?? '').trim().slice(0, 120);
  return name.length > 0 ? name : fallback.slice(0, 120) || 'Someone';
}
