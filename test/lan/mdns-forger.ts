// An attacker on the LAN, for the LAN tests: multicasts malformed `_quorum._tcp` announcements
// (built record by record with multicast-dns, below bonjour-service) and undecodable datagrams,
// over and over until killed. Every forged announcement carries a real class tag, so only
// validation keeps it from being reported.
//   argv[2]  JSON { interface: string, classTag: string, forgedIds: string[] }  (see FORGERIES for the order)
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';

interface Answer {
  name: string;
  type: 'PTR' | 'SRV' | 'TXT' | 'A';
  ttl: number;
  data: unknown;
}
interface MulticastDns {
  respond(packet: { answers: Answer[]; additionals?: Answer[] }, callback?: (error: Error | null) => void): void;
  on(event: 'ready' | 'error' | 'warning', listener: (error?: Error) => void): void;
  destroy(callback?: () => void): void;
}
// multicast-dns ships without typings; bonjour-service depends on it, so it is installed.
const multicastDns = createRequire(import.meta.url)('multicast-dns') as (options: object) => MulticastDns;

const { interface: address, classTag, forgedIds } = JSON.parse(process.argv[2] ?? '{}') as {
  interface: string;
  classTag: string;
  forgedIds: string[];
};

const SERVICE = '_quorum._tcp.local';
const tags = (count: number): string => Array.from({ length: count }, (_, i) => `${classTag.slice(0, 14)}${(i % 256).toString(16).padStart(2, '0')}`).join(',');

/** One announcement per forged id, in this order; each breaks one rule. */
const FORGERIES: { why: string; name?: string; port?: number; txt: string[] | null }[] = [
  { why: 'non-hex class tag', txt: ['id=%ID%', 'v=1', `c0=${classTag},zzzzzzzzzzzzzzzz`] },
  { why: 'too many class tag keys', txt: ['id=%ID%', 'v=1', `c0=${classTag}`, `c1=${tags(14)}`, `c2=${tags(14)}`, `c3=${tags(14)}`, `c4=${tags(3)}`] },
  { why: 'instance name is not the laptop id', name: 'someone-else', txt: ['id=%ID%', 'v=1', `c0=${classTag}`] },
  { why: 'port 0', port: 0, txt: ['id=%ID%', 'v=1', `c0=${classTag}`] },
  { why: 'no TXT record', txt: null },
  { why: 'duplicate TXT key', txt: ['id=%ID%', 'v=1', `c0=${classTag}`, 'id=aaaaaaaaaaaaaaaaaaaaaaaaaa'] },
  { why: 'unsupported version', txt: ['id=%ID%', 'v=99', `c0=${classTag}`] },
  { why: 'oversized TXT', txt: ['id=%ID%', 'v=1', `c0=${classTag}`, ...Array.from({ length: 12 }, (_, i) => `x${i}=${'y'.repeat(240)}`)] },
  { why: 'laptop id too long', txt: [`id=${'a'.repeat(200)}`, 'v=1', `c0=${classTag}`] },
];

function forgery(index: number): { answers: Answer[]; additionals: Answer[] } {
  const spec = FORGERIES[index]!;
  const id = forgedIds[index]!;
  const name = spec.name ?? (spec.why === 'laptop id too long' ? 'a'.repeat(60) : id);
  const fqdn = `${name}.${SERVICE}`;
  const host = `${id}.local`;
  const additionals: Answer[] = [{ name: fqdn, type: 'SRV', ttl: 120, data: { port: spec.port ?? 7000, target: host } }];
  if (spec.txt) additionals.push({ name: fqdn, type: 'TXT', ttl: 4500, data: spec.txt.map((entry) => Buffer.from(entry.replace('%ID%', id))) });
  additionals.push({ name: host, type: 'A', ttl: 120, data: address });
  return { answers: [{ name: SERVICE, type: 'PTR', ttl: 4500, data: fqdn }], additionals };
}

if (forgedIds.length !== FORGERIES.length) throw new Error(`need ${FORGERIES.length} forged ids`);
const mdns = multicastDns({ interface: address, bind: '0.0.0.0' });
mdns.on('error', (error) => console.error('forger socket error', error?.message));
const garbage = createSocket({ type: 'udp4', reuseAddr: true });
garbage.bind(0, address, () => garbage.setMulticastInterface(address));

function burst(): void {
  for (let i = 0; i < FORGERIES.length; i++) mdns.respond(forgery(i));
  garbage.send(Buffer.from('not a DNS packet at all'), 5353, '224.0.0.251');
  garbage.send(Buffer.alloc(12, 0xff), 5353, '224.0.0.251'); // a header claiming 65535 of everything
}
burst();
setInterval(burst, 300);
process.stdout.write(`${JSON.stringify({ type: 'ready', forgeries: FORGERIES.map((f) => f.why) })}\n`);
