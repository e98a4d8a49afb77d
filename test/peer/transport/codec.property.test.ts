// Properties of every decoder a laptop runs on bytes another laptop sent: the frame codec, the
// Raft message codec inside it, sealed frames, the client-write envelope, the forwarding
// protocol and peer exchange. For any input, a decoder either refuses it in its own documented
// way (FrameDecodeError, a reason, null) or returns a value that encodes back to exactly that
// input; never a TypeError, a RangeError or a value it would write differently.
//
// fast-check generates the inputs from one seed per run, printed first; replay a failure with
//   QUORUM_FUZZ_SEED=<seed> npx vitest run test/peer/transport/codec.property.test.ts
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConfChange, Entry, Message, SnapshotMeta } from '../../../electron/raft/types';
import { ByteReader, ByteWriter } from '../../../electron/peer/transport/binary';
import { decodeFrame, encodeFrame, type Frame, type InnerFrame } from '../../../electron/peer/transport/codec';
import { FrameAuthenticationError, FrameDecodeError, FrameTooLargeError } from '../../../electron/peer/transport/errors';
import { readMessage, writeMessage } from '../../../electron/peer/transport/message-codec';
import { openFrame, RecordOpener, RecordSealer, sealFrame } from '../../../electron/peer/transport/record-cipher';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../../electron/peer/routing/envelope';
import {
  decodeForwardReply,
  decodeForwardRequest,
  encodeForwardReply,
  encodeForwardRequest,
  type ForwardReply,
  type ForwardRequest,
} from '../../../electron/peer/routing/forward-protocol';
import { decodePeerExchangeReply, decodePeerExchangeRequest, encodePeerExchangeReply } from '../../../electron/peer/peer-exchange';
import {
  decodeRecoveryReply,
  decodeRecoveryRequest,
  encodeRecoveryReply,
  encodeRecoveryRequest,
  type RecoveryReply,
  type RecoveryRequest,
} from '../../../electron/peer/recovery/protocol';
import { decodeHoldReply, decodeHoldRequest, encodeHoldReply, encodeHoldRequest } from '../../../electron/peer/blobs/hold-protocol';
import { propertySeed } from '../../property-seed';

const seed = propertySeed('test/peer/transport/codec.property.test.ts');
const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns });

// ---- what honest laptops send ------------------------------------------------------------

/** Mostly small, often where a varint grows a byte, sometimes up to 2^53 − 1. */
const wholeNumber = fc.oneof(
  fc.nat(300),
  fc.constantFrom(127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 32, 2 ** 53 - 1),
  fc.maxSafeNat(),
);
/** Any code point but a lone surrogate (not text), often one that decoders trip on: U+FEFF, NUL, U+FFFF, astral. */
const codePoint = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 3 },
  { arbitrary: fc.constantFrom('\ufeff', '\u0000', '\uffff', '\u2028', 'é', '😀'), weight: 1 },
);
const text = (minLength: number, maxLength: number) => fc.string({ unit: codePoint, minLength, maxLength });
const anyText = text(0, 24);
/** A laptop id, or any other text that fits the 255-byte limit (60 code points are at most 240 bytes). */
const nodeId = fc.oneof(fc.stringMatching(/^[a-z2-7]{26}$/), text(0, 60));
const nodeIds = fc.array(nodeId, { maxLength: 5 });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
const exactly = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });

const confChange: fc.Arbitrary<ConfChange> = fc.record(
  {
    changes: fc.array(fc.record({ type: fc.constantFrom('addVoter', 'addLearner', 'removeNode'), nodeId }), { maxLength: 4 }),
    transition: fc.constantFrom('auto', 'jointImplicit', 'jointExplicit'),
  },
  { requiredKeys: ['changes'] },
);

const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ type: fc.constant('normal'), index: wholeNumber, term: wholeNumber, data: bytes(64) }),
  fc.record({ type: fc.constant('confChange'), index: wholeNumber, term: wholeNumber, change: confChange }),
);

const snapshotMeta: fc.Arbitrary<SnapshotMeta> = fc.record({
  index: wholeNumber,
  term: wholeNumber,
  confState: fc.record({ voters: nodeIds, learners: nodeIds, votersOutgoing: nodeIds, learnersNext: nodeIds, autoLeave: fc.boolean() }),
});

const addressed = { from: nodeId, to: nodeId, term: wholeNumber };
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ ...addressed, type: fc.constant('app'), index: wholeNumber, logTerm: wholeNumber, commit: wholeNumber, entries: fc.array(entry, { maxLength: 5 }) }),
  fc.record({ ...addressed, type: fc.constant('appResp'), index: wholeNumber, reject: fc.boolean(), hintIndex: wholeNumber, hintTerm: wholeNumber }),
  fc.record({ ...addressed, type: fc.constantFrom('vote', 'preVote'), index: wholeNumber, logTerm: wholeNumber, transfer: fc.boolean() }),
  fc.record({ ...addressed, type: fc.constantFrom('voteResp', 'preVoteResp'), reject: fc.boolean() }),
  fc.record({ ...addressed, type: fc.constant('heartbeat'), commit: wholeNumber, context: fc.option(anyText) }),
  fc.record({ ...addressed, type: fc.constant('heartbeatResp'), context: fc.option(anyText) }),
  fc.record({
    ...addressed,
    type: fc.constant('snap'),
    meta: snapshotMeta,
    attempt: wholeNumber,
    offset: wholeNumber,
    totalBytes: wholeNumber,
    data: bytes(300),
  }),
  fc.record({ ...addressed, type: fc.constant('snapResp'), index: wholeNumber, attempt: wholeNumber, offset: wholeNumber }),
  fc.record({ ...addressed, type: fc.constant('timeoutNow') }),
  fc.record({ ...addressed, type: fc.constant('readIndex'), requestId: anyText }),
  fc.record({ ...addressed, type: fc.constant('readIndexResp'), requestId: anyText, index: wholeNumber }),
  fc.record({ ...addressed, type: fc.constant('transferLeader'), target: nodeId }),
);

/** 1 to 255 UTF-8 bytes: any text up to 63 code points, or printable ASCII up to the limit. */
const classTag = fc.oneof(
  text(1, 63),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 255 }),
);
const requestId = fc.oneof(fc.nat(300), fc.constantFrom(2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 32 - 1 }));

const innerFrame: fc.Arbitrary<InnerFrame> = fc.oneof(
  fc.record({ kind: fc.constant('auth'), identityPublicKey: exactly(32), signature: exactly(64), classProofs: fc.array(exactly(32), { maxLength: 8 }) }),
  fc.record({ kind: fc.constant('raft'), classTag, message }),
  fc.record({ kind: fc.constant('classClaim'), proof: exactly(32) }),
  fc.record({ kind: fc.constant('request'), classTag, requestId, payload: bytes(300) }),
  fc.record({ kind: fc.constant('response'), requestId, status: fc.constant('ok'), payload: bytes(300) }),
  fc.record({ kind: fc.constant('response'), requestId, status: fc.constant('error'), errorCode: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,63}$/) }),
);

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('hello'), ephemeralPublicKey: exactly(32), nonce: exactly(32) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('sealed'), ciphertext: fc.uint8Array({ minLength: 16, maxLength: 200 }) }), weight: 1 },
  { arbitrary: innerFrame, weight: 6 },
);

// ---- what a broken or hostile laptop sends ----------------------------------------------------

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'remove'; at: number; count: number }
  | { kind: 'append'; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip'), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set'), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0xef, 0xbb, 0xbf) }),
  fc.record({ kind: fc.constant('cut'), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert'), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('remove'), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('append'), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

/** `original` with each mutation applied in turn; positions wrap around the current length. */
function mutate(original: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = Array.from(original);
  for (const m of mutations) {
    const at = m.kind === 'append' ? 0 : m.at % (out.length + 1);
    switch (m.kind) {
      case 'flip':
        if (at < out.length) out[at]! ^= 1 << m.bit;
        break;
      case 'set':
        if (at < out.length) out[at] = m.value;
        break;
      case 'cut':
        out = out.slice(0, at);
        break;
      case 'insert':
        out.splice(at, 0, ...m.bytes);
        break;
      case 'remove':
        out.splice(at, m.count);
        break;
      case 'append':
        out.push(...m.bytes);
        break;
    }
  }
  return Uint8Array.from(out);
}

/** Valid encodings with one to four bytes flipped, overwritten, cut, inserted, removed or appended. */
function damaged<T>(valid: fc.Arbitrary<T>, encode: (value: T) => Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([value, mutations]) => mutate(encode(value), mutations));
}

/** A frame header (often the right version, any kind code) followed by anything. */
const headerThenGarbage = fc
  .tuple(fc.constantFrom(0, 1, 1, 1, 2, 255), fc.integer({ min: 0, max: 9 }), bytes(300))
  .map(([version, kind, body]) => Uint8Array.of(version, kind, ...body));

const hostileFrameBytes = fc.oneof(bytes(300), headerThenGarbage, damaged(frame, (f) => encodeFrame(f)));

// ---- helpers ----------------------------------------------------------------------------------

/** What `decode` returned, or the FrameDecodeError it threw; anything else it throws fails the property. */
function decodeOrRefuse<T>(decode: () => T): T | FrameDecodeError {
  try {
    return decode();
  } catch (error) {
    if (error instanceof FrameDecodeError) return error;
    throw new Error(`threw ${describeThrown(error)} instead of FrameDecodeError`, { cause: error });
  }
}

function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `a non-error ${JSON.stringify(error)}`;
}

/** A refusal as the transport documents it: a stable code and a message that says the frame was malformed. */
function expectDocumentedRefusal(error: FrameDecodeError): void {
  expect(['FRAME_MALFORMED', 'FRAME_VERSION', 'FRAME_TOO_LARGE']).toContain(error.code);
  expect(error.message).toMatch(/^malformed frame: \S/);
}

function encodeMessage(m: Message): Uint8Array {
  const w = new ByteWriter(64);
  writeMessage(w, m);
  return w.finish().slice();
}

/** A whole message, nothing before or after it, as a raft frame's body would be read. */
function decodeMessage(input: Uint8Array): Message {
  const r = new ByteReader(input);
  const m = readMessage(r);
  r.expectEnd('message');
  return m;
}

// ---- frames -----------------------------------------------------------------------------------

describe('frames', () => {
  it('decode to exactly what was encoded, for every kind', () => {
    fc.assert(
      fc.property(frame, (f) => {
        expect(decodeFrame(encodeFrame(f))).toEqual(f);
      }),
      runs(1000),
    );
  });

  it('from any bytes: a FrameDecodeError, or a frame whose encoding is those very bytes', () => {
    fc.assert(
      fc.property(hostileFrameBytes, (input) => {
        const outcome = decodeOrRefuse(() => decodeFrame(input));
        if (outcome instanceof FrameDecodeError) expectDocumentedRefusal(outcome);
        // One encoding per frame: what is accepted is exactly what an honest laptop would send.
        else expect(encodeFrame(outcome)).toEqual(input);
      }),
      runs(3000),
    );
  });

  it('cut anywhere short of its end, every frame but a sealed one is refused', () => {
    // A sealed frame's ciphertext runs to the end of the frame; it is its tag that catches a cut.
    const delimited = frame.filter((f) => f.kind !== 'sealed');
    fc.assert(
      fc.property(delimited, fc.nat(), (f, cut) => {
        const whole = encodeFrame(f);
        const outcome = decodeOrRefuse(() => decodeFrame(whole.subarray(0, cut % whole.byteLength)));
        expect(outcome).toBeInstanceOf(FrameDecodeError);
      }),
      runs(1000),
    );
  });

  it('over the size limit are refused both ways, and within it accepted', () => {
    fc.assert(
      fc.property(frame, fc.nat(), (f, shortBy) => {
        const wire = encodeFrame(f);
        const tooSmall = wire.byteLength - 1 - (shortBy % wire.byteLength);
        expect(() => encodeFrame(f, tooSmall)).toThrow(FrameTooLargeError);
        const refusal = decodeOrRefuse(() => decodeFrame(wire, tooSmall));
        expect(refusal).toBeInstanceOf(FrameTooLargeError);
        expect(refusal).toMatchObject({ code: 'FRAME_TOO_LARGE', size: wire.byteLength, limit: tooSmall });
        expect(decodeFrame(wire, wire.byteLength)).toEqual(f);
      }),
      runs(500),
    );
  });

  it('over the size limit are refused by size alone, before any byte is read', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.nat(), (input, shortBy) => {
        const limit = input.byteLength - 1 - (shortBy % input.byteLength);
        expect(decodeOrRefuse(() => decodeFrame(input, limit))).toBeInstanceOf(FrameTooLargeError);
      }),
      runs(500),
    );
  });
});

describe('Raft messages', () => {
  it('decode to exactly what was encoded', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
      runs(1000),
    );
  });

  it('from any bytes: a FrameDecodeError, or a message whose encoding is those very bytes', () => {
    const hostile = fc.oneof(
      bytes(200),
      // A known message type first, so the fields behind it are reached.
      fc.tuple(fc.integer({ min: 0, max: 15 }), bytes(200)).map(([type, rest]) => Uint8Array.of(type, ...rest)),
      damaged(message, encodeMessage),
    );
    fc.assert(
      fc.property(hostile, (input) => {
        const outcome = decodeOrRefuse(() => decodeMessage(input));
        if (outcome instanceof FrameDecodeError) expectDocumentedRefusal(outcome);
        else expect(encodeMessage(outcome)).toEqual(input);
      }),
      runs(3000),
    );
  });
});

describe('sealed frames', () => {
  // One key for the whole property: each run seals and opens with fresh counters.
  const key = new Uint8Array(randomBytes(32));

  it('open to the frame that was sealed; a damaged one fails authentication and leaves the opener as it was', () => {
    fc.assert(
      fc.property(innerFrame, fc.array(mutation, { minLength: 1, maxLength: 3 }), (inner, mutations) => {
        const sealer = new RecordSealer(key);
        const opener = new RecordOpener(key);
        const wire = sealFrame(sealer, inner, 64 * 1024);
        const tampered = mutate(wire, mutations);
        fc.pre(!Buffer.from(tampered).equals(Buffer.from(wire)));
        const outer = decodeOrRefuse(() => decodeFrame(tampered));
        if (outer instanceof FrameDecodeError || outer.kind !== 'sealed') return; // not even a sealed frame: refused earlier
        expect(() => openFrame(opener, outer, 64 * 1024)).toThrow(FrameAuthenticationError);
        // The refused frame did not advance the counter: the genuine one still opens.
        expect(openFrame(opener, decodeFrame(wire) as Extract<Frame, { kind: 'sealed' }>, 64 * 1024)).toEqual(inner);
      }),
      runs(300),
    );
  });
});

// ---- what rides inside request frames ---------------------------------------------------------

const ENVELOPE_REASONS = [
  'not a client write',
  'a truncated client write',
  'a client id that is not text',
  'a client write with an impossible sequence number',
];
const clientId = fc.oneof(fc.uuid(), text(1, 63));
const envelope: fc.Arbitrary<Envelope> = fc
  .tuple(clientId, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.nat(), bytes(100))
  .map(([id, seq, below, command]) => ({ clientId: id, seq, ackedBelow: 1 + (below % seq), command }));

describe('client-write envelopes', () => {
  it('decode to exactly what was encoded', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
      }),
      runs(1000),
    );
  });

  it('keep a client id that starts with U+FEFF (regression: the decoder used to drop it)', () => {
    const e: Envelope = { clientId: '\ufeffc-1', seq: 2, ackedBelow: 1, command: Uint8Array.of(7) };
    expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
    // Dropped, an id of U+FEFF alone became the empty id, which no writer can have.
    const onlyMark = Uint8Array.of(1, 3, 0xef, 0xbb, 0xbf, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0);
    expect(decodeEnvelope(onlyMark)).toEqual({ clientId: '\ufeff', seq: 1, ackedBelow: 1, command: new Uint8Array(0) });
  });

  it('from any bytes: a reason, or an envelope whose encoding is those very bytes', () => {
    const hostile = fc.oneof(bytes(80), damaged(envelope, encodeEnvelope));
    fc.assert(
      fc.property(hostile, (input) => {
        const outcome = decodeEnvelope(input);
        if (typeof outcome === 'string') {
          expect(ENVELOPE_REASONS).toContain(outcome);
          return;
        }
        // Every replica decides alike, so what it accepts must be a possible write and mean one thing.
        expect(Number.isSafeInteger(outcome.seq) && outcome.seq >= 1).toBe(true);
        expect(outcome.ackedBelow >= 1 && outcome.ackedBelow <= outcome.seq).toBe(true);
        expect(encodeEnvelope(outcome)).toEqual(input);
      }),
      runs(3000),
    );
  });
});

const forwardRequest: fc.Arbitrary<ForwardRequest> = fc.oneof(
  fc.record({ kind: fc.constant('write'), envelope: fc.uint8Array({ minLength: 1, maxLength: 100 }) }),
  // Up to 32 code points: within the 128 bytes a join may carry.
  fc.record({
    kind: fc.constant('join'),
    laptopId: fc.oneof(fc.stringMatching(/^[a-z2-7]{26}$/), text(1, 32)),
    token: fc.oneof(fc.constant(''), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
  }),
);
const forwardReply: fc.Arbitrary<ForwardReply> = fc.oneof(
  // Entries start at index 1: an index of 0 or below is a broken or hostile answer, refused.
  fc.record({ kind: fc.constant('applied'), index: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }),
  fc.record({ kind: fc.constant('notLeader'), leader: fc.option(nodeId) }),
  fc.record({ kind: fc.constant('error'), code: fc.string({ maxLength: 20 }), message: anyText }),
);

/** A reply as its readers use it: the fields of its kind, with their types. */
function isForwardReply(value: unknown): boolean {
  const reply = value as Record<string, unknown>;
  if (reply['kind'] === 'applied') return Number.isSafeInteger(reply['index']) && (reply['index'] as number) > 0;
  if (reply['kind'] === 'notLeader') return reply['leader'] === null || typeof reply['leader'] === 'string';
  if (reply['kind'] === 'error') return typeof reply['code'] === 'string' && typeof reply['message'] === 'string';
  return false;
}

/** JSON text of any shape, often an object with the reply's field names. */
const replyLikeJson = fc
  .dictionary(fc.constantFrom('kind', 'index', 'leader', 'code', 'message', '__proto__', 'constructor'), fc.oneof(
    fc.constantFrom('applied', 'notLeader', 'error', 'toString', null, -1, 1.5, 1e300, 2 ** 53, true),
    fc.jsonValue({ maxDepth: 2 }),
  ))
  .map((object) => new TextEncoder().encode(JSON.stringify(object)));

describe('forwarded requests and replies', () => {
  it('requests decode to exactly what was encoded', () => {
    fc.assert(
      fc.property(forwardRequest, (request) => {
        expect(decodeForwardRequest(encodeForwardRequest(request))).toEqual(request);
      }),
      runs(1000),
    );
  });

  it('keep a laptop id that starts with U+FEFF in a join (regression: the decoder used to drop it)', () => {
    const join: ForwardRequest = { kind: 'join', laptopId: '\ufeffabc', token: '' };
    expect(decodeForwardRequest(encodeForwardRequest(join))).toEqual(join);
  });

  it('requests from any bytes: null, or a request whose encoding is those very bytes', () => {
    const hostile = fc.oneof(
      bytes(200),
      fc.tuple(fc.integer({ min: 0, max: 4 }), bytes(200)).map(([kind, rest]) => Uint8Array.of(kind, ...rest)),
      damaged(forwardRequest, encodeForwardRequest),
    );
    fc.assert(
      fc.property(hostile, (input) => {
        const request = decodeForwardRequest(input);
        if (request !== null) expect(encodeForwardRequest(request)).toEqual(input);
      }),
      runs(3000),
    );
  });

  it('replies decode to exactly what was encoded', () => {
    fc.assert(
      fc.property(forwardReply, (reply) => {
        expect(decodeForwardReply(encodeForwardReply(reply))).toEqual(reply);
      }),
      runs(1000),
    );
  });

  it('replies from any bytes: null, or a reply with the fields its kind needs', () => {
    const hostile = fc.oneof(bytes(200), replyLikeJson, damaged(forwardReply, encodeForwardReply));
    fc.assert(
      fc.property(hostile, (input) => {
        const reply = decodeForwardReply(input);
        if (reply !== null) expect(isForwardReply(reply), JSON.stringify(reply)).toBe(true);
      }),
      runs(3000),
    );
  });
});

describe('peer exchange', () => {
  it('from any bytes: at most 256 addresses of at most 128 characters, or none', () => {
    const addresses = fc.array(fc.oneof(fc.string({ maxLength: 140 }), fc.jsonValue({ maxDepth: 1 })), { maxLength: 300 });
    const hostile = fc.oneof(
      bytes(300),
      addresses.map((list) => new TextEncoder().encode(JSON.stringify(list))),
      damaged(fc.array(fc.string({ maxLength: 40 }), { maxLength: 8 }), encodePeerExchangeReply),
    );
    fc.assert(
      fc.property(hostile, (input) => {
        const list = decodePeerExchangeReply(input);
        expect(list.length).toBeLessThanOrEqual(256);
        for (const address of list) expect(typeof address === 'string' && address.length <= 128).toBe(true);
      }),
      runs(1000),
    );
  });

  it('requests from any bytes: the asker’s address as text of at most 128 bytes, or null', () => {
    fc.assert(
      fc.property(bytes(300), (input) => {
        const address = decodePeerExchangeRequest(Uint8Array.of(3, ...input));
        if (address !== null) expect(new TextEncoder().encode(address).byteLength).toBeLessThanOrEqual(128);
      }),
      runs(1000),
    );
  });
});

describe('class recovery requests and replies', () => {
  const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
  const request: fc.Arbitrary<RecoveryRequest> = fc.oneof(
    fc.constant({ kind: 'probe' as const }),
    fc.record({ kind: fc.constant('recover' as const), minTerm: count }),
  );
  const reply: fc.Arbitrary<RecoveryReply> = fc.oneof(
    fc.record({
      kind: fc.constant('probe' as const),
      term: count,
      lastIndex: count,
      lastTerm: count,
      applied: count,
      leader: fc.option(fc.string({ maxLength: 128 })),
      leaderContactMs: fc.option(count),
    }),
    fc.record({ kind: fc.constant('recovered' as const), term: count }),
    fc.record({ kind: fc.constant('refused' as const), reason: fc.string({ maxLength: 500 }) }),
  );

  it('round-trip', () => {
    fc.assert(
      fc.property(request, (r) => {
        expect(decodeRecoveryRequest(encodeRecoveryRequest(r))).toEqual(r);
      }),
      runs(500),
    );
    fc.assert(
      fc.property(reply, (r) => {
        expect(decodeRecoveryReply(encodeRecoveryReply(r))).toEqual(r);
      }),
      runs(500),
    );
  });

  it('from any bytes: null, or a well-formed request or reply that encodes back the same', () => {
    const hostileRequest = fc.oneof(
      bytes(80),
      fc.tuple(fc.constantFrom(4, 5), bytes(80)).map(([tag, rest]) => Uint8Array.of(tag, ...rest)),
      damaged(request, encodeRecoveryRequest),
    );
    fc.assert(
      fc.property(hostileRequest, (input) => {
        const decoded = decodeRecoveryRequest(input);
        if (decoded !== null) expect(decodeRecoveryRequest(encodeRecoveryRequest(decoded))).toEqual(decoded);
      }),
      runs(2000),
    );
    fc.assert(
      fc.property(fc.oneof(bytes(200), damaged(reply, encodeRecoveryReply)), (input) => {
        const decoded = decodeRecoveryReply(input);
        if (decoded !== null) expect(decodeRecoveryReply(encodeRecoveryReply(decoded))).toEqual(decoded);
      }),
      runs(2000),
    );
  });
});

describe('requests to hold a file', () => {
  const hold = fc.record({
    sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
    size: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    name: fc.string({ maxLength: 255 }),
  });

  it('round-trip, and any bytes give null or a request that encodes back the same', () => {
    fc.assert(
      fc.property(hold, (request) => {
        expect(decodeHoldRequest(encodeHoldRequest(request))).toEqual(request);
      }),
      runs(500),
    );
    fc.assert(
      fc.property(fc.oneof(bytes(300), fc.tuple(fc.constant(8), bytes(200)).map(([t, rest]) => Uint8Array.of(t, ...rest)), damaged(hold, encodeHoldRequest)), (input) => {
        const decoded = decodeHoldRequest(input);
        if (decoded !== null) expect(decodeHoldRequest(encodeHoldRequest(decoded))).toEqual(decoded);
      }),
      runs(2000),
    );
    fc.assert(
      fc.property(bytes(200), (input) => {
        const reply = decodeHoldReply(input);
        if (reply !== null) expect(decodeHoldReply(encodeHoldReply(reply))).toEqual(reply);
      }),
      runs(1000),
    );
  });
});
