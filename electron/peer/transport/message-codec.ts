// The compact binary form of a Raft `Message` (electron/raft/types.ts). Fields are written in
// a fixed order per type, integers as varints and payloads as raw bytes. The codes below are
// part of the wire format: never renumber them, only add.
//
// The decoder checks structure (types, lengths, enums, UTF-8, exact length); whether a message
// makes sense for Raft (consecutive entries, terms) is the core's job (electron/raft/validate.ts).
import type {
  ConfChange,
  ConfChangeTransition,
  ConfChangeType,
  ConfState,
  Entry,
  Message,
  MessageType,
  SnapshotMeta,
} from '../../raft/types';
import { ByteReader, ByteWriter } from './binary';
import { FrameDecodeError } from './errors';

const messageTypeCodes: Record<MessageType, number> = {
  app: 1,
  appResp: 2,
  vote: 3,
  preVote: 4,
  voteResp: 5,
  preVoteResp: 6,
  heartbeat: 7,
  heartbeatResp: 8,
  snap: 9,
  snapResp: 10,
  timeoutNow: 11,
  readIndex: 12,
  readIndexResp: 13,
  transferLeader: 14,
};
const messageTypesByCode = invert(messageTypeCodes);

const entryTypeCodes: Record<Entry['type'], number> = { normal: 0, confChange: 1 };
const entryTypesByCode = invert(entryTypeCodes);

const changeTypeCodes: Record<ConfChangeType, number> = { addVoter: 0, addLearner: 1, removeNode: 2 };
const changeTypesByCode = invert(changeTypeCodes);

// 0 stands for an absent `transition`, so `{ changes }` and `{ changes, transition: 'auto' }` stay distinct.
const transitionCodes: Record<ConfChangeTransition, number> = { auto: 1, jointImplicit: 2, jointExplicit: 3 };
const transitionsByCode = invert(transitionCodes);

/** Node ids are laptop ids (26 characters); anything much longer is not one. */
const MAX_NODE_ID_BYTES = 255;

function invert<K extends string>(codes: Record<K, number>): Map<number, K> {
  return new Map(Object.entries<number>(codes).map(([name, code]) => [code, name as K]));
}

function decodeEnum<K>(table: Map<number, K>, code: number, what: string): K {
  const value = table.get(code);
  if (value === undefined) throw new FrameDecodeError(`unknown ${what} code ${code}`);
  return value;
}

/** Appends `message` to `w`. */
export function writeMessage(w: ByteWriter, message: Message): void {
  w.u8(messageTypeCodes[message.type]);
  w.string(message.from, MAX_NODE_ID_BYTES).string(message.to, MAX_NODE_ID_BYTES).varint(message.term);
  switch (message.type) {
    case 'app':
      w.varint(message.index).varint(message.logTerm).varint(message.commit).varint(message.entries.length);
      for (const entry of message.entries) writeEntry(w, entry);
      return;
    case 'appResp':
      w.varint(message.index).bool(message.reject).varint(message.hintIndex).varint(message.hintTerm);
      return;
    case 'vote':
    case 'preVote':
      w.varint(message.index).varint(message.logTerm).bool(message.transfer);
      return;
    case 'voteResp':
    case 'preVoteResp':
      w.bool(message.reject);
      return;
    case 'heartbeat':
      w.varint(message.commit).nullableString(message.context);
      return;
    case 'heartbeatResp':
      w.nullableString(message.context);
      return;
    case 'snap':
      writeSnapshotMeta(w, message.meta);
      w.varint(message.attempt).varint(message.offset).varint(message.totalBytes).bytes(message.data);
      return;
    case 'snapResp':
      w.varint(message.index).varint(message.attempt).varint(message.offset);
      return;
    case 'timeoutNow':
      return;
    case 'readIndex':
      w.string(message.requestId);
      return;
    case 'readIndexResp':
      w.string(message.requestId).varint(message.index);
      return;
    case 'transferLeader':
      w.string(message.target, MAX_NODE_ID_BYTES);
      return;
  }
}

/** Reads one message from `r`; the caller checks that nothing follows. */
export function readMessage(r: ByteReader): Message {
  const type = decodeEnum(messageTypesByCode, r.u8('message type'), 'message type');
  const from = r.string('from', MAX_NODE_ID_BYTES);
  const to = r.string('to', MAX_NODE_ID_BYTES);
  const term = r.varint('term');
  const base = { from, to, term };
  switch (type) {
    case 'app': {
      const index = r.varint('index');
      const logTerm = r.varint('logTerm');
      const commit = r.varint('commit');
      const count = r.count('entry count');
      const entries: Entry[] = [];
      for (let i = 0; i < count; i++) entries.push(readEntry(r));
      return { ...base, type, index, logTerm, commit, entries };
    }
    case 'appResp':
      return {
        ...base,
        type,
        index: r.varint('index'),
        reject: r.bool('reject'),
        hintIndex: r.varint('hintIndex'),
        hintTerm: r.varint('hintTerm'),
      };
    case 'vote':
    case 'preVote':
      return { ...base, type, index: r.varint('index'), logTerm: r.varint('logTerm'), transfer: r.bool('transfer') };
    case 'voteResp':
    case 'preVoteResp':
      return { ...base, type, reject: r.bool('reject') };
    case 'heartbeat':
      return { ...base, type, commit: r.varint('commit'), context: r.nullableString('context') };
    case 'heartbeatResp':
      return { ...base, type, context: r.nullableString('context') };
    case 'snap': {
      const meta = readSnapshotMeta(r);
      const attempt = r.varint('attempt');
      const offset = r.varint('offset');
      const totalBytes = r.varint('totalBytes');
      return { ...base, type, meta, attempt, offset, totalBytes, data: r.bytesField('snapshot data') };
    }
    case 'snapResp':
      return { ...base, type, index: r.varint('index'), attempt: r.varint('attempt'), offset: r.varint('offset') };
    case 'timeoutNow':
      return { ...base, type };
    case 'readIndex':
      return { ...base, type, requestId: r.string('requestId') };
    case 'readIndexResp':
      return { ...base, type, requestId: r.string('requestId'), index: r.varint('index') };
    case 'transferLeader':
      return { ...base, type, target: r.string('target', MAX_NODE_ID_BYTES) };
  }
}

function writeEntry(w: ByteWriter, entry: Entry): void {
  w.u8(entryTypeCodes[entry.type]).varint(entry.index).varint(entry.term);
  if (entry.type === 'normal') w.bytes(entry.data);
  else writeConfChange(w, entry.change);
}

function readEntry(r: ByteReader): Entry {
  const type = decodeEnum(entryTypesByCode, r.u8('entry type'), 'entry type');
  const index = r.varint('entry index');
  const term = r.varint('entry term');
  if (type === 'normal') return { type, index, term, data: r.bytesField('entry data') };
  return { type, index, term, change: readConfChange(r) };
}

function writeConfChange(w: ByteWriter, change: ConfChange): void {
  w.u8(change.transition === undefined ? 0 : transitionCodes[change.transition]);
  w.varint(change.changes.length);
  for (const single of change.changes) w.u8(changeTypeCodes[single.type]).string(single.nodeId, MAX_NODE_ID_BYTES);
}

function readConfChange(r: ByteReader): ConfChange {
  const transitionCode = r.u8('transition');
  const count = r.count('change count');
  const changes: ConfChange['changes'] = [];
  for (let i = 0; i < count; i++) {
    const type = decodeEnum(changeTypesByCode, r.u8('change type'), 'change type');
    changes.push({ type, nodeId: r.string('change nodeId', MAX_NODE_ID_BYTES) });
  }
  if (transitionCode === 0) return { changes };
  return { changes, transition: decodeEnum(transitionsByCode, transitionCode, 'transition') };
}

function writeSnapshotMeta(w: ByteWriter, meta: SnapshotMeta): void {
  w.varint(meta.index).varint(meta.term);
  const cs = meta.confState;
  for (const list of [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext]) {
    w.varint(list.length);
    for (const id of list) w.string(id, MAX_NODE_ID_BYTES);
  }
  w.bool(cs.autoLeave);
}

function readSnapshotMeta(r: ByteReader): SnapshotMeta {
  const index = r.varint('snapshot index');
  const term = r.varint('snapshot term');
  const readIds = (what: string): string[] => {
    const count = r.count(what);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(r.string(what, MAX_NODE_ID_BYTES));
    return ids;
  };
  const confState: ConfState = {
    voters: readIds('voters'),
    learners: readIds('learners'),
    votersOutgoing: readIds('votersOutgoing'),
    learnersNext: readIds('learnersNext'),
    autoLeave: r.bool('autoLeave'),
  };
  return { index, term, confState };
}
