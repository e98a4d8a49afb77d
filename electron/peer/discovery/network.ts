// Which network interface mDNS runs on, followed across address changes (DHCP renewals, Wi-Fi
// roaming, a cable pulled and plugged back).
import { BlockList, isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** What mDNS binds to right now. */
export interface NetworkBinding {
  /** The IPv4 address to join the multicast group on and send from, or null for every interface. */
  interfaceAddress: string | null;
  /** Changes whenever the binding must be rebuilt. */
  fingerprint: string;
  /** Whether an address is on one of the bound interfaces' subnets (reachable without a router). */
  isOnLink(address: string): boolean;
}

export type ListInterfaces = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * Resolves the configured interface (a name, or an IPv4 address naming the interface that holds
 * it) to its current address. Once an address has been matched to an interface, that interface
 * is followed by name, so a new address on it is a change of address, not a lost interface.
 */
export class InterfaceSelector {
  private followedName: string | null;

  constructor(
    private readonly spec: string | undefined,
    private readonly list: ListInterfaces = networkInterfaces,
  ) {
    if (spec !== undefined && isIP(spec) === 6) throw new RangeError('mDNS runs over IPv4 here: give an IPv4 address or an interface name');
    if (spec !== undefined && spec.length === 0) throw new RangeError('empty interface');
    this.followedName = spec === undefined || isIP(spec) === 4 ? null : spec;
  }

  /** The binding to use now, or null when the configured interface is absent, down or has no IPv4 address. */
  current(): NetworkBinding | null {
    const interfaces = this.list();
    if (this.spec === undefined) return allInterfaces(interfaces);
    if (this.followedName === null) {
      const owner = Object.entries(interfaces).find(([, infos]) => infos?.some((info) => info.address === this.spec));
      if (!owner) return null;
      this.followedName = owner[0];
    }
    const infos = interfaces[this.followedName] ?? [];
    const ipv4 = infos.filter((info) => info.family === 'IPv4');
    const chosen = ipv4.find((info) => info.address === this.spec) ?? ipv4[0];
    if (!chosen) return null;
    return {
      interfaceAddress: chosen.address,
      fingerprint: `${this.followedName}=${chosen.address}/${chosen.cidr ?? ''}`,
      isOnLink: onLinkCheck(infos),
    };
  }
}

function allInterfaces(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): NetworkBinding {
  const external = Object.entries(interfaces).flatMap(([name, infos]) =>
    (infos ?? []).filter((info) => !info.internal).map((info) => ({ name, info })),
  );
  const fingerprint = external
    .filter(({ info }) => info.family === 'IPv4')
    .map(({ name, info }) => `${name}=${info.cidr ?? info.address}`)
    .sort()
    .join(',');
  return { interfaceAddress: null, fingerprint: `*:${fingerprint}`, isOnLink: onLinkCheck(external.map(({ info }) => info)) };
}

function onLinkCheck(infos: NetworkInterfaceInfo[]): (address: string) => boolean {
  const subnets = new BlockList();
  for (const info of infos) {
    const [network, prefix] = (info.cidr ?? '').split('/');
    if (!network || prefix === undefined) continue;
    subnets.addSubnet(network, Number(prefix), info.family === 'IPv4' ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && subnets.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
