// Who is reported and when: the rules of PeerTable, step by step, with time passed in.
import { describe, expect, it } from 'vitest';
import type { Announcement } from '../../../electron/peer/discovery';
import { PeerTable } from '../../../electron/peer/discovery/peer-table';

const SELF = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
const P = 'bbbbbbbbbbbbbbbbbbbbbbbbbb';
const Q = 'cccccccccccccccccccccccccc';
const A = '000000000000000a';
const B = '000000000000000b';
const C = '000000000000000c';

function announcement(laptopId: string, classTags: string[], addresses = ['10.0.0.2'], port = 7000): Announcement {
  return { laptopId, classTags, addresses, port };
}

function table(ourTags = [A]): PeerTable {
  const peers = new PeerTable(SELF, 4);
  peers.setOurTags(ourTags);
  return peers;
}

describe('PeerTable', () => {
  it('reports a laptop sharing a class once, with the shared tags only, then refreshes it silently', () => {
    const peers = table([A, B]);
    expect(peers.observe(announcement(P, [C, B, A]), 1_000)).toEqual([
      { type: 'peer', peer: { key: P, laptopId: P, addresses: ['10.0.0.2'], port: 7000, classTags: [B, A], lastSeen: 1_000 } },
    ]);
    expect(peers.observe(announcement(P, [C, B, A]), 2_000)).toEqual([]);
    expect(peers.reported()).toEqual([expect.objectContaining({ key: P, lastSeen: 2_000 })]);
  });

  it('never reports itself or a laptop of other classes', () => {
    const peers = table([A]);
    expect(peers.observe(announcement(SELF, [A]), 1)).toEqual([]);
    expect(peers.observe(announcement(Q, [B, C]), 1)).toEqual([]);
    expect(peers.reported()).toEqual([]);
  });

  it('reports a new address, port or class set of a known laptop as an update with the same key', () => {
    const peers = table([A, B]);
    peers.observe(announcement(P, [A]), 1);
    const moved = peers.observe(announcement(P, [A], ['10.0.0.99']), 2);
    expect(moved).toEqual([{ type: 'peer', peer: expect.objectContaining({ key: P, laptopId: P, addresses: ['10.0.0.99'] }) }]);
    expect(peers.observe(announcement(P, [A], ['10.0.0.99'], 7001), 3)).toEqual([{ type: 'peer', peer: expect.objectContaining({ port: 7001 }) }]);
    expect(peers.observe(announcement(P, [A, B], ['10.0.0.99'], 7001), 4)).toEqual([{ type: 'peer', peer: expect.objectContaining({ classTags: [A, B] }) }]);
    expect(peers.observe(announcement(P, [A, B, C], ['10.0.0.99'], 7001), 5)).toEqual([]); // C is not ours: nothing we report changed
    expect(peers.reported()).toHaveLength(1);
  });

  it('drops a laptop that leaves our classes and reports it again when it comes back', () => {
    const peers = table([A]);
    peers.observe(announcement(P, [A]), 1);
    expect(peers.observe(announcement(P, [B]), 2)).toEqual([{ type: 'peerLost', lost: { key: P, laptopId: P, reason: 'noSharedClass' } }]);
    expect(peers.observe(announcement(P, [B]), 3)).toEqual([]);
    expect(peers.observe(announcement(P, [A, B]), 4)).toEqual([{ type: 'peer', peer: expect.objectContaining({ classTags: [A] }) }]);
  });

  it('follows changes of our own classes', () => {
    const peers = table([A]);
    peers.observe(announcement(P, [A]), 1);
    peers.observe(announcement(Q, [B]), 1);
    const events = peers.setOurTags([B]);
    expect(events).toEqual([
      { type: 'peerLost', lost: { key: P, laptopId: P, reason: 'noSharedClass' } },
      { type: 'peer', peer: expect.objectContaining({ key: Q, classTags: [B] }) },
    ]);
    expect(peers.setOurTags([B])).toEqual([]);
  });

  it('loses a laptop on goodbye, and only a reported one makes an event', () => {
    const peers = table([A]);
    peers.observe(announcement(P, [A]), 1);
    peers.observe(announcement(Q, [B]), 1);
    expect(peers.remove(P)).toEqual([{ type: 'peerLost', lost: { key: P, laptopId: P, reason: 'goodbye' } }]);
    expect(peers.remove(P)).toEqual([]);
    expect(peers.remove(Q)).toEqual([]);
    expect(peers.size).toBe(0);
  });

  it('expires laptops not heard of for longer than the timeout', () => {
    const peers = table([A]);
    peers.observe(announcement(P, [A]), 1_000);
    peers.observe(announcement(Q, [A]), 1_000);
    peers.observe(announcement(Q, [A]), 3_500);
    expect(peers.expire(4_000, 3_000)).toEqual([]);
    expect(peers.expire(4_001, 3_000)).toEqual([{ type: 'peerLost', lost: { key: P, laptopId: P, reason: 'timeout' } }]);
    expect(peers.reported().map((peer) => peer.key)).toEqual([Q]);
    // It is reported again when heard again.
    expect(peers.observe(announcement(P, [A]), 5_000)).toEqual([{ type: 'peer', peer: expect.objectContaining({ key: P }) }]);
  });

  it('remembers a bounded number of laptops', () => {
    const peers = table([A]);
    const ids = ['d', 'e', 'f', 'g', 'h'].map((letter) => letter.repeat(26));
    for (const id of ids.slice(0, 4)) expect(peers.observe(announcement(id, [B]), 1)).toEqual([]);
    expect(peers.observe(announcement(ids[4]!, [A]), 1)).toBe('full');
    expect(peers.observe(announcement(ids[0]!, [A]), 2)).toHaveLength(1); // known ones still update
    peers.expire(10_000, 1_000);
    expect(peers.observe(announcement(ids[4]!, [A]), 10_001)).toHaveLength(1);
  });

  it('hands out copies', () => {
    const peers = table([A]);
    peers.observe(announcement(P, [A]), 1);
    peers.reported()[0]!.addresses.push('6.6.6.6');
    expect(peers.reported()[0]!.addresses).toEqual(['10.0.0.2']);
  });
});
