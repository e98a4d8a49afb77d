// The handshake as a pure state machine, two sides wired back to back in memory: who may
// connect, what each learns, and what a recorded or altered flight is worth (nothing).
import { describe, expect, it } from 'vitest';
import { ClassKeyring } from '../../../electron/peer/transport/class-proofs';
import { decodeFrame, encodeFrame } from '../../../electron/peer/transport/codec';
import { FrameAuthenticationError, HandshakeError } from '../../../electron/peer/transport/errors';
import { Handshake, type HandshakeResult, type Role } from '../../../electron/peer/transport/handshake';
import { generateIdentity, type Identity } from '../../../electron/peer/transport/identity';
import { openFrame, sealFrame } from '../../../electron/peer/transport/record-cipher';

const secret = (label: string) => new TextEncoder().encode(`secret of ${label}, 32 bytes long.`);

function keyring(classes: Record<string, string>): ClassKeyring {
  const ring = new ClassKeyring();
  for (const [tag, label] of Object.entries(classes)) ring.set(tag, secret(label));
  return ring;
}

interface Side {
  identity: Identity;
  handshake: Handshake;
  sent: Uint8Array[];
}

function side(role: Role, classes: Record<string, string>, expectedLaptopId?: string, identity = generateIdentity()): Side {
  const handshake = new Handshake({ role, identity, keyring: keyring(classes), expectedLaptopId, maxFrameBytes: 1 << 20 });
  return { identity, handshake, sent: [handshake.hello] };
}

/** Hands `bytes` to one side, keeping its reply in `sent`; returns its result, or what it threw. */
function deliver(to: Side, bytes: Uint8Array): HandshakeResult | Error | undefined {
  try {
    const step = to.handshake.receive(bytes);
    if (step.reply) to.sent.push(step.reply);
    return step.result;
  } catch (error) {
    return error as Error;
  }
}

/** Delivers each side's hello, then each side's auth; returns what each side concluded (or threw). */
function run(initiator: Side, responder: Side): { initiator: HandshakeResult | Error; responder: HandshakeResult | Error } {
  deliver(responder, initiator.sent[0]!);
  deliver(initiator, responder.sent[0]!);
  return { responder: deliver(responder, initiator.sent[1]!)!, initiator: deliver(initiator, responder.sent[1]!)! };
}

describe('handshake', () => {
  it('authenticates both laptops and finds the classes they share', () => {
    const responder = side('responder', { math: 'math', art: 'art' });
    const initiator = side('initiator', { math: 'math', music: 'music' }, responder.identity.laptopId);
    const { initiator: i, responder: r } = run(initiator, responder);
    if (i instanceof Error || r instanceof Error) throw i instanceof Error ? i : r;
    expect(i.peerLaptopId).toBe(responder.identity.laptopId);
    expect(r.peerLaptopId).toBe(initiator.identity.laptopId);
    expect(i.classes.list()).toEqual(['math']);
    expect(r.classes.list()).toEqual(['math']);
    // One key per direction: what one side seals, the other opens, in order.
    const frame = { kind: 'classClaim' as const, proof: new Uint8Array(32).fill(9) };
    const sealed = decodeFrame(sealFrame(i.sealer, frame, 1 << 20));
    if (sealed.kind !== 'sealed') throw new Error('expected a sealed frame');
    expect(openFrame(r.opener, sealed, 1 << 20)).toEqual(frame);
  });

  it('refuses on both sides when the secrets differ, and names no class', () => {
    const responder = side('responder', { math: 'math' });
    const initiator = side('initiator', { math: 'a guess at the math secret' });
    const { initiator: i, responder: r } = run(initiator, responder);
    for (const result of [i, r]) {
      expect(result).toBeInstanceOf(HandshakeError);
      expect((result as HandshakeError).code).toBe('NO_SHARED_CLASS');
      expect((result as Error).message).not.toContain('math');
    }
  });

  it('sends neither class tags nor secrets, and pads the number of proofs', () => {
    const responder = side('responder', { 'math-7b': 'math' });
    const initiator = side('initiator', { 'math-7b': 'math', 'art-7b': 'art' });
    run(initiator, responder);
    const wire = Buffer.concat([...initiator.sent, ...responder.sent]);
    for (const needle of ['math-7b', 'art-7b', 'secret of']) expect(wire.includes(Buffer.from(needle))).toBe(false);
    // Both flights have the same size although one laptop has two classes and the other one.
    expect(initiator.sent[1]!.byteLength).toBe(responder.sent[1]!.byteLength);
  });

  it('refuses a laptop other than the one dialed', () => {
    const responder = side('responder', { math: 'math' });
    const initiator = side('initiator', { math: 'math' }, generateIdentity().laptopId);
    const { initiator: i } = run(initiator, responder);
    expect(i).toBeInstanceOf(HandshakeError);
    expect((i as HandshakeError).code).toBe('UNEXPECTED_IDENTITY');
  });

  it('refuses to connect a laptop to itself', () => {
    const identity = generateIdentity();
    const initiator = side('initiator', { math: 'math' }, undefined, identity);
    const { initiator: i, responder: r } = run(initiator, side('responder', { math: 'math' }, undefined, identity));
    expect(i).toBeInstanceOf(HandshakeError);
    expect(r).toBeInstanceOf(HandshakeError);
  });

  it('an auth recorded from one session fails in another (replay)', () => {
    const responder = side('responder', { math: 'math' });
    const initiator = side('initiator', { math: 'math' });
    run(initiator, responder);
    // An eavesdropper replays the initiator's recorded flight to a fresh responder.
    const fresh = side('responder', { math: 'math' });
    deliver(fresh, initiator.sent[0]!);
    expect(deliver(fresh, initiator.sent[1]!)).toBeInstanceOf(FrameAuthenticationError);
  });

  it('a substituted ephemeral key (man in the middle) breaks the auth', () => {
    const responder = side('responder', { math: 'math' });
    const initiator = side('initiator', { math: 'math' }, responder.identity.laptopId);
    const mallory = side('initiator', { math: 'math' }); // even one who knows the class secret
    deliver(responder, mallory.sent[0]!); // the responder is given Mallory's ephemeral key…
    deliver(initiator, responder.sent[0]!);
    // …so the initiator's auth, sealed under keys from its own ephemeral, does not open there.
    expect(deliver(responder, initiator.sent[1]!)).toBeInstanceOf(FrameAuthenticationError);
    // (Mallory running her own handshake with the initiator can only sign as herself: see "refuses a laptop other than the one dialed".)
  });

  it('reflecting a peer its own auth fails', () => {
    const responder = side('responder', { math: 'math' });
    const initiator = side('initiator', { math: 'math' });
    deliver(responder, initiator.sent[0]!);
    deliver(initiator, responder.sent[0]!);
    // The initiator gets its own auth back: sealed under the other direction's key.
    expect(deliver(initiator, initiator.sent[1]!)).toBeInstanceOf(FrameAuthenticationError);
  });

  it('a flipped bit in the hello or the auth ends the handshake', () => {
    for (const flight of [0, 1]) {
      const responder = side('responder', { math: 'math' });
      const initiator = side('initiator', { math: 'math' });
      const flipped = () => {
        const bytes = initiator.sent[flight]!.slice();
        bytes[bytes.byteLength - 5]! ^= 0x10;
        return bytes;
      };
      if (flight === 0) {
        // A different hello makes a different transcript, so the two sides derive different keys.
        deliver(responder, flipped());
        deliver(initiator, responder.sent[0]!);
      } else {
        deliver(responder, initiator.sent[0]!);
        deliver(initiator, responder.sent[0]!);
      }
      const auth = flight === 0 ? initiator.sent[1]! : flipped();
      expect(deliver(responder, auth), `flight ${flight}`).toBeInstanceOf(FrameAuthenticationError);
    }
  });

  it('refuses anything but a hello first and a sealed auth second', () => {
    const responder = side('responder', { math: 'math' });
    expect(() => responder.handshake.receive(encodeFrame({ kind: 'sealed', ciphertext: new Uint8Array(20) }))).toThrow(HandshakeError);
    const other = side('responder', { math: 'math' });
    const initiator = side('initiator', { math: 'math' });
    deliver(other, initiator.sent[0]!);
    expect(deliver(other, initiator.sent[0]!)).toBeInstanceOf(HandshakeError);
  });

  it('refuses a low-order ephemeral key', () => {
    const responder = side('responder', { math: 'math' });
    const zeroKey = encodeFrame({ kind: 'hello', ephemeralPublicKey: new Uint8Array(32), nonce: new Uint8Array(32) });
    expect(() => responder.handshake.receive(zeroKey)).toThrow(HandshakeError);
  });
});
