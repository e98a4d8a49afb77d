// How the app starts its peer: the headless node's command line (electron/headless/cli.ts),
// filled in from the app's data folder and the computer's user. Pure: the caller passes what
// Electron and the operating system say, so the choices are tested in Node.
import { join } from 'node:path';

export interface PeerLaunchInput {
  /** Electron's app.getPath('userData'). */
  userDataDir: string;
  /** The login name of the computer's user, or null when the system does not say. */
  username: string | null;
  /** The computer's host name. */
  hostname: string;
}

/** The peer's folder inside the app's: the app's own files (Chromium's caches and so on) stay apart from the class data. */
export const PEER_DATA_FOLDER = 'peer';

/** The arguments after the entry: discovery on (a real classroom LAN), no HTTP port (the app uses IPC). */
export function peerArguments(input: PeerLaunchInput): string[] {
  return ['--data-dir', join(input.userDataDir, PEER_DATA_FOLDER), '--name', displayName(input)];
}

/** The name other laptops show for this one, e.g. "ana on ROOM12-PC07": who, and on which machine. */
export function displayName(input: Pick<PeerLaunchInput, 'username' | 'hostname'>): string {
  const user = input.username?.trim() ?? '';
  const host = input.hostname.trim();
  if (user && host) return `${user} on ${host}`;
  return user || host || 'Quorum laptop';
}
