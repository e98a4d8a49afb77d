// The class's recent history, read back from its replicated log: who did what, when, at which
// index, and whether the class applied or refused it. The teacher's audit trail (every entry);
// a student sees only their own actions.
import type { ActivityEntry } from '../../shared/api';
import type { LogCommand } from '../../shared/classroom/commands';
import type { Entry } from '../raft';
import { currentMember, signerOf, userIdOf } from '../classroom';
import type { ClassRuntime } from './class-runtime';
import { decodeEnvelope } from './routing/envelope';
import { unstampWrite } from './routing/leader-stamp';

const MAX_ENTRIES = 500;

export function recentActivity(runtime: ClassRuntime, viewerId: string, limit = 100): ActivityEntry[] {
  const db = runtime.storage.database;
  const role = currentMember(db, viewerId)?.role;
  if (!role) return [];
  const names = new Map(
    (db.prepare('SELECT user_id, display_name FROM members').all() as { user_id: string; display_name: string }[]).map((m) => [m.user_id, m.display_name]),
  );
  const titles = new Map(
    (db.prepare('SELECT assignment_id, title FROM assignments').all() as { assignment_id: string; title: string }[]).map((a) => [a.assignment_id, a.title]),
  );
  const refused = db.prepare('SELECT reason FROM rejections WHERE author_id = ? AND command_id = ?').pluck();
  const last = runtime.storage.appliedIndex();
  const first = Math.max(runtime.storage.firstIndex(), last - Math.min(Math.max(1, limit), MAX_ENTRIES) * 4 + 1);
  const entries: Entry[] = last >= first ? runtime.storage.entries(first, last + 1) : [];
  const out: ActivityEntry[] = [];
  for (const entry of entries.reverse()) {
    const item = describe(entry, (keyUserId, publicKey) => signerOf(db, keyUserId, publicKey).userId, (id) => names.get(id) ?? null, (id) => titles.get(id) ?? 'an assignment');
    if (!item) continue;
    if (role !== 'teacher' && item.authorId !== viewerId) continue;
    const reason = item.authorId && item.commandId ? (refused.get(item.authorId, item.commandId) as string | undefined) : undefined;
    out.push({
      index: entry.index,
      at: item.at,
      authorId: item.authorId,
      authorName: item.authorId ? (names.get(item.authorId) ?? null) : null,
      type: item.type,
      summary: item.summary,
      outcome: reason === undefined ? 'applied' : 'rejected',
      ...(reason === undefined ? {} : { reason }),
    });
    if (out.length >= limit) break;
  }
  return out;
}

interface Described {
  at: number | null;
  authorId: string | null;
  commandId: string | null;
  type: string;
  summary: string;
}

function describe(
  entry: Entry,
  actingAs: (keyUserId: string, publicKey: string) => string,
  nameOf: (userId: string) => string | null,
  titleOf: (assignmentId: string) => string,
): Described | null {
  if (entry.type === 'confChange') {
    const changes = entry.change.changes.map((c) => `${c.nodeId.slice(0, 8)} ${c.type === 'addVoter' ? 'votes' : c.type === 'addLearner' ? 'listens' : 'leaves'}`);
    return { at: null, authorId: null, commandId: null, type: 'membership', summary: changes.length > 0 ? `Laptops: ${changes.join(', ')}` : 'Laptops: membership change finished' };
  }
  if (entry.data.byteLength === 0) return null;
  const { envelope: data, proposedAt } = unstampWrite(entry.data);
  const envelope = decodeEnvelope(data);
  if (typeof envelope === 'string') return null;
  let signed: { commandId?: string; publicKey?: string; command?: LogCommand };
  try {
    signed = JSON.parse(new TextDecoder().decode(envelope.command)) as typeof signed;
  } catch {
    return null;
  }
  if (!signed.command || typeof signed.publicKey !== 'string') return null;
  const keyUserId = userIdOf(signed.publicKey);
  // A re-admitted student's commands from their new laptop are theirs.
  const authorId = keyUserId && actingAs(keyUserId, signed.publicKey);
  const who = (authorId && nameOf(authorId)) ?? 'Someone';
  return { at: proposedAt, authorId, commandId: signed.commandId ?? null, type: signed.command.type, summary: summarize(who, signed.command, nameOf, titleOf) };
}

function summarize(who: string, command: LogCommand, nameOf: (userId: string) => string | null, titleOf: (id: string) => string): string {
  const student = (id: string) => nameOf(id) ?? 'a student';
  switch (command.type) {
    case 'createClass':
      return `${who} created the class “${command.name}”`;
    case 'setJoinCode':
      // Never the code itself: the log is shown to students too.
      return command.joinCode === null ? `${who} turned joining off` : `${who} made a new join code`;
    case 'joinClass':
      return `${command.displayName} joined the class`;
    case 'addTeacher':
      return `${who} made ${student(command.userId)} a teacher`;
    case 'removeMember':
      return `${who} removed ${student(command.userId)} from the class`;
    case 'createAssignment':
      return `${who} created “${command.title}”${command.published ? '' : ' (draft)'}`;
    case 'editAssignment':
      return `${who} edited “${command.title}”`;
    case 'grantExtension':
      return `${who} gave ${student(command.studentId)} an extension on “${titleOf(command.assignmentId)}”`;
    case 'saveDraft':
      return `${who} saved work on “${titleOf(command.assignmentId)}”`;
    case 'turnIn':
      return `${who} turned in “${titleOf(command.assignmentId)}”`;
    case 'unsubmit':
      return `${who} unsubmitted “${titleOf(command.assignmentId)}”`;
    case 'grade':
      return `${who} graded ${student(command.studentId)} on “${titleOf(command.assignmentId)}”`;
    case 'returnGrade':
      return `${who} returned ${student(command.studentId)}’s grade on “${titleOf(command.assignmentId)}”`;
    case 'excuse':
      return `${who} ${command.excused ? 'excused' : 'stopped excusing'} ${student(command.studentId)} from “${titleOf(command.assignmentId)}”`;
    case 'comment':
      return `${who} commented on ${student(command.studentId)}’s “${titleOf(command.assignmentId)}”`;
    case 'setJoinApproval':
      return command.approve ? `${who} asked to approve each new student` : `${who} let anyone with the join code in`;
    case 'requestToJoin':
      return `${command.displayName} asked to join from laptop ${command.laptopId.slice(0, 8)}`;
    case 'answerJoinRequest':
      return `${who} ${command.approve ? 'let' : 'did not let'} laptop ${command.laptopId.slice(0, 8)} in`;
    case 'readmitStudent':
      return `${who} re-admitted ${student(command.studentId)} on a new laptop`;
    case 'noteRules':
      return `${who}’s laptop ${command.laptopId.slice(0, 8)} runs a Quorum that knows class rules ${command.rules}`;
    case 'adoptRules':
      return `${who} moved the class onto rules ${command.rules}: laptops with an older Quorum need updating`;
    case 'shareKeys':
      return `${who} let ${nameOf(command.userId) ?? 'a teacher'} read ${command.keys.length === 1 ? 'one earlier item' : `${command.keys.length} earlier items`}`;
  }
}
