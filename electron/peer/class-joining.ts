// Joining a class with its join code. The code is not the class's secret: each class's current
// code opens a "door", a class tag of its own that every laptop of the class advertises and
// accepts. A new laptop proves the code at a door (the transport's handshake proves it without
// sending it) and asks for a ticket: the class's id, name and secret. With those it joins the way
// a laptop of the class connects, and asks to be admitted. A teacher makes a new code or takes it
// away by a command in the class's log; each laptop then closes the old door. Laptops already in
// the class never need the code again, so a new code leaves them alone. In a class whose teacher
// approves each student, a laptop not let in yet is told to wait, and asks again until it is.
//   ticket request: [9][JSON {displayName}] (the name it asks as; a bare [9] from older laptops
//                   carries none, and an older door refuses the longer frame as not a request)
//   reply: [9][JSON {classId, name, secret (base64url), later?, token} | {refused} | {waiting}]
// `secret` is the one the class was made with (its tag is the class's id); `later` the secrets
// that replaced it as members were removed, oldest first: the newest is what the class proves now.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJoinCode } from '../../shared/join-code';
import { classTag } from './discovery';
import { laterSecretsFrom, type LaterSecret } from './class-registry';
import { ServiceError } from './service';
import type { Logger } from './transport/types';

const TICKET = 9;
const MAX_TICKET_BYTES = 4096;
const DOOR_SALT = 'quorum/join-door/1';
const MAX_TICKET_REQUEST_BYTES = 1024;
/** The longest name a request may carry, as a member's name in the class (LIMITS.name). */
const MAX_ASKING_NAME = 120;
const ASK_EVERY_MS = 250;
/** While told to wait, ask again this often: a teacher's answer takes seconds, not milliseconds. */
const ASK_WHILE_WAITING_MS = 1000;
const TICKET_TIMEOUT_MS = 3000;

export interface Ticket {
  classId: string;
  name: string;
  secret: Uint8Array;
  /** The secrets that replaced it, oldest first (see class-registry.ts). */
  later: LaterSecret[];
  /** Shows the class's leader that this laptop came in with the code in use (see admissionToken). */
  token: string;
}

/** A ticket; a refusal (a sentence); or, while a teacher has not yet let this laptop in, a sentence saying so. */
export type TicketReply = { ticket: Ticket } | { refused: string } | { waiting: string };

/** A ticket request: the name the asker asks as, or null from a laptop too old to give one. */
export interface TicketRequest {
  displayName: string | null;
}

/** The door's secret for a join code (canonical form): a key of its own, never the class's. */
export function doorSecretOf(code: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', new TextEncoder().encode(code), DOOR_SALT, 'door', 32));
}

/** The class tag of the door a join code opens. */
export function doorTagOf(code: string): string {
  return classTag(doorSecretOf(code));
}

/**
 * What a laptop that proved `code` is given to be admitted: only laptops that know the code in
 * use can make it, so a laptop that knows the class's secret but not the current code (one
 * removed from the class, say) can't get in by asking.
 */
export function admissionToken(code: string, laptopId: string): string {
  return createHmac('sha256', doorSecretOf(code)).update(`quorum/admit/1\n${laptopId}`).digest('base64url');
}

/** Whether `token` admits `laptopId` under the join code in use (`code`). */
export function admissionTokenMatches(code: string, laptopId: string, token: string): boolean {
  const expected = Buffer.from(admissionToken(code, laptopId));
  const given = Buffer.from(token);
  return given.byteLength === expected.byteLength && timingSafeEqual(given, expected);
}

/** A request for a ticket, asking as `displayName` (trimmed and cut to MAX_ASKING_NAME characters). */
export function encodeTicketRequest(displayName: string): Uint8Array {
  const name = displayName.trim().slice(0, MAX_ASKING_NAME);
  return Buffer.concat([Uint8Array.of(TICKET), Buffer.from(JSON.stringify({ displayName: name }))]);
}

/** A ticket request, or null for anything else (never throws). */
export function decodeTicketRequest(payload: Uint8Array): TicketRequest | null {
  if (payload.byteLength === 0 || payload[0] !== TICKET || payload.byteLength > MAX_TICKET_REQUEST_BYTES) return null;
  if (payload.byteLength === 1) return { displayName: null };
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(1))) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const { displayName } = value as Record<string, unknown>;
    if (typeof displayName !== 'string') return null;
    const name = displayName.trim();
    return name.length > 0 && name.length <= MAX_ASKING_NAME ? { displayName: name } : null;
  } catch {
    return null;
  }
}

export function isTicketRequest(payload: Uint8Array): boolean {
  return decodeTicketRequest(payload) !== null;
}

export function encodeTicketReply(reply: TicketReply): Uint8Array {
  const json =
    'ticket' in reply
      ? {
          classId: reply.ticket.classId,
          name: reply.ticket.name,
          secret: Buffer.from(reply.ticket.secret).toString('base64url'),
          ...(reply.ticket.later.length > 0 ? { later: reply.ticket.later } : {}),
          token: reply.ticket.token,
        }
      : 'refused' in reply
        ? { refused: reply.refused }
        : { waiting: reply.waiting };
  const body = Buffer.from(JSON.stringify(json));
  return Buffer.concat([Uint8Array.of(TICKET), body]);
}

/** A reply as sent by a laptop of the class, or null for anything else. */
export function decodeTicketReply(payload: Uint8Array): TicketReply | null {
  if (payload.byteLength < 2 || payload.byteLength > MAX_TICKET_BYTES || payload[0] !== TICKET) return null;
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(1))) as Record<string, unknown> | null;
    if (typeof value !== 'object' || value === null) return null;
    if (typeof value.refused === 'string') return { refused: value.refused.slice(0, 300) };
    if (typeof value.waiting === 'string') return { waiting: value.waiting.slice(0, 300) };
    const { classId, name, secret, token } = value;
    const later = laterSecretsFrom(value.later);
    if (later === null) return null;
    if (typeof classId !== 'string' || typeof name !== 'string' || typeof secret !== 'string' || name.length > 200) return null;
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const bytes = new Uint8Array(Buffer.from(secret, 'base64url'));
    // The ticket must name the class its secret belongs to, or a laptop could be sent elsewhere.
    if (bytes.byteLength < 16 || bytes.byteLength > 64 || classTag(bytes) !== classId) return null;
    return { ticket: { classId, name, secret: bytes, later, token } };
  } catch {
    return null;
  }
}

/** What the doors need of the transport. */
export interface DoorKeyring {
  addClass(classTag: string, secret: Uint8Array): void;
  removeClass(classTag: string): void;
}

/**
 * The doors this laptop keeps open: one per class it is in whose join code is in use. Kept in
 * step with each class's replicated code by `sync` after every apply.
 */
export class JoinDoors {
  /** door tag → class id */
  private readonly classByDoor = new Map<string, string>();
  /** class id → [door tag, code] */
  private readonly doorByClass = new Map<string, { tag: string; code: string }>();

  constructor(
    private readonly keyring: DoorKeyring,
    private readonly onChange: () => void,
  ) {}

  /** Open the door of `classId`'s current `code` (canonical form) and close its old one; null closes it. */
  sync(classId: string, code: string | null): void {
    const open = this.doorByClass.get(classId);
    if (open?.code === code) return;
    if (open) {
      this.classByDoor.delete(open.tag);
      this.doorByClass.delete(classId);
      this.keyring.removeClass(open.tag);
    }
    if (code !== null) {
      const tag = doorTagOf(code);
      this.keyring.addClass(tag, doorSecretOf(code));
      this.classByDoor.set(tag, classId);
      this.doorByClass.set(classId, { tag, code });
    }
    this.onChange();
  }

  /** The class whose open door `tag` is, if any. */
  classOf(tag: string): string | undefined {
    return this.classByDoor.get(tag);
  }

  tags(): string[] {
    return [...this.classByDoor.keys()];
  }
}

export interface KnockOptions {
  /** The join code as typed. */
  joinCode: string;
  /** The name this laptop's user asks as (shown to the teacher in a class that approves each student). */
  displayName: string;
  /** Give up after this long without a ticket. */
  waitMs: number;
  /** Once told to wait for a teacher, give up only after this long from the start. */
  approvalWaitMs: number;
  keyring: DoorKeyring;
  /** Laptops connected through a door: those that proved the same code. */
  connectedAt: (tag: string) => string[];
  request: (to: string, tag: string, payload: Uint8Array, timeoutMs: number) => Promise<Uint8Array>;
  /** Called with the door's tag while knocking (to advertise and browse for it), then with null. */
  onDoor: (tag: string | null) => void;
  /** Called with the sentence the class said when it first tells this laptop to wait for a teacher. */
  onWaiting: (sentence: string) => void;
  /** Called with the ticket before the door closes. */
  onTicket: (ticket: Ticket) => void;
  isClosing: () => boolean;
  /** Whether the person gave up waiting (checked between rounds). */
  isCancelled: () => boolean;
  logger: Logger;
}

/**
 * Find a laptop of the class behind `joinCode`'s door and get a ticket from it. Throws a
 * ServiceError with a sentence: a code that can't be one, nobody answering in time, a refusal, a
 * teacher who did not answer in time, or the person cancelling.
 */
export async function knock(options: KnockOptions): Promise<Ticket> {
  const code = canonicalJoinCode(typeof options.joinCode === 'string' ? options.joinCode : '');
  if (code === null) {
    throw new ServiceError('BAD_JOIN_CODE', 'That join code is not right. Check it against the one your teacher shows and try again.');
  }
  const tag = doorTagOf(code);
  options.keyring.addClass(tag, doorSecretOf(code));
  options.onDoor(tag);
  const startedAt = Date.now();
  let deadline = startedAt + options.waitMs;
  let waiting = false;
  const request = encodeTicketRequest(options.displayName);
  try {
    while (!options.isClosing() && !options.isCancelled() && Date.now() < deadline) {
      for (const laptop of options.connectedAt(tag)) {
        const reply = await options
          .request(laptop, tag, request, TICKET_TIMEOUT_MS)
          .then(decodeTicketReply)
          .catch(() => null);
        if (reply && 'ticket' in reply) {
          // Into the class before the door closes, so the connection that brought the ticket stays.
          options.onTicket(reply.ticket);
          return reply.ticket;
        }
        if (reply && 'refused' in reply) throw new ServiceError('NOT_ALLOWED', reply.refused);
        if (reply && !waiting) {
          waiting = true;
          deadline = Math.max(deadline, startedAt + options.approvalWaitMs);
          options.onWaiting(reply.waiting);
        }
        if (!reply) options.logger.debug('no ticket from a laptop at the door', { laptop });
      }
      await new Promise((resolve) => setTimeout(resolve, waiting ? ASK_WHILE_WAITING_MS : ASK_EVERY_MS));
    }
  } finally {
    options.keyring.removeClass(tag);
    options.onDoor(null);
  }
  if (options.isCancelled()) throw new ServiceError('CANCELLED', 'You stopped asking to join the class.');
  if (waiting) {
    throw new ServiceError(
      'NOT_LET_IN',
      `Your teacher has not let you in within ${Math.round(options.approvalWaitMs / 60_000)} minutes. Ask your teacher to look at the People page, then try again.`,
    );
  }
  throw new ServiceError(
    'CLASS_NOT_FOUND',
    'No laptop of a class with this join code answered. Check the code against the one your teacher shows (the teacher may have made a new one), ' +
      'make sure the teacher’s laptop is on and on this network, or add it by its address.',
  );
}
