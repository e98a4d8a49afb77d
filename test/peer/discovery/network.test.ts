// Which interface mDNS runs on, across address changes, with the interface list faked.
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { MdnsDiscovery } from '../../../electron/peer/discovery';
import { InterfaceSelector } from '../../../electron/peer/discovery/network';

function ipv4(address: string, prefix = 24, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal, cidr: `${address}/${prefix}` };
}

describe('InterfaceSelector', () => {
  it('finds the interface holding an address, then follows it by name when the address changes', () => {
    let interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = { lo: [ipv4('127.0.0.1', 8, true)], wlan0: [ipv4('192.168.1.20')] };
    const selector = new InterfaceSelector('192.168.1.20', () => interfaces);
    const first = selector.current()!;
    expect(first.interfaceAddress).toBe('192.168.1.20');
    expect(first.isOnLink('192.168.1.77')).toBe(true);
    expect(first.isOnLink('192.168.2.1')).toBe(false);
    expect(first.isOnLink('not an address')).toBe(false);

    interfaces = { lo: [ipv4('127.0.0.1', 8, true)], wlan0: [ipv4('10.5.0.7', 16)] };
    const moved = selector.current()!;
    expect(moved.interfaceAddress).toBe('10.5.0.7');
    expect(moved.fingerprint).not.toBe(first.fingerprint);
    expect(moved.isOnLink('10.5.200.1')).toBe(true);

    interfaces = { lo: [ipv4('127.0.0.1', 8, true)] }; // Wi-Fi off
    expect(selector.current()).toBeNull();
    interfaces = { wlan0: [ipv4('10.5.0.8', 16)] };
    expect(selector.current()!.interfaceAddress).toBe('10.5.0.8');
  });

  it('prefers the configured address while the interface still has it', () => {
    const interfaces = { eth0: [ipv4('10.0.0.1'), ipv4('10.0.0.2')] };
    expect(new InterfaceSelector('10.0.0.2', () => interfaces).current()!.interfaceAddress).toBe('10.0.0.2');
    expect(new InterfaceSelector('eth0', () => interfaces).current()!.interfaceAddress).toBe('10.0.0.1');
  });

  it('waits for an address or interface that is not there yet', () => {
    let interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
    const selector = new InterfaceSelector('192.168.1.20', () => interfaces);
    expect(selector.current()).toBeNull();
    interfaces = { eth1: [ipv4('192.168.1.20')] };
    expect(selector.current()!.interfaceAddress).toBe('192.168.1.20');
  });

  it('without an interface uses every interface and changes fingerprint with any of them', () => {
    let interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = { lo: [ipv4('127.0.0.1', 8, true)], eth0: [ipv4('10.0.0.1')], wlan0: [ipv4('192.168.1.5')] };
    const selector = new InterfaceSelector(undefined, () => interfaces);
    const first = selector.current()!;
    expect(first.interfaceAddress).toBeNull();
    expect(first.isOnLink('192.168.1.9')).toBe(true);
    expect(first.isOnLink('10.0.0.9')).toBe(true);
    expect(first.isOnLink('127.0.0.2')).toBe(false);
    interfaces = { ...interfaces, wlan0: [ipv4('192.168.1.6')] };
    expect(selector.current()!.fingerprint).not.toBe(first.fingerprint);
  });

  it('refuses IPv6 and empty interfaces', () => {
    expect(() => new InterfaceSelector('fe80::1')).toThrow(RangeError);
    expect(() => new InterfaceSelector('')).toThrow(RangeError);
  });
});

describe('MdnsDiscovery options', () => {
  const laptopId = 'abcdefghijklmnopqrstuvwxyz';
  it.each([
    ['a bad laptop id', { laptopId: 'nope', port: 7000 }],
    ['port 0', { laptopId, port: 0 }],
    ['a bad class tag', { laptopId, port: 7000, classTags: ['Physics 4B'] }],
    ['a timeout shorter than the query interval', { laptopId, port: 7000, queryIntervalMs: 10_000, peerTimeoutMs: 5_000 }],
    ['an IPv6 interface', { laptopId, port: 7000, interface: '::1' }],
  ])('refuses %s without touching the network', (_, options) => {
    expect(() => new MdnsDiscovery(options)).toThrow(RangeError);
  });

  it('validates class tags given later, and reports nothing before start', () => {
    const discovery = new MdnsDiscovery({ laptopId, port: 7000 });
    expect(() => discovery.setClassTags(['d28b334191c8835f', 'x'])).toThrow(RangeError);
    discovery.setClassTags(['d28b334191c8835f']);
    expect(discovery.peers()).toEqual([]);
  });
});
