// Prints this namespace's non-loopback IPv4 addresses as JSON: proof for the harness test that a
// child really runs inside its namespace.
import { networkInterfaces } from 'node:os';

const addresses = Object.values(networkInterfaces())
  .flatMap((infos) => infos ?? [])
  .filter((info) => info.family === 'IPv4' && !info.internal)
  .map((info) => info.address);
process.stdout.write(JSON.stringify(addresses));
