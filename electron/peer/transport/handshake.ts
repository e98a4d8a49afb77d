// The handshake, version 1: what two laptops do on a new WebSocket before any Raft message.
//
// Goals: each side proves (a) it holds the private key behind the laptop id it claims and
// (b) for each class it claims, that it knows the class secret, without sending the secret;
// both end with two fresh AES-256-GCM keys, one per direction. The initiator dialed; the
// responder accepted. Both send their hello at once, so it takes one round trip plus one flight.
//
//   I → R  hello(eI, nI)       eI: a fresh X25519 public key; nI: 32 random bytes
//   R → I  hello(eR, nR)       sent as soon as the socket is accepted, in parallel
//
//   both   h         = SHA-256("quorum/handshake/1" ‖ eI ‖ nI ‖ eR ‖ nR)        the transcript hash
//          z         = X25519(own ephemeral private key, peer ephemeral public key); all-zero z is refused
//          kIR ‖ kRI = HKDF-SHA256(ikm = z, salt = h, info = "quorum/session-keys/1", 64 bytes)
//
//   I → R  sealed[kIR, counter 0]( auth(idI, sigI, proofsI) )
//   R → I  sealed[kRI, counter 0]( auth(idR, sigR, proofsR) )
//          id     = the raw Ed25519 identity public key; laptop id = base32(SHA-256(id)[0..16))
//          sig    = Ed25519(identity private key, "quorum/auth/1" ‖ role ‖ h)
//          proofs = { HMAC-SHA256(Kc, "quorum/class-proof/1" ‖ role ‖ h) for each class c we belong to },
//                   padded with random decoys to a multiple of 4 and sorted bytewise,
//                   where Kc = HKDF-SHA256(ikm = secret of c, salt = "quorum/class-key/1", info = tag of c)
//
//   Each side accepts the peer's auth when: it decrypts (the peer derived z, so it holds the
//   ephemeral key it sent); sig verifies under id for the peer's role and this h; the laptop id
//   is not our own and, if we dialed, is the one we dialed. The shared classes are those we hold
//   whose expected proof for the peer's role is among the peer's proofs. None: the connection
//   is closed with a reason that names no class.
//
//   Afterwards every frame is sealed with the direction's key and the next counter
//   (record-cipher.ts). A class joined later is announced in a classClaim frame holding its
//   proof, computed as above with the same h (class-proofs.ts).
//
// Why this holds up:
// - Fresh ephemerals and nonces on both sides make h unique to the session, so a signature,
//   proof or sealed frame recorded from one session is worthless in another (no replay).
// - The signature binds the identity to this session's ephemerals: a man in the middle who
//   puts in his own ephemeral key can present no signature but his own, and the initiator
//   checks that it reached the laptop id it dialed.
// - The role is in every signature and proof, so reflecting a peer's own auth back fails.
// - A proof reveals nothing to someone without Kc, and proofs are matched only against classes
//   the verifier already holds: a peer that cannot prove a class is never told its tag, that
//   it exists, or whether we share it. What does leak to anyone who connects: that this laptop
//   speaks Quorum, its identity key, and the number of its classes rounded up to 4.
// - Identity keys and proofs travel encrypted, so a passive listener on the LAN sees neither.
// - Forward secrecy: session keys come from ephemeral keys that are dropped after the handshake.
// - Class secrets must be high-entropy (random, at least 16 bytes): one recorded proof allows an
//   offline guess of a weak secret. Turning a short join code into a secret needs a PAKE.
import { createHash, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { ClassKeyring, SessionClasses } from './class-proofs';
import { decodeFrame, encodeFrame, NONCE_BYTES, type HelloFrame } from './codec';
import { HandshakeError } from './errors';
import { exportRawPublicKey, importRawPublicKey, laptopIdFromPublicKey, verifySignature, type Identity } from './identity';
import { openFrame, RecordOpener, RecordSealer, sealFrame } from './record-cipher';

/** Which side of the connection: the one that dialed, or the one that accepted. */
export type Role = 'initiator' | 'responder';

const TRANSCRIPT_LABEL = 'quorum/handshake/1';
const SESSION_KEYS_INFO = 'quorum/session-keys/1';
const AUTH_LABEL = 'quorum/auth/1';

export interface HandshakeOptions {
  role: Role;
  identity: Identity;
  /** This laptop's classes; read when our auth is built and when the peer's is checked. */
  keyring: ClassKeyring;
  /** When dialing: the laptop id we meant to reach. */
  expectedLaptopId?: string;
  maxFrameBytes: number;
}

/** A finished handshake: who the peer is, what we share, and the keys for everything after. */
export interface HandshakeResult {
  peerLaptopId: string;
  peerPublicKey: Uint8Array;
  sealer: RecordSealer;
  opener: RecordOpener;
  classes: SessionClasses;
}

/** What to do with one received handshake frame: send `reply` if present; `result` means done. */
export interface HandshakeStep {
  reply?: Uint8Array;
  result?: HandshakeResult;
}

interface Session {
  transcriptHash: Uint8Array;
  sealer: RecordSealer;
  opener: RecordOpener;
  classes: SessionClasses;
}

/**
 * One side of the handshake as a pure state machine: feed it the frames received, send what it
 * returns. Throws `FrameDecodeError`, `FrameAuthenticationError` or `HandshakeError` (with code
 * `NO_SHARED_CLASS` or `UNEXPECTED_IDENTITY` for those cases); any throw ends the connection.
 */
export class Handshake {
  /** The first frame to send, as soon as the socket is open. */
  readonly hello: Uint8Array;
  private readonly ephemeralPrivateKey: KeyObject;
  private readonly ownHello: HelloFrame;
  private session: Session | null = null;
  private finished = false;

  constructor(private readonly options: HandshakeOptions) {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    this.ephemeralPrivateKey = privateKey;
    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    this.ownHello = { kind: 'hello', ephemeralPublicKey: exportRawPublicKey(publicKey), nonce };
    this.hello = encodeFrame(this.ownHello, options.maxFrameBytes);
  }

  private get peerRole(): Role {
    return this.options.role === 'initiator' ? 'responder' : 'initiator';
  }

  receive(bytes: Uint8Array): HandshakeStep {
    if (this.finished) throw new HandshakeError('handshake already finished');
    const frame = decodeFrame(bytes, this.options.maxFrameBytes);
    if (this.session === null) {
      if (frame.kind !== 'hello') throw new HandshakeError(`expected hello, got ${frame.kind}`);
      this.session = this.startSession(frame);
      const classProofs = this.session.classes.announceAll();
      const signature = this.options.identity.sign(authPayload(this.options.role, this.session.transcriptHash));
      const auth = { kind: 'auth' as const, identityPublicKey: this.options.identity.publicKey, signature, classProofs };
      return { reply: sealFrame(this.session.sealer, auth, this.options.maxFrameBytes) };
    }
    if (frame.kind !== 'sealed') throw new HandshakeError(`expected the sealed auth frame, got ${frame.kind}`);
    const auth = openFrame(this.session.opener, frame, this.options.maxFrameBytes);
    if (auth.kind !== 'auth') throw new HandshakeError(`expected auth, got ${auth.kind}`);
    const result = this.verifyAuth(this.session, auth.identityPublicKey, auth.signature, auth.classProofs);
    this.finished = true;
    return { result };
  }

  private startSession(peerHello: HelloFrame): Session {
    const initiator = this.options.role === 'initiator';
    const [initiatorHello, responderHello] = initiator ? [this.ownHello, peerHello] : [peerHello, this.ownHello];
    const transcriptHash = new Uint8Array(
      createHash('sha256')
        .update(TRANSCRIPT_LABEL)
        .update(initiatorHello.ephemeralPublicKey)
        .update(initiatorHello.nonce)
        .update(responderHello.ephemeralPublicKey)
        .update(responderHello.nonce)
        .digest(),
    );
    let shared: Buffer;
    try {
      const publicKey = importRawPublicKey(peerHello.ephemeralPublicKey, 'X25519');
      shared = diffieHellman({ privateKey: this.ephemeralPrivateKey, publicKey });
    } catch (error) {
      throw new HandshakeError(`bad ephemeral key: ${(error as Error).message}`);
    }
    // A low-order public key forces an all-zero secret that anyone can compute.
    if (shared.every((byte) => byte === 0)) throw new HandshakeError('ephemeral key agreement produced zero');
    const keys = new Uint8Array(hkdfSync('sha256', shared, transcriptHash, SESSION_KEYS_INFO, 64));
    const initiatorToResponder = keys.slice(0, 32);
    const responderToInitiator = keys.slice(32, 64);
    return {
      transcriptHash,
      sealer: new RecordSealer(initiator ? initiatorToResponder : responderToInitiator),
      opener: new RecordOpener(initiator ? responderToInitiator : initiatorToResponder),
      classes: new SessionClasses(this.options.keyring, this.options.role, this.peerRole, transcriptHash),
    };
  }

  private verifyAuth(session: Session, peerPublicKey: Uint8Array, signature: Uint8Array, proofs: Uint8Array[]): HandshakeResult {
    if (!verifySignature(peerPublicKey, authPayload(this.peerRole, session.transcriptHash), signature)) {
      throw new HandshakeError('identity signature does not verify');
    }
    const peerLaptopId = laptopIdFromPublicKey(peerPublicKey);
    if (peerLaptopId === this.options.identity.laptopId) throw new HandshakeError('connected to itself');
    const expected = this.options.expectedLaptopId;
    if (expected !== undefined && peerLaptopId !== expected) {
      throw new HandshakeError(`dialed ${expected} but reached ${peerLaptopId}`, 'UNEXPECTED_IDENTITY');
    }
    session.classes.identify(peerLaptopId);
    session.classes.receiveProofs(proofs);
    session.classes.rematch();
    if (session.classes.list().length === 0) throw new HandshakeError('no shared class', 'NO_SHARED_CLASS');
    return { peerLaptopId, peerPublicKey, sealer: session.sealer, opener: session.opener, classes: session.classes };
  }
}

function authPayload(role: Role, transcriptHash: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(AUTH_LABEL), Buffer.from(role), transcriptHash]);
}
