import type { ConfChange, Entry, Message, SnapshotMeta } from './types';

// Messages come from other laptops: a faulty or hostile peer can send anything. The core
// checks the shape of every message before acting on it and ignores what doesn't fit.

const isIndex = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array;
const isContext = (value: unknown): boolean => value === null || typeof value === 'string';

function isConfChange(value: unknown): value is ConfChange {
  if (typeof value !== 'object' || value === null) return false;
  const cc = value as ConfChange;
  if (!Array.isArray(cc.changes)) return false;
  if (cc.transition !== undefined && !['auto', 'jointImplicit', 'jointExplicit'].includes(cc.transition)) return false;
  return cc.changes.every(
    (c) => typeof c === 'object' && c !== null && isId(c.nodeId) && ['addVoter', 'addLearner', 'removeNode'].includes(c.type),
  );
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Entry;
  if (!isIndex(e.index) || !isIndex(e.term) || e.index === 0) return false;
  if (e.type === 'normal') return isBytes(e.data);
  if (e.type === 'confChange') return isConfChange(e.change);
  return false;
}

/** Entries must be consecutive after `prevIndex` with non-decreasing terms. */
function areEntries(value: unknown, prevIndex: number, term: number): value is Entry[] {
  if (!Array.isArray(value)) return false;
  let index = prevIndex;
  let lastTerm = 0;
  for (const entry of value) {
    if (!isEntry(entry) || entry.index !== index + 1 || entry.term < lastTerm || entry.term > term) return false;
    index = entry.index;
    lastTerm = entry.term;
  }
  return true;
}

function isSnapshotMeta(value: unknown): value is SnapshotMeta {
  if (typeof value !== 'object' || value === null) return false;
  const meta = value as SnapshotMeta;
  const cs = meta.confState;
  const idList = (list: unknown) => Array.isArray(list) && list.every(isId);
  return (
    isIndex(meta.index) &&
    meta.index > 0 &&
    isIndex(meta.term) &&
    typeof cs === 'object' &&
    cs !== null &&
    idList(cs.voters) &&
    idList(cs.learners) &&
    idList(cs.votersOutgoing) &&
    idList(cs.learnersNext) &&
    typeof cs.autoLeave === 'boolean'
  );
}

/** Whether `m` is a message this core could have produced. */
export function isWellFormedMessage(m: unknown): m is Message {
  if (typeof m !== 'object' || m === null) return false;
  const msg = m as Message;
  if (!isId(msg.from) || !isId(msg.to) || !isIndex(msg.term)) return false;
  switch (msg.type) {
    case 'app':
      return isIndex(msg.index) && isIndex(msg.logTerm) && isIndex(msg.commit) && areEntries(msg.entries, msg.index, msg.term);
    case 'appResp':
      return isIndex(msg.index) && typeof msg.reject === 'boolean' && isIndex(msg.hintIndex) && isIndex(msg.hintTerm);
    case 'vote':
    case 'preVote':
      return isIndex(msg.index) && isIndex(msg.logTerm) && typeof msg.transfer === 'boolean';
    case 'voteResp':
    case 'preVoteResp':
      return typeof msg.reject === 'boolean';
    case 'heartbeat':
      return isIndex(msg.commit) && isContext(msg.context);
    case 'heartbeatResp':
      return isContext(msg.context);
    case 'snap':
      return (
        isSnapshotMeta(msg.meta) &&
        isIndex(msg.attempt) &&
        isIndex(msg.offset) &&
        isIndex(msg.totalBytes) &&
        isBytes(msg.data) &&
        msg.offset + msg.data.byteLength <= msg.totalBytes
      );
    case 'snapResp':
      return isIndex(msg.index) && isIndex(msg.attempt) && isIndex(msg.offset);
    case 'timeoutNow':
      return true;
    case 'readIndex':
      return typeof msg.requestId === 'string';
    case 'readIndexResp':
      return typeof msg.requestId === 'string' && isIndex(msg.index);
    case 'transferLeader':
      return isId(msg.target);
    default:
      return false;
  }
}

export { isConfChange };
