// What a laptop announces and what it accepts from others. Announcements go through the real
// wire format (dns-packet) and bonjour-service's Browser, as on the LAN, but over a fake socket.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Browser } from 'bonjour-service';
import { describe, expect, it } from 'vitest';
import {
  encodeAnnouncementTxt,
  isLaptopId,
  MAX_CLASS_TAGS,
  parseAnnouncement,
  type ReceivedService,
} from '../../../electron/peer/discovery';

interface DnsRecord {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}
// dns-packet (multicast-dns's codec) ships without typings.
const dnsPacket = createRequire(import.meta.url)('dns-packet') as {
  encode(packet: object): Buffer;
  decode(buffer: Buffer): object;
};

const ID = 'abcdefghijklmnopqrstuvwxyz';
const OTHER_ID = 'zyxwvutsrqponmlkjihgfedcba';
const TAG_A = 'd28b334191c8835f';
const TAG_B = 'c8a992eb2d3bff90';
const SOURCE = '192.168.1.20';

interface Forgery {
  name?: string;
  port?: number;
  /** TXT strings; null for no TXT record. */
  txt?: string[] | null;
  addresses?: string[];
  source?: string;
}

/** The services a Browser reports for one response packet built from `forgery`, decoded from the wire. */
function receive(forgery: Forgery = {}): ReceivedService[] {
  const name = forgery.name ?? ID;
  const fqdn = `${name}._quorum._tcp.local`;
  const host = `${name}.local`;
  const additionals: DnsRecord[] = [{ name: fqdn, type: 'SRV', ttl: 120, data: { port: forgery.port ?? 7000, target: host } }];
  const txt = forgery.txt === undefined ? [`id=${ID}`, 'v=1', `c0=${TAG_A}`] : forgery.txt;
  if (txt) additionals.push({ name: fqdn, type: 'TXT', ttl: 4500, data: txt.map((entry) => Buffer.from(entry)) });
  for (const address of forgery.addresses ?? [SOURCE]) {
    additionals.push({ name: host, type: address.includes(':') ? 'AAAA' : 'A', ttl: 120, data: address });
  }
  const wire = dnsPacket.encode({ type: 'response', answers: [{ name: '_quorum._tcp.local', type: 'PTR', ttl: 4500, data: fqdn }], additionals });

  const socket = Object.assign(new EventEmitter(), { query: () => {} });
  const browser = new Browser(socket, { type: 'quorum', protocol: 'tcp' });
  const found: ReceivedService[] = [];
  browser.on('up', (service) => found.push(service as ReceivedService));
  socket.emit('response', dnsPacket.decode(wire), { address: forgery.source ?? SOURCE, family: 'IPv4', port: 5353, size: wire.length });
  browser.stop();
  return found;
}

function parseOne(forgery: Forgery = {}) {
  const services = receive(forgery);
  expect(services).toHaveLength(1);
  return parseAnnouncement(services[0]!);
}

describe('encodeAnnouncementTxt', () => {
  it('writes the laptop id, the version and the tags, 14 to a string', () => {
    expect(encodeAnnouncementTxt(ID, [TAG_A, TAG_B])).toEqual({ id: ID, v: '1', c0: `${TAG_A},${TAG_B}` });
    const many = Array.from({ length: 30 }, (_, i) => i.toString(16).padStart(16, '0'));
    const txt = encodeAnnouncementTxt(ID, many);
    expect(Object.keys(txt)).toEqual(['id', 'v', 'c0', 'c1', 'c2']);
    expect(txt.c0!.split(',')).toHaveLength(14);
    expect(txt.c2!.split(',')).toHaveLength(2);
    for (const value of Object.entries(txt).map(([key, text]) => `${key}=${text}`)) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(255);
  });

  it('refuses what it could not announce', () => {
    expect(() => encodeAnnouncementTxt('not-a-laptop-id', [TAG_A])).toThrow(RangeError);
    expect(() => encodeAnnouncementTxt(ID, ['Secret Class 4B'])).toThrow(RangeError);
    const tooMany = Array.from({ length: MAX_CLASS_TAGS + 1 }, (_, i) => i.toString(16).padStart(16, '0'));
    expect(() => encodeAnnouncementTxt(ID, tooMany)).toThrow(RangeError);
  });

  it('round-trips through the wire and bonjour-service for every size up to the limit', () => {
    for (const count of [0, 1, 14, 15, MAX_CLASS_TAGS]) {
      const tags = Array.from({ length: count }, (_, i) => (i + 1).toString(16).padStart(16, 'a'));
      const txt = Object.entries(encodeAnnouncementTxt(ID, tags)).map(([key, value]) => `${key}=${value}`);
      expect(parseOne({ txt })).toEqual({ ok: true, announcement: { laptopId: ID, port: 7000, classTags: tags, addresses: [SOURCE] } });
    }
  });
});

describe('parseAnnouncement', () => {
  it('accepts a well-formed announcement, ignoring keys it does not know', () => {
    expect(parseOne({ txt: [`id=${ID}`, 'v=1', `c0=${TAG_A},${TAG_B}`, 'future=yes'] })).toEqual({
      ok: true,
      announcement: { laptopId: ID, port: 7000, classTags: [TAG_A, TAG_B], addresses: [SOURCE] },
    });
  });

  const base = [`id=${ID}`, 'v=1'];
  const refusals: [string, Forgery, RegExp][] = [
    ['no TXT record', { txt: null }, /no TXT record/],
    ['no version', { txt: [`id=${ID}`, `c0=${TAG_A}`] }, /unsupported protocol version undefined/],
    ['another version', { txt: [`id=${ID}`, 'v=2', `c0=${TAG_A}`] }, /unsupported protocol version "2"/],
    ['no laptop id', { txt: ['v=1', `c0=${TAG_A}`] }, /bad laptop id/],
    ['laptop id with uppercase', { name: ID.toUpperCase(), txt: [`id=${ID.toUpperCase()}`, 'v=1'] }, /bad laptop id/],
    ['laptop id too short', { name: 'abc', txt: ['id=abc', 'v=1'] }, /bad laptop id/],
    ['laptop id too long', { txt: [`id=${'a'.repeat(200)}`, 'v=1'] }, /bad laptop id "a{50,}…/],
    ['laptop id with base32 padding', { name: `${ID.slice(0, 25)}=`, txt: [`id=${ID.slice(0, 25)}=`, 'v=1'] }, /bad laptop id/],
    ['instance name not the id', { name: OTHER_ID }, /instance name "zyx.*" is not the laptop id/],
    ['port 0', { port: 0 }, /bad port 0/],
    ['non-hex tag', { txt: [...base, `c0=${TAG_A},zzzzzzzzzzzzzzzz`] }, /c0 is not a list of class tags/],
    ['uppercase tag', { txt: [...base, `c0=${TAG_A.toUpperCase()}`] }, /c0 is not a list of class tags/],
    ['short tag', { txt: [...base, 'c0=abcdef'] }, /c0 is not a list of class tags/],
    ['empty tag list', { txt: [...base, 'c0=,'] }, /c0 is not a list of class tags/],
    ['tag list with spaces', { txt: [...base, `c0=${TAG_A}, ${TAG_B}`] }, /c0 is not a list of class tags/],
    ['a fifth tag string', { txt: [...base, `c0=${TAG_A}`, `c4=${TAG_B}`] }, /too many class tag keys \(c4\)/],
    ['a duplicate key', { txt: [...base, `c0=${TAG_A}`, `id=${OTHER_ID}`] }, /duplicate TXT key "id"/],
    ['a duplicate key in other case', { txt: [...base, `c0=${TAG_A}`, `ID=${OTHER_ID}`] }, /duplicate TXT key "id"/],
    ['17 TXT strings', { txt: [...base, ...Array.from({ length: 15 }, (_, i) => `x${i}=1`)] }, /17 TXT strings, at most 16/],
    ['oversized TXT', { txt: [...base, ...Array.from({ length: 6 }, (_, i) => `x${i}=${'y'.repeat(240)}`)] }, /bytes of TXT, at most 1300/],
    ['33 addresses', { addresses: Array.from({ length: 33 }, (_, i) => `10.0.0.${i + 1}`) }, /33 addresses, at most 32/],
    ['only unusable addresses', { addresses: ['127.0.0.1', 'fe80::1', '224.0.0.251'], source: '0.0.0.0' }, /no usable address/],
  ];
  it.each(refusals)('refuses %s', (_, forgery, reason) => {
    const result = parseOne(forgery);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });

  it('refuses 15 tags in one string (the wire cannot carry them, a decoder bug could)', () => {
    const txt = { id: ID, v: '1', c0: Array(15).fill(TAG_A).join(',') };
    const result = parseAnnouncement({ txt, name: ID, port: 7000, referer: { address: SOURCE } });
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/c0 is not a list of class tags/) });
  });

  it('dedupes tags across strings', () => {
    const result = parseOne({ txt: [...base, `c0=${TAG_A},${TAG_B}`, `c1=${TAG_B},${TAG_A}`] });
    expect(result.ok && result.announcement.classTags).toEqual([TAG_A, TAG_B]);
  });

  it('keeps usable addresses, the packet source first, at most 8', () => {
    const addresses = ['fe80::1', '10.0.0.9', SOURCE, '127.0.0.1', '2001:db8::7', '0.0.0.0', ...Array.from({ length: 10 }, (_, i) => `10.1.0.${i + 1}`)];
    const result = parseOne({ addresses, source: '192.168.1.99' });
    expect(result.ok && result.announcement.addresses).toEqual([
      '192.168.1.99',
      '10.0.0.9',
      SOURCE,
      '2001:db8::7',
      '10.1.0.1',
      '10.1.0.2',
      '10.1.0.3',
      '10.1.0.4',
    ]);
  });

  it('never throws, whatever it is handed', () => {
    const hostile: unknown[] = [
      {},
      { txt: 'id=x' },
      { txt: ['id=x'] },
      { txt: null, rawTxt: 'x' },
      { txt: { id: ID, v: '1' }, rawTxt: [1, 2] },
      { txt: Object.create(null), name: ID, port: 7000 },
      { txt: { id: ID, v: '1', c0: 12 }, name: ID, port: 7000, referer: { address: SOURCE } },
      { txt: { id: ID, v: '1' }, name: ID, port: 7000, addresses: 'x', referer: { address: SOURCE } },
      { txt: { id: ID, v: '1' }, name: ID, port: 7000, addresses: [null, 5, {}], referer: null },
      {
        get txt(): never {
          throw new Error('boom');
        },
      },
    ];
    for (const service of hostile) expect(parseAnnouncement(service as ReceivedService).ok).toBe(false);
    const prototypeKey = parseAnnouncement({ txt: JSON.parse(`{"__proto__": {"v": "1"}, "id": "${ID}"}`), name: ID, port: 7000, referer: { address: SOURCE } });
    expect(prototypeKey.ok).toBe(false);
  });
});

describe('bonjour-service and parseAnnouncement under mutated packets', () => {
  // A throw here would escape multicast-dns's socket callback and crash the laptop: any host on the LAN could do it.
  it('never throw, whatever bytes arrive', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    console.info(`mutated packets: FUZZ_SEED=${seed}`);
    let state = seed;
    const random = (): number => {
      // mulberry32
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const fqdn = `${ID}._quorum._tcp.local`;
    const valid = dnsPacket.encode({
      type: 'response',
      answers: [{ name: '_quorum._tcp.local', type: 'PTR', ttl: 4500, data: fqdn }],
      additionals: [
        { name: fqdn, type: 'SRV', ttl: 120, data: { port: 7000, target: `${ID}.local` } },
        { name: fqdn, type: 'TXT', ttl: 4500, data: [`id=${ID}`, 'v=1', `c0=${TAG_A}`].map((entry) => Buffer.from(entry)) },
        { name: `${ID}.local`, type: 'A', ttl: 120, data: SOURCE },
      ],
    });
    const socket = Object.assign(new EventEmitter(), { query: () => {} });
    const browser = new Browser(socket, { type: 'quorum', protocol: 'tcp' });
    const results: boolean[] = [];
    for (const event of ['up', 'txt-update', 'srv-update', 'down'] as const) {
      browser.on(event, (service: object) => results.push(parseAnnouncement(service as ReceivedService).ok));
    }
    let decoded = 0;
    for (let round = 0; round < 20_000; round++) {
      const bytes = Buffer.from(valid);
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      let packet: object;
      try {
        packet = dnsPacket.decode(bytes);
      } catch {
        continue; // multicast-dns drops what does not decode, with a 'warning'
      }
      decoded++;
      expect(() => socket.emit('response', packet, { address: SOURCE, family: 'IPv4', port: 5353, size: bytes.length })).not.toThrow();
    }
    browser.stop();
    expect(decoded).toBeGreaterThan(1_000);
    expect(results.length).toBeGreaterThan(0);
  });
});

describe('isLaptopId', () => {
  it.each([
    [ID, true],
    ['a2345672345672345672345672', true],
    ['a234567234567234567234567', false],
    ['a23456723456723456723456720', false],
    ['a1234567234567234567234567', false], // 1 is not base32
    [42, false],
  ])('%j → %s', (value, expected) => expect(isLaptopId(value)).toBe(expected));
});
