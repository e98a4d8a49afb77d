// The pieces of joining by code: the doors a laptop keeps open as the class's code changes, and
// the ticket a door hands out, which must name the class its secret belongs to.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admissionToken,
  admissionTokenMatches,
  decodeTicketReply,
  decodeTicketRequest,
  doorSecretOf,
  doorTagOf,
  encodeTicketReply,
  encodeTicketRequest,
  isTicketRequest,
  JoinDoors,
} from '../../electron/peer/class-joining';
import { classTag } from '../../electron/peer/discovery';
import { canonicalJoinCode, displayJoinCode, newJoinCode } from '../../shared/join-code';
import { propertySeed } from '../property-seed';

// Replay the property below with QUORUM_FUZZ_SEED=<seed> npx vitest run test/peer/class-joining.test.ts
const seed = propertySeed('test/peer/class-joining.test.ts');

function keyring() {
  const keys = new Map<string, Uint8Array>();
  return { keys, addClass: (tag: string, secret: Uint8Array) => void keys.set(tag, secret), removeClass: (tag: string) => void keys.delete(tag) };
}

describe('join codes', () => {
  it('are 32 easy-to-read characters, shown in groups of four, typed any way', () => {
    const code = newJoinCode(randomBytes(20));
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{32}$/);
    expect(displayJoinCode(code)).toMatch(/^([A-HJ-NP-Z2-9]{4}-){7}[A-HJ-NP-Z2-9]{4}$/);
    expect(canonicalJoinCode(` ${displayJoinCode(code).toLowerCase().replaceAll('-', ' ')} `)).toBe(code);
    expect(canonicalJoinCode('ABCD-EFGH')).toBeNull();
    expect(canonicalJoinCode(code.replace(/.$/, '0'))).toBeNull(); // 0 is not in the alphabet
  });
});

describe('JoinDoors', () => {
  it('opens the door of the current code, closes the old one on a new code, and all on none', () => {
    const ring = keyring();
    let changes = 0;
    const doors = new JoinDoors(ring, () => changes++);
    const first = newJoinCode(randomBytes(20));
    const second = newJoinCode(randomBytes(20));
    doors.sync('class-a', first);
    expect(doors.classOf(doorTagOf(first))).toBe('class-a');
    expect(ring.keys.get(doorTagOf(first))).toEqual(doorSecretOf(first));
    doors.sync('class-a', first); // unchanged: nothing to do
    expect(changes).toBe(1);
    doors.sync('class-a', second);
    expect(doors.classOf(doorTagOf(first))).toBeUndefined();
    expect([...ring.keys.keys()]).toEqual([doorTagOf(second)]);
    doors.sync('class-a', null);
    expect(doors.tags()).toEqual([]);
    expect(ring.keys.size).toBe(0);
    expect(changes).toBe(3);
  });
});

describe('admission tokens', () => {
  it('admit only the laptop they were made for, under the code they were made with', () => {
    const code = newJoinCode(randomBytes(20));
    const token = admissionToken(code, 'laptop-a');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(admissionTokenMatches(code, 'laptop-a', token)).toBe(true);
    expect(admissionTokenMatches(code, 'laptop-b', token)).toBe(false);
    expect(admissionTokenMatches(newJoinCode(randomBytes(20)), 'laptop-a', token)).toBe(false);
    expect(admissionTokenMatches(code, 'laptop-a', '')).toBe(false);
  });
});

const CODE = newJoinCode(new Uint8Array(20).fill(7));

describe('tickets', () => {
  const secret = new Uint8Array(randomBytes(20));
  const classId = classTag(secret);

  it('carry the class id, name and secret', () => {
    const reply = decodeTicketReply(encodeTicketReply({ ticket: { classId, name: 'Chemistry', secret, later: [], token: admissionToken(CODE, 'laptop-a') } }));
    expect(reply).toEqual({ ticket: { classId, name: 'Chemistry', secret, later: [], token: admissionToken(CODE, 'laptop-a') } });
    expect(decodeTicketReply(encodeTicketReply({ refused: 'No.' }))).toEqual({ refused: 'No.' });
    expect(decodeTicketReply(encodeTicketReply({ waiting: 'Waiting for your teacher to let you in.' }))).toEqual({ waiting: 'Waiting for your teacher to let you in.' });
  });

  it('are asked for with the name the asker gives, bounded; a bare request (an older laptop) gives none', () => {
    expect(decodeTicketRequest(encodeTicketRequest('  Ben Okafor '))).toEqual({ displayName: 'Ben Okafor' });
    expect(decodeTicketRequest(encodeTicketRequest('x'.repeat(500)))).toEqual({ displayName: 'x'.repeat(120) });
    expect(decodeTicketRequest(Uint8Array.of(9))).toEqual({ displayName: null });
    // What an older door checks: one byte exactly. It refuses the new frame as not a ticket request.
    const olderDoorAccepts = (payload: Uint8Array) => payload.byteLength === 1 && payload[0] === 9;
    expect(olderDoorAccepts(encodeTicketRequest('Ben'))).toBe(false);
    for (const junk of ['   ', 'null', '[]', '{"displayName":""}', '{"displayName":7}', `{"displayName":"${'y'.repeat(121)}"}`]) {
      expect(decodeTicketRequest(Buffer.concat([Uint8Array.of(9), Buffer.from(junk)]))).toBeNull();
    }
    expect(isTicketRequest(Uint8Array.of(10))).toBe(false);
  });

  it('carry the secrets that replaced the first, newest last', () => {
    const later = [
      { generation: 1, secret: randomBytes(20).toString('base64url') },
      { generation: 3, secret: randomBytes(20).toString('base64url') },
    ];
    const ticket = { classId, name: 'Chemistry', secret, later, token: admissionToken(CODE, 'laptop-a') };
    expect(decodeTicketReply(encodeTicketReply({ ticket }))).toEqual({ ticket });
    // Out of order, repeated, too short or too many: not a ticket.
    for (const bad of [[later[1], later[0]], [later[0], later[0]], [{ generation: 1, secret: 'short' }], Array.from({ length: 17 }, (_, i) => ({ generation: i + 1, secret: later[0]!.secret }))]) {
      const body = JSON.parse(Buffer.from(encodeTicketReply({ ticket })).subarray(1).toString()) as Record<string, unknown>;
      expect(decodeTicketReply(Buffer.concat([Buffer.of(9), Buffer.from(JSON.stringify({ ...body, later: bad }))]))).toBeNull();
    }
  });

  it('are refused when the secret does not belong to the class they name', () => {
    const other = classTag(new Uint8Array(randomBytes(20)));
    expect(decodeTicketReply(encodeTicketReply({ ticket: { classId: other, name: 'Elsewhere', secret, later: [], token: admissionToken(CODE, 'laptop-a') } }))).toBeNull();
  });

  it('decode any bytes to a reply or to null, never throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const reply = decodeTicketReply(Uint8Array.of(9, ...bytes));
        if (reply && 'ticket' in reply) expect(classTag(reply.ticket.secret)).toBe(reply.ticket.classId);
        if (reply && 'waiting' in reply) expect(reply.waiting.length).toBeLessThanOrEqual(300);
      }),
      { seed, numRuns: 2000 },
    );
  });

  it('decode any request bytes, or any JSON after the kind byte, to a bounded name or to null, never throwing', () => {
    const json = fc.oneof(
      fc.json(),
      fc.record({ displayName: fc.oneof(fc.string({ maxLength: 200 }), fc.anything()) }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
    );
    const payloads = fc.oneof(
      fc.uint8Array({ maxLength: 1100 }),
      json.map((text) => new Uint8Array(Buffer.concat([Uint8Array.of(9), Buffer.from(text)]))),
    );
    fc.assert(
      fc.property(payloads, (payload) => {
        const request = decodeTicketRequest(payload);
        if (request === null) return;
        expect(payload[0]).toBe(9);
        if (request.displayName !== null) {
          expect(request.displayName.length).toBeGreaterThan(0);
          expect(request.displayName.length).toBeLessThanOrEqual(120);
          expect(request.displayName).toBe(request.displayName.trim());
        }
      }),
      { seed, numRuns: 2000 },
    );
  });
});
