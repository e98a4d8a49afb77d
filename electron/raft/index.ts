// The pure Raft core: no I/O, timers, clocks or global randomness. See node.ts for the Ready loop.
export { RaftNode, type RaftNodeOptions } from './node';
export { MemoryStorage, bootstrapLog, cloneConfState, emptyConfState, type Storage } from './storage';
export { recoveryLog, type RecoveryLog } from './recovery';
export { seededRandom, randomInt, type RandomSource } from './random';
export { entrySize } from './size';
export { isWellFormedMessage } from './validate';
export * from './errors';
export type * from './types';
