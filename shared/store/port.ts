/** The ObjectStore port: what fleetrun asks of OSS. */
export interface StoredObjectInfo {
  key: string;
  size: number;
  lastModified: string;
}

export interface PutOptions {
  contentType?: string;
  /** Refuse to replace an existing object (`x-oss-forbid-overwrite`): the first write of a key wins. */
  forbidOverwrite?: boolean;
}

/** An object read again only if it changed: its bytes and ETag, or 'unchanged' (304 Not Modified). */
export type ChangedObject = { body: Buffer; etag: string | undefined } | 'unchanged';

export interface ObjectStore {
  readonly bucket: string;
  /** 'exists' when forbidOverwrite found the key taken. */
  put(key: string, body: Buffer | string, options?: PutOptions): Promise<'written' | 'exists'>;
  /** undefined when there is no such object. */
  get(key: string): Promise<Buffer | undefined>;
  /**
   * The object unless its ETag is still `etag` (a GET with If-None-Match, which OSS answers 304
   * without a body): 'unchanged' then; undefined when there is no such object. Lets a warm instance
   * keep what it parsed from an object that is read often and rarely rewritten (a run's manifest).
   */
  getIfChanged(key: string, etag: string | undefined): Promise<ChangedObject | undefined>;
  /** Every object under the prefix, in key order, over as many pages as it takes. */
  list(prefix: string): AsyncIterable<StoredObjectInfo>;
  /**
   * The folders right under `prefix`, in key order: each key's part up to the next `/` after the
   * prefix, slash included (ListObjectsV2 with a `/` delimiter, its CommonPrefixes). Objects
   * directly under the prefix are not listed. Lets a reader of a time-ordered tree find its newest
   * branch without listing every object in it.
   */
  folders(prefix: string): AsyncIterable<string>;
  delete(key: string): Promise<void>;
  /** A URL that reads the object without credentials until it expires. */
  signedUrl(key: string, expiresSeconds: number): string;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
