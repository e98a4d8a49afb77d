// The versioned wire format of the transport. Every WebSocket binary message is one frame:
//
//   frame  = version:u8 kind:u8 body
//
// Two kinds travel in the clear, before and around the encryption:
//   hello  (1)  ephemeralPublicKey:32 nonce:32                 first frame in each direction
//   sealed (2)  AES-256-GCM ciphertext ‖ tag:16                 everything after the hellos
// and five only ever appear as the plaintext of a sealed frame:
//   auth       (3)  identityPublicKey:32 signature:64 proofCount:varint proof:32*   first sealed frame
//   raft       (4)  classTag:string message                                        a Raft message for one class
//   classClaim (5)  proof:32                                                        a class joined after the handshake
//   request    (6)  classTag:string requestId:varint payload:bytes                 an application request for one class
//   response   (7)  requestId:varint status:u8 (payload:bytes | errorCode:string)   its answer; status 0 ok, 1 error
//
// Request ids are chosen by the requester, unique among its requests in flight on the
// connection, and at most 2^32 − 1. Error codes are short upper-case identifiers, never text
// from an exception, so nothing about the answering laptop's internals crosses the wire.
//
// Decoding checks the size against the limit before looking at anything else, then every
// field (see binary.ts), and throws `FrameDecodeError` on the first thing that does not fit.
import type { Message } from '../../raft/types';
import { ByteReader, ByteWriter } from './binary';
import { FrameDecodeError, FrameTooLargeError } from './errors';
import { readMessage, writeMessage } from './message-codec';

/** The only version this build speaks; a peer with another one is refused at its first frame. */
export const PROTOCOL_VERSION = 1;
/** Default largest frame on the wire; snapshot chunks must be cut smaller than this. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const PUBLIC_KEY_BYTES = 32;
export const NONCE_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const PROOF_BYTES = 32;
export const GCM_TAG_BYTES = 16;
/** A sealed frame is its plaintext plus the header and the GCM tag. */
export const SEALED_OVERHEAD_BYTES = 2 + GCM_TAG_BYTES;
/** Class tags name Raft groups (class ids); the limit keeps them from being used as a payload. */
export const MAX_CLASS_TAG_BYTES = 255;
/** More proofs than a laptop could have classes is an attack on the matching loop, not a laptop. */
export const MAX_CLASS_PROOFS = 1024;
/** Request ids fit in 32 bits. */
export const MAX_REQUEST_ID = 0xffff_ffff;
/** Error codes in responses: 1 to 64 of A–Z, 0–9 and _, starting with a letter. */
const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
export const MAX_ERROR_CODE_BYTES = 64;
/**
 * The most a request frame adds to its payload on the wire, sealing included, with a class tag
 * of the maximum length: a payload of `maxFrameBytes − REQUEST_OVERHEAD_BYTES` always fits.
 * (header 2, class tag 2 + 255, id 5, payload length 8, seal 18)
 */
export const REQUEST_OVERHEAD_BYTES = 2 + 2 + MAX_CLASS_TAG_BYTES + 5 + 8 + SEALED_OVERHEAD_BYTES;
/** The same for a response: chunks of `maxFrameBytes − RESPONSE_OVERHEAD_BYTES` always fit. (header 2, id 5, status 1, length 8, seal 18) */
export const RESPONSE_OVERHEAD_BYTES = 2 + 5 + 1 + 8 + SEALED_OVERHEAD_BYTES;

export interface HelloFrame {
  kind: 'hello';
  ephemeralPublicKey: Uint8Array;
  nonce: Uint8Array;
}

export interface SealedFrame {
  kind: 'sealed';
  ciphertext: Uint8Array;
}

export interface AuthFrame {
  kind: 'auth';
  identityPublicKey: Uint8Array;
  signature: Uint8Array;
  classProofs: Uint8Array[];
}

export interface RaftFrame {
  kind: 'raft';
  classTag: string;
  message: Message;
}

export interface ClassClaimFrame {
  kind: 'classClaim';
  proof: Uint8Array;
}

export interface RequestFrame {
  kind: 'request';
  classTag: string;
  requestId: number;
  payload: Uint8Array;
}

/** What a response carries: the handler's payload, or why there is none. */
export type ResponseBody = { status: 'ok'; payload: Uint8Array } | { status: 'error'; errorCode: string };

export type ResponseFrame = { kind: 'response'; requestId: number } & ResponseBody;

/** Frames that travel in the clear. */
export type OuterFrame = HelloFrame | SealedFrame;
/** Frames that travel only inside a sealed frame. */
export type InnerFrame = AuthFrame | RaftFrame | ClassClaimFrame | RequestFrame | ResponseFrame;
export type Frame = OuterFrame | InnerFrame;
export type FrameKind = Frame['kind'];

const kindCodes: Record<FrameKind, number> = {
  hello: 1,
  sealed: 2,
  auth: 3,
  raft: 4,
  classClaim: 5,
  request: 6,
  response: 7,
};
const kindsByCode = new Map(Object.entries(kindCodes).map(([kind, code]) => [code, kind as FrameKind]));
const STATUS_OK = 0;
const STATUS_ERROR = 1;

/** The two bytes that open every sealed frame; also the associated data its tag authenticates. */
export const SEALED_FRAME_HEADER = Uint8Array.of(PROTOCOL_VERSION, kindCodes.sealed);

/** Encodes `frame`; throws `FrameTooLargeError` rather than produce what the peer must refuse. */
export function encodeFrame(frame: Frame, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  const payloadBytes = frame.kind === 'request' || (frame.kind === 'response' && frame.status === 'ok') ? frame.payload.byteLength : 0;
  // Refused before a buffer the size of the payload is allocated for it.
  if (payloadBytes + 2 > maxFrameBytes) throw new FrameTooLargeError(payloadBytes + 2, maxFrameBytes);
  const w = new ByteWriter(initialCapacity(frame));
  w.u8(PROTOCOL_VERSION).u8(kindCodes[frame.kind]);
  switch (frame.kind) {
    case 'hello':
      w.fixed(exactly(frame.ephemeralPublicKey, PUBLIC_KEY_BYTES, 'ephemeral key'));
      w.fixed(exactly(frame.nonce, NONCE_BYTES, 'nonce'));
      break;
    case 'sealed':
      w.fixed(frame.ciphertext);
      break;
    case 'auth':
      if (frame.classProofs.length > MAX_CLASS_PROOFS) throw new RangeError(`more than ${MAX_CLASS_PROOFS} class proofs`);
      w.fixed(exactly(frame.identityPublicKey, PUBLIC_KEY_BYTES, 'identity key'));
      w.fixed(exactly(frame.signature, SIGNATURE_BYTES, 'signature')).varint(frame.classProofs.length);
      for (const proof of frame.classProofs) w.fixed(exactly(proof, PROOF_BYTES, 'class proof'));
      break;
    case 'raft':
      w.string(checkClassTag(frame.classTag), MAX_CLASS_TAG_BYTES);
      writeMessage(w, frame.message);
      break;
    case 'classClaim':
      w.fixed(exactly(frame.proof, PROOF_BYTES, 'class proof'));
      break;
    case 'request':
      w.string(checkClassTag(frame.classTag), MAX_CLASS_TAG_BYTES);
      w.varint(checkRequestId(frame.requestId)).bytes(frame.payload);
      break;
    case 'response':
      w.varint(checkRequestId(frame.requestId));
      if (frame.status === 'ok') w.u8(STATUS_OK).bytes(frame.payload);
      else w.u8(STATUS_ERROR).string(checkErrorCode(frame.errorCode), MAX_ERROR_CODE_BYTES);
      break;
  }
  if (w.size > maxFrameBytes) throw new FrameTooLargeError(w.size, maxFrameBytes);
  // A copy sized to the frame, so the writer's spare capacity is not kept alive by a queue.
  return w.finish().slice();
}

/** Decodes one frame, validating all of it; throws `FrameDecodeError` (or `FrameTooLargeError`). */
export function decodeFrame(bytes: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Frame {
  if (bytes.byteLength > maxFrameBytes) throw new FrameTooLargeError(bytes.byteLength, maxFrameBytes);
  const r = new ByteReader(bytes);
  const version = r.u8('version');
  if (version !== PROTOCOL_VERSION) throw new FrameDecodeError(`unsupported protocol version ${version}`, 'FRAME_VERSION');
  const code = r.u8('kind');
  const kind = kindsByCode.get(code);
  if (kind === undefined) throw new FrameDecodeError(`unknown frame kind ${code}`);
  const frame = readBody(r, kind);
  r.expectEnd(`${kind} frame`);
  return frame;
}

function readBody(r: ByteReader, kind: FrameKind): Frame {
  switch (kind) {
    case 'hello':
      return { kind, ephemeralPublicKey: r.fixed(PUBLIC_KEY_BYTES, 'ephemeral key'), nonce: r.fixed(NONCE_BYTES, 'nonce') };
    case 'sealed':
      if (r.remaining < GCM_TAG_BYTES) throw new FrameDecodeError('sealed frame shorter than its tag');
      return { kind, ciphertext: r.rest() };
    case 'auth': {
      const identityPublicKey = r.fixed(PUBLIC_KEY_BYTES, 'identity key');
      const signature = r.fixed(SIGNATURE_BYTES, 'signature');
      const count = r.count('proof count');
      if (count > MAX_CLASS_PROOFS) throw new FrameDecodeError(`${count} class proofs exceeds ${MAX_CLASS_PROOFS}`);
      const classProofs: Uint8Array[] = [];
      for (let i = 0; i < count; i++) classProofs.push(r.fixed(PROOF_BYTES, 'class proof'));
      return { kind, identityPublicKey, signature, classProofs };
    }
    case 'raft': {
      const classTag = r.string('class tag', MAX_CLASS_TAG_BYTES);
      if (classTag.length === 0) throw new FrameDecodeError('empty class tag');
      return { kind, classTag, message: readMessage(r) };
    }
    case 'classClaim':
      return { kind, proof: r.fixed(PROOF_BYTES, 'class proof') };
    case 'request': {
      const classTag = r.string('class tag', MAX_CLASS_TAG_BYTES);
      if (classTag.length === 0) throw new FrameDecodeError('empty class tag');
      return { kind, classTag, requestId: readRequestId(r), payload: r.bytesField('payload') };
    }
    case 'response': {
      const requestId = readRequestId(r);
      const status = r.u8('status');
      if (status === STATUS_OK) return { kind, requestId, status: 'ok', payload: r.bytesField('payload') };
      if (status !== STATUS_ERROR) throw new FrameDecodeError(`unknown response status ${status}`);
      const errorCode = r.string('error code', MAX_ERROR_CODE_BYTES);
      if (!ERROR_CODE_PATTERN.test(errorCode)) throw new FrameDecodeError('error code is not an upper-case identifier');
      return { kind, requestId, status: 'error', errorCode };
    }
  }
}

function readRequestId(r: ByteReader): number {
  const requestId = r.varint('request id');
  if (requestId > MAX_REQUEST_ID) throw new FrameDecodeError(`request id ${requestId} exceeds 32 bits`);
  return requestId;
}

/** Returns the id if it can be a request id (an integer from 0 to 2^32 − 1), else throws RangeError. */
function checkRequestId(requestId: number): number {
  if (!Number.isInteger(requestId) || requestId < 0 || requestId > MAX_REQUEST_ID) {
    throw new RangeError(`request id must be an integer from 0 to ${MAX_REQUEST_ID}, got ${requestId}`);
  }
  return requestId;
}

/** Returns the code if it can travel in a response (see ERROR_CODE_PATTERN), else throws RangeError. */
export function checkErrorCode(errorCode: string): string {
  if (!ERROR_CODE_PATTERN.test(errorCode)) throw new RangeError(`error code must match ${ERROR_CODE_PATTERN}, got ${JSON.stringify(errorCode)}`);
  return errorCode;
}

/** Room for the whole frame up front, so a large payload is not copied while the writer grows. */
function initialCapacity(frame: Frame): number {
  switch (frame.kind) {
    case 'raft':
      return 512;
    case 'request':
      return frame.payload.byteLength + 2 + 2 + MAX_CLASS_TAG_BYTES + 5 + 8;
    case 'response':
      return (frame.status === 'ok' ? frame.payload.byteLength : MAX_ERROR_CODE_BYTES) + 2 + 5 + 1 + 8;
    default:
      return 128;
  }
}

/** Returns the tag if it can be a class tag (1 to 255 UTF-8 bytes), else throws RangeError. */
export function checkClassTag(classTag: string): string {
  const length = new TextEncoder().encode(classTag).byteLength;
  if (length === 0 || length > MAX_CLASS_TAG_BYTES) throw new RangeError(`class tag must be 1 to ${MAX_CLASS_TAG_BYTES} bytes`);
  return classTag;
}

function exactly(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (bytes.byteLength !== length) throw new RangeError(`${what} must be ${length} bytes, got ${bytes.byteLength}`);
  return bytes;
}
