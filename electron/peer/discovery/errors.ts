// Named errors of discovery. What arrives from the network never throws: it is logged and ignored.

/** Base of every error discovery throws; `code` is stable for callers to branch on. */
export class DiscoveryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A manual peer address that is not `host:port` with a valid host and port 1-65535. */
export class InvalidPeerAddressError extends DiscoveryError {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super('INVALID_PEER_ADDRESS', `invalid peer address ${JSON.stringify(input.slice(0, 80))}: ${reason}`);
  }
}

/** The manual peers file could not be written. */
export class ManualPeersFileError extends DiscoveryError {
  constructor(path: string, reason: string) {
    super('MANUAL_PEERS_FILE', `cannot write ${path}: ${reason}`);
  }
}
