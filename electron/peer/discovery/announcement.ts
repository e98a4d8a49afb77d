// What a laptop announces in its `_quorum._tcp` service, and the validation of what others
// announce. Everything received is attacker-controlled: anyone on the LAN can multicast any
// record, so each field is checked against a strict shape and size, and anything else is refused
// with a reason to log.
//
// TXT record (DNS-SD key=value strings, each at most 255 bytes):
//   id=<laptop id>           26 lowercase base32 characters; also the service instance name
//   v=1                      the discovery protocol version
//   c0=<tag>,<tag>,...       class tags, 16 hex digits each, at most 14 per string,
//   c1=... c3=...            spread over c0..c3 when there are more (at most 56 in all)
import { isIP } from 'node:net';
import { isClassTag } from './class-tag';

/** The version this build announces and accepts. */
export const DISCOVERY_PROTOCOL_VERSION = 1;
/** The DNS-SD service type, without the underscore and protocol: `_quorum._tcp`. */
export const SERVICE_TYPE = 'quorum';
/** Tags per TXT string: 14 × 17 characters + "c0=" stays under DNS-SD's 255-byte string limit. */
export const CLASS_TAGS_PER_KEY = 14;
const CLASS_TAG_KEYS = ['c0', 'c1', 'c2', 'c3'] as const;
/** Most classes one laptop can announce. */
export const MAX_CLASS_TAGS = CLASS_TAGS_PER_KEY * CLASS_TAG_KEYS.length;
/** More TXT strings than this is not something we announce; refused. */
export const MAX_TXT_KEYS = 16;
/** Bytes of TXT data accepted: room for every key at its largest, well under one Ethernet frame. */
export const MAX_TXT_BYTES = 1300;
/** More A/AAAA records than this for one service is refused, not truncated. */
export const MAX_ANNOUNCED_ADDRESSES = 32;
/** Addresses kept per peer after filtering, best first. */
export const MAX_PEER_ADDRESSES = 8;
/** Same form as the transport's `laptopIdFromPublicKey`: 16 bytes of SHA-256 in lowercase base32. */
const LAPTOP_ID_PATTERN = /^[a-z2-7]{26}$/;
const CLASS_TAG_LIST_PATTERN = new RegExp(`^[0-9a-f]{16}(,[0-9a-f]{16}){0,${CLASS_TAGS_PER_KEY - 1}}$`);

/** A validated announcement of another laptop. */
export interface Announcement {
  laptopId: string;
  port: number;
  /** Distinct, well-formed class tags, in the order announced. */
  classTags: string[];
  /** Usable unicast IPs, the packet's source address first, at most MAX_PEER_ADDRESSES. */
  addresses: string[];
}

/**
 * A service as bonjour-service decodes it from a response. Every field comes from the network,
 * so each is typed unknown until checked.
 */
export interface ReceivedService {
  name?: unknown;
  port?: unknown;
  txt?: unknown;
  /** The TXT strings as received (bonjour-service keeps them as `rawTxt`). */
  rawTxt?: unknown;
  /** From the A and AAAA records of the packet. */
  addresses?: unknown;
  /** The UDP source of the packet. */
  referer?: unknown;
}

export type ParseResult = { ok: true; announcement: Announcement } | { ok: false; reason: string };

/** Whether `value` has the form of a laptop id. */
export function isLaptopId(value: unknown): value is string {
  return typeof value === 'string' && LAPTOP_ID_PATTERN.test(value);
}

/** The TXT record announcing `laptopId` serving `classTags`. Throws RangeError for bad input. */
export function encodeAnnouncementTxt(laptopId: string, classTags: readonly string[]): Record<string, string> {
  if (!isLaptopId(laptopId)) throw new RangeError(`not a laptop id: ${JSON.stringify(laptopId)}`);
  if (classTags.length > MAX_CLASS_TAGS) throw new RangeError(`at most ${MAX_CLASS_TAGS} class tags, not ${classTags.length}`);
  const txt: Record<string, string> = { id: laptopId, v: String(DISCOVERY_PROTOCOL_VERSION) };
  for (let group = 0; group * CLASS_TAGS_PER_KEY < classTags.length; group++) {
    const tags = classTags.slice(group * CLASS_TAGS_PER_KEY, (group + 1) * CLASS_TAGS_PER_KEY);
    for (const tag of tags) if (!isClassTag(tag)) throw new RangeError(`not a class tag: ${JSON.stringify(tag)}`);
    txt[CLASS_TAG_KEYS[group]!] = tags.join(',');
  }
  return txt;
}

/** Validates a received service; `ok: false` carries why it was refused. Never throws. */
export function parseAnnouncement(service: ReceivedService): ParseResult {
  try {
    return parseChecked(service);
  } catch (error) {
    // Defensive: a getter or a proxy in the input must not take the caller down.
    return { ok: false, reason: `unreadable service: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function parseChecked(service: ReceivedService): ParseResult {
  const rawProblem = checkRawTxt(service.rawTxt);
  if (rawProblem) return refuse(rawProblem);
  const txt = service.txt;
  if (typeof txt !== 'object' || txt === null || Array.isArray(txt)) return refuse('no TXT record');
  const keys = Object.keys(txt);
  if (keys.length > MAX_TXT_KEYS) return refuse(`${keys.length} TXT keys, at most ${MAX_TXT_KEYS}`);
  const field = (key: string): unknown => (Object.hasOwn(txt, key) ? (txt as Record<string, unknown>)[key] : undefined);

  const version = field('v');
  if (version !== String(DISCOVERY_PROTOCOL_VERSION)) return refuse(`unsupported protocol version ${describe(version)}`);
  const laptopId = field('id');
  if (!isLaptopId(laptopId)) return refuse(`bad laptop id ${describe(laptopId)}`);
  if (service.name !== laptopId) return refuse(`instance name ${describe(service.name)} is not the laptop id`);
  const port = service.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return refuse(`bad port ${describe(port)}`);

  const classTags: string[] = [];
  for (const key of keys) {
    if (/^c\d+$/.test(key) && !(CLASS_TAG_KEYS as readonly string[]).includes(key)) return refuse(`too many class tag keys (${key})`);
  }
  for (const key of CLASS_TAG_KEYS) {
    const value = field(key);
    if (value === undefined) continue;
    if (typeof value !== 'string' || !CLASS_TAG_LIST_PATTERN.test(value)) return refuse(`${key} is not a list of class tags: ${describe(value)}`);
    for (const tag of value.split(',')) if (!classTags.includes(tag)) classTags.push(tag);
  }

  const addresses = parseAddresses(service.referer, service.addresses);
  if (typeof addresses === 'string') return refuse(addresses);
  if (addresses.length === 0) return refuse('no usable address');
  return { ok: true, announcement: { laptopId, port, classTags, addresses } };
}

function checkRawTxt(rawTxt: unknown): string | null {
  if (rawTxt === undefined) return null;
  if (!Array.isArray(rawTxt)) return 'malformed TXT record';
  if (rawTxt.length > MAX_TXT_KEYS) return `${rawTxt.length} TXT strings, at most ${MAX_TXT_KEYS}`;
  let bytes = 0;
  const seen = new Set<string>();
  for (const entry of rawTxt) {
    if (!Buffer.isBuffer(entry)) return 'malformed TXT record';
    bytes += entry.byteLength;
    const text = entry.toString('latin1');
    const key = text.split('=', 1)[0]!.toLowerCase();
    // RFC 6763 §6.4 says the first of duplicate keys wins; bonjour-service keeps the last. Refuse the ambiguity.
    if (key.length > 0 && seen.has(key)) return `duplicate TXT key ${describe(key)}`;
    seen.add(key);
  }
  return bytes > MAX_TXT_BYTES ? `${bytes} bytes of TXT, at most ${MAX_TXT_BYTES}` : null;
}

/** The packet's source first, then announced A/AAAA records; only addresses one could dial. */
function parseAddresses(referer: unknown, announced: unknown): string[] | string {
  if (announced !== undefined && !Array.isArray(announced)) return 'malformed address list';
  const list = (announced ?? []) as unknown[];
  if (list.length > MAX_ANNOUNCED_ADDRESSES) return `${list.length} addresses, at most ${MAX_ANNOUNCED_ADDRESSES}`;
  const source = typeof referer === 'object' && referer !== null ? (referer as { address?: unknown }).address : undefined;
  const addresses: string[] = [];
  for (const candidate of [source, ...list]) {
    if (typeof candidate !== 'string' || !isUsableAddress(candidate)) continue;
    if (!addresses.includes(candidate)) addresses.push(candidate);
  }
  return addresses.slice(0, MAX_PEER_ADDRESSES);
}

/** A unicast IP a peer could listen on: not unspecified, loopback, multicast, broadcast or IPv6 link-local (no zone to dial it with). */
export function isUsableAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const first = Number(address.split('.')[0]);
    return first !== 0 && first !== 127 && first < 224;
  }
  if (family === 6) {
    const lower = address.toLowerCase();
    if (lower === '::' || lower === '::1') return false;
    if (/^fe[89ab]/.test(lower) || lower.startsWith('ff')) return false;
    return true;
  }
  return false;
}

function refuse(reason: string): ParseResult {
  return { ok: false, reason };
}

/** A short, printable rendering of an untrusted value for a log line. */
function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
