// Discovery: how a laptop finds the other laptops of its classes. mDNS on the LAN, and a list of
// addresses typed by hand for networks that block multicast. See types.ts for the contract.
export { MdnsDiscovery, type MdnsDiscoveryOptions } from './mdns-discovery';
export { ManualPeers, MANUAL_PEERS_FILE, parsePeerAddress, type ManualPeersOptions, type PeerAddressInput } from './manual-peers';
export { classTag, isClassTag, CLASS_TAG_BYTES, MIN_CLASS_SECRET_BYTES } from './class-tag';
export {
  DISCOVERY_PROTOCOL_VERSION,
  encodeAnnouncementTxt,
  isLaptopId,
  MAX_CLASS_TAGS,
  parseAnnouncement,
  SERVICE_TYPE,
  type Announcement,
  type ReceivedService,
} from './announcement';
export * from './errors';
export * from './types';
