import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { DiskObjectStore } from '../store.ts';
import type { Query } from '../wire.ts';

/** A verified request, with the bucket and key the signature settled on. */
export interface OssRequest {
  method: string;
  /** An existing bucket by the time an action runs, except for PutBucket; `''` for ListBuckets. */
  bucket: string;
  /** Decoded key; `''` for bucket-level operations. */
  key: string;
  query: Query;
  headers: IncomingHttpHeaders;
  /** The request body, not yet read. */
  body: IncomingMessage;
}

/** What an action answers; the server adds `x-oss-request-id`, `Date` and `Server`. */
export interface OssResponse {
  status: number;
  headers: Record<string, string | number>;
  /** A stream is piped (and destroyed if the client goes away); HEAD bodies are never sent. */
  body?: string | Buffer | Readable;
}

/** What every action may use besides the request. */
export interface ActionContext {
  store: DiskObjectStore;
  /** Largest object a PutObject accepts, in bytes. */
  maxObjectBytes: number;
  /** Owner reported in listings: the bucket's owner, or the caller's account for ListBuckets. */
  owner: { id: string; displayName: string };
  /** Region this endpoint serves, `oss-cn-hangzhou` form; new buckets are made in it. */
  region: string;
  /** The account of the AccessKey that signed the request. */
  caller: { accountId: string };
}

/** One OSS API operation. Failures are thrown as `OssError`. */
export type Action = (req: OssRequest, ctx: ActionContext) => Promise<OssResponse>;
