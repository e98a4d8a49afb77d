// Joining a class with its join code. The code is not the class's secret: each class's current
// code opens a "door", a class tag of its own that every laptop of the class advertises and
// accepts. A new laptop proves the code at a door (the transport's handshake proves it without
// sending it) and asks for a ticket: the class's id, name and secret. With those it joins the way
// a laptop of the class connects, and asks to be admitted. A teacher makes a new code or takes it
// away by a command in the class's log; each laptop then closes the old door. Laptops already in
// the class never need the code again, so a new code leaves them alone.
//   ticket request: [9]      reply: [9][JSON {classId, name, secret (base64url), later?, token} | {refused}]
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
const ASK_EVERY_MS = 250;
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

export type TicketReply = { ticket: Ticket } | { refused: string };

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

export function encodeTicketRequest(): Uint8Array {
  return Uint8Array.of(TICKET);
}

export function isTicketRequest(payload: Uint8Array): boolean {
  return payload.byteLength === 1 && payload[0] === TICKET;
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
      : { refused: reply.refused };
  const body = Buffer.from(JSON.stringify(json));
  return Buffer.concat([Uint8Array.of(TICKET), body]);
}

/** A reply as sent by a laptop of the class, or null for anything else. */
export function decodeTicketReply(payload: Uint8Array): TicketReply | null {
  if (payload.byteLength < 2 || payload.byteLength > MAX_TICKET_BYTES || payload[0] !== TICKET) return null;
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(1))) as Record<string, unknown>;
    if (typeof value.refused === 'string') return { refused: value.refused.slice(0, 300) };
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
  /** Give up after this long without a ticket. */
  waitMs: number;
  keyring: DoorKeyring;
  /** Laptops connected through a door: those that proved the same code. */
  connectedAt: (tag: string) => string[];
  request: (to: string, tag: string, payload: Uint8Array, timeoutMs: number) => Promise<Uint8Array>;
  /** Called with the door's tag while knocking (to advertise and browse for it), then with null. */
  onDoor: (tag: string | null) => void;
  /** Called with the ticket before the door closes. */
  onTicket: (ticket: Ticket) => void;
  isClosing: () => boolean;
  logger: Logger;
}

/**
 * Find a laptop of the class behind `joinCode`'s door and get a ticket from it. Throws a
 * ServiceError with a sentence: a code that can't be one, nobody answering in time, or a refusal.
 */
export async function knock(options: KnockOptions): Promise<Ticket> {
  const code = canonicalJoinCode(typeof options.joinCode === 'string' ? options.joinCode : '');
  if (code === null) {
    throw new ServiceError('BAD_JOIN_CODE', 'That join code is not right. Check it against the one your teacher shows and try again.');
  }
  const tag = doorTagOf(code);
  options.keyring.addClass(tag, doorSecretOf(code));
  options.onDoor(tag);
  const deadline = Date.now() + options.waitMs;
  try {
    while (!options.isClosing() && Date.now() < deadline) {
      for (const laptop of options.connectedAt(tag)) {
        const reply = await options
          .request(laptop, tag, encodeTicketRequest(), TICKET_TIMEOUT_MS)
          .then(decodeTicketReply)
          .catch(() => null);
        if (reply && 'ticket' in reply) {
          // Into the class before the door closes, so the connection that brought the ticket stays.
          options.onTicket(reply.ticket);
          return reply.ticket;
        }
        if (reply) throw new ServiceError('NOT_ALLOWED', reply.refused);
        options.logger.debug('no ticket from a laptop at the door', { laptop });
      }
      await new Promise((resolve) => setTimeout(resolve, ASK_EVERY_MS));
    }
  } finally {
    options.keyring.removeClass(tag);
    options.onDoor(null);
  }
  throw new ServiceError(
    'CLASS_NOT_FOUND',
    'No laptop of a class with this join code answered. Check the code against the one your teacher shows (the teacher may have made a new one), ' +
      'make sure the teacher’s laptop is on and on this network, or add it by its address.',
  );
}
