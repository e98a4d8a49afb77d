// Attachments outside the Raft log: a content-addressed store on disk, the requests that pull a
// blob chunk by chunk from other laptops, and the rule for which laptops keep a copy.
export { BlobStore, type BlobStoreOptions } from './blob-store';
export { BlobWriter } from './blob-writer';
export { checkBlobHash, isBlobHash, sha256Hex } from './blob-hash';
export { answerBlobRequest, type BlobSource, type ServeOptions } from './blob-server';
export {
  BlobFetcher,
  type BlobFetcherOptions,
  type BlobProgress,
  type FetchOptions,
  type FetchResult,
  type SendRequest,
  type WantedBlob,
} from './blob-fetcher';
export { isBlobRequest, MAX_CHUNK_BYTES } from './protocol';
export { keepsBlob, likelyHolders, type RetentionInput } from './retention';
export * from './errors';
