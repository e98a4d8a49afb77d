// Plain data shared by the Raft core and whoever drives it. Everything here is
// serializable (numbers, strings, booleans, arrays, Uint8Array) so a transport
// can encode it and a test can copy it.

/** A node's identity. In Quorum this is the laptop id derived from its public key. */
export type NodeId = string;

/** What a node currently believes it is. */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Kinds of membership change; one `ConfChange` carries one or several. */
export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode';

/** One change to the membership: add or promote a voter, add or demote to a learner, or remove. */
export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: NodeId;
}

/**
 * How a change takes effect.
 * - `auto`: a single voter change is applied directly; anything larger goes through
 *   joint consensus and the leader leaves the joint configuration by itself.
 * - `jointImplicit`: always joint consensus, left automatically.
 * - `jointExplicit`: always joint consensus; the application leaves it by proposing
 *   a `ConfChange` with no changes.
 */
export type ConfChangeTransition = 'auto' | 'jointImplicit' | 'jointExplicit';

/** A membership change proposal. An empty `changes` list leaves a joint configuration. */
export interface ConfChange {
  changes: ConfChangeSingle[];
  transition?: ConfChangeTransition;
}

/**
 * The membership at some index. `votersOutgoing` is non-empty only in a joint
 * configuration, where decisions need a majority of both `voters` and `votersOutgoing`.
 * `learnersNext` are voters of the outgoing half that become learners on leaving.
 */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  votersOutgoing: NodeId[];
  learnersNext: NodeId[];
  autoLeave: boolean;
}

/** The state that must be durable before any message depending on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

/** Volatile state an application shows (who leads, what this node is). */
export interface SoftState {
  role: Role;
  leader: NodeId | null;
}

interface EntryBase {
  index: number;
  term: number;
}

/** An application command (or, with empty data, a new leader's no-op). */
export interface NormalEntry extends EntryBase {
  type: 'normal';
  data: Uint8Array;
}

/** A membership change, applied by the core when handed to the application. */
export interface ConfChangeEntry extends EntryBase {
  type: 'confChange';
  change: ConfChange;
}

export type Entry = NormalEntry | ConfChangeEntry;

/** Where a snapshot sits in the log and the membership at that point. */
export interface SnapshotMeta {
  index: number;
  term: number;
  confState: ConfState;
}

/** A state-machine image at `meta.index`; `data` is opaque to the core. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/** Answer to `readIndex`: once the application has applied `index`, a read tagged `requestId` is linearizable. */
export interface ReadState {
  index: number;
  requestId: string;
}

interface MessageBase {
  from: NodeId;
  to: NodeId;
  term: number;
}

/** Append entries after (index, logTerm); also carries the leader's commit. */
export interface AppendMessage extends MessageBase {
  type: 'app';
  index: number;
  logTerm: number;
  entries: Entry[];
  commit: number;
}

/**
 * Reply to `app`. On success `index` is the last index now known to match.
 * On rejection `index` is the rejected probe index and (`hintIndex`, `hintTerm`)
 * point at the follower's last entry at or below it with term ≤ the probe's term,
 * so the leader skips a whole term per round trip.
 */
export interface AppendResponseMessage extends MessageBase {
  type: 'appResp';
  index: number;
  reject: boolean;
  hintIndex: number;
  hintTerm: number;
}

/** Request a (pre-)vote. `index`/`logTerm` describe the candidate's last entry. */
export interface VoteMessage extends MessageBase {
  type: 'vote' | 'preVote';
  index: number;
  logTerm: number;
  /** Set when the election was started by a leadership transfer: bypasses the leader lease. */
  transfer: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  type: 'voteResp' | 'preVoteResp';
  reject: boolean;
}

/** Keeps followers' election timers reset; `context` ties it to a ReadIndex round. */
export interface HeartbeatMessage extends MessageBase {
  type: 'heartbeat';
  commit: number;
  context: string | null;
}

export interface HeartbeatResponseMessage extends MessageBase {
  type: 'heartbeatResp';
  context: string | null;
}

/** One chunk of a snapshot; `offset` is where `data` starts within the whole of `totalBytes`. */
export interface SnapshotChunkMessage extends MessageBase {
  type: 'snap';
  meta: SnapshotMeta;
  /** The leader's attempt number for this transfer; echoed in acknowledgements. */
  attempt: number;
  offset: number;
  totalBytes: number;
  data: Uint8Array;
}

/** Acknowledges snapshot chunks: the follower holds bytes [0, offset) of snapshot `index`. */
export interface SnapshotChunkResponseMessage extends MessageBase {
  type: 'snapResp';
  index: number;
  /** The attempt of the chunk being answered. */
  attempt: number;
  offset: number;
}

/** Tells a caught-up transfer target to start an election at once. */
export interface TimeoutNowMessage extends MessageBase {
  type: 'timeoutNow';
}

/** A follower forwarding `readIndex` or `transferLeadership` to the leader it knows. */
export interface ReadIndexMessage extends MessageBase {
  type: 'readIndex';
  requestId: string;
}

export interface ReadIndexResponseMessage extends MessageBase {
  type: 'readIndexResp';
  requestId: string;
  index: number;
}

export interface TransferLeaderMessage extends MessageBase {
  type: 'transferLeader';
  target: NodeId;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotChunkMessage
  | SnapshotChunkResponseMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage
  | TransferLeaderMessage;

export type MessageType = Message['type'];

/**
 * Everything the node needs the application to do, in this order:
 * 1. persist `hardState`, `entries` (replacing any stored suffix from `entries[0].index`)
 *    and `snapshot` — in one durable write;
 * 2. only then send `messages` (a vote or an append must be durable before anyone hears of it);
 * 3. apply `snapshot` (if any) and then `committedEntries` to the state machine;
 * 4. call `advance()`.
 */
export interface Ready {
  /** Present when role or leader changed since the last Ready. */
  softState?: SoftState;
  /** Present when term, vote or commit changed since the last Ready. */
  hardState?: HardState;
  /** New log entries to persist. */
  entries: Entry[];
  /** A snapshot received from the leader, to persist and apply. */
  snapshot?: Snapshot;
  /** Entries known committed and not yet handed out, to apply in order. */
  committedEntries: Entry[];
  /** Messages to send once step 1 is durable. */
  messages: Message[];
  /** Answers to `readIndex` requests. */
  readStates: ReadState[];
  /** True when step 1 must be fsynced (entries, a snapshot, or a term/vote change). */
  mustSync: boolean;
}

/** Replication state of one follower as seen by the leader. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  inflight: number;
  /** Snapshot index being sent, while `state` is `snapshot`. */
  pendingSnapshot: number;
}

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId | null;
  role: Role;
  leader: NodeId | null;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  config: ConfState;
  /** Per peer (including itself), only on the leader. */
  progress: Record<NodeId, ProgressStatus>;
  /** Target of a leadership transfer in progress, or null. */
  leadTransferee: NodeId | null;
}
