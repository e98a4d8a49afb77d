// How Node runs a peer: flags for the process itself, which can only be given when it starts
// (the Electron utilityProcess's execArgv, the `node` command line of the headless node).
//
// --max-semi-space-size=2: V8's young generation may otherwise grow to 3 × 16 MiB under a burst
// of writes and keep that memory. A peer allocates small, short-lived objects (messages,
// rows); with 2 MiB semi-spaces they are collected a little more often, at no measurable cost
// per write (bench/peer.ts), and a node under load stays around 100 MiB instead of 120+.
// scripts/start.mjs and package.json's `headless` script repeat this list: keep them in step.
export const PEER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
