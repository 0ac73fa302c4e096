/**
 * The ObjectStore port on `ali-oss`. Pointed at the local cloud with an IP endpoint
 * (`http://127.0.0.1:PORT`): ali-oss then keeps the bucket in the Host header (docs/platform-facts.md §9.2).
 */
import { isIP } from 'node:net';
import OSS from 'ali-oss';
import type { Credentials } from '../runtime/context.ts';
import { StoreError, type ChangedObject, type ObjectStore, type PutOptions, type StoredObjectInfo } from './port.ts';

export interface AliOssStoreOptions {
  bucket: string;
  /** `oss-cn-hangzhou` form. */
  region: string;
  credentials: Credentials;
  /**
   * With its scheme, e.g. `https://oss-cn-hangzhou-internal.aliyuncs.com`, or `http://127.0.0.1:PORT`
   * for the local cloud; the region's public endpoint over HTTPS when omitted.
   */
  endpoint?: string | undefined;
  /**
   * The endpoint links given to people are signed for, when `endpoint` is one they cannot reach
   * (the internal endpoint resolves only inside the region's network). Default: `endpoint`.
   */
  publicEndpoint?: string | undefined;
  /** V4 signatures; V1 is ali-oss's default. */
  authorizationV4?: boolean;
  timeoutMs?: number;
}

/** A second client, path-style on `localhost`, used only to sign URLs when the endpoint is an IP. */
function ipSigner(options: AliOssStoreOptions): { client: OSS; ipHost: string } | undefined {
  if (!options.endpoint) return undefined;
  const url = new URL(options.endpoint);
  if (!isIP(url.hostname)) return undefined;
  const ipHost = url.host;
  url.hostname = 'localhost';
  const client = new OSS({
    bucket: options.bucket,
    region: options.region,
    accessKeyId: options.credentials.accessKeyId,
    accessKeySecret: options.credentials.accessKeySecret,
    ...(options.credentials.securityToken ? { stsToken: options.credentials.securityToken } : {}),
    endpoint: url.origin,
    sldEnable: true,
  } as OSS.Options);
  return { client, ipHost };
}

function clientFor(options: AliOssStoreOptions, endpoint: string | undefined): OSS {
  return new OSS({
    bucket: options.bucket,
    region: options.region,
    accessKeyId: options.credentials.accessKeyId,
    accessKeySecret: options.credentials.accessKeySecret,
    ...(options.credentials.securityToken ? { stsToken: options.credentials.securityToken } : {}),
    ...(endpoint ? { endpoint } : {}),
    // HTTPS unless the endpoint's own scheme says otherwise (ali-oss's default is plain HTTP).
    secure: true,
    ...(options.authorizationV4 ? { authorizationV4: true } : {}),
    timeout: options.timeoutMs ?? 30_000,
    // Once more, 500 ms later (ali-oss's fixed delay), after a connection reset and nothing else: a
    // function instance's idle connections are old after a freeze, and a server that closed one as
    // it was reused resets the call. ali-oss reports it as status -1 (a network error), code
    // ResponseError, "socket hang up". Timeouts are not retried: the call may have been served.
    retryMax: 1,
    requestErrorRetryHandle: isConnectionReset,
  } as OSS.Options);
}

function isConnectionReset(e: unknown): boolean {
  const { status, message } = e as { status?: number; message?: string };
  return status === -1 && /socket hang up|ECONNRESET/.test(message ?? '');
}

function codeOf(e: unknown): string {
  return (e as { code?: string }).code ?? (e as { name?: string }).name ?? 'Unknown';
}

export class AliOssStore implements ObjectStore {
  readonly bucket: string;
  private readonly client: OSS;
  private readonly signer: { client: OSS; ipHost: string } | undefined;
  private readonly options: AliOssStoreOptions;
  /** Signs links for the public endpoint when the store itself talks to another (the internal one); made on the first link. */
  private publicClient: OSS | undefined;

  constructor(options: AliOssStoreOptions) {
    this.bucket = options.bucket;
    this.options = options;
    this.signer = ipSigner({ ...options, endpoint: options.publicEndpoint ?? options.endpoint });
    this.client = clientFor(options, options.endpoint);
  }

  async put(key: string, body: Buffer | string, options: PutOptions = {}): Promise<'written' | 'exists'> {
    try {
      // A string given to put() is read as a file path (docs/platform-facts.md §9.2), so it always goes as a Buffer.
      await this.client.put(key, typeof body === 'string' ? Buffer.from(body) : body, {
        mime: options.contentType ?? 'application/octet-stream',
        headers: options.forbidOverwrite ? { 'x-oss-forbid-overwrite': 'true' } : {},
      });
      return 'written';
    } catch (e) {
      if (codeOf(e) === 'FileAlreadyExists') return 'exists';
      throw new StoreError(`put ${this.bucket}/${key} failed: ${(e as Error).message}`, codeOf(e), { cause: e });
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const res = await this.client.get(key);
      return Buffer.isBuffer(res.content) ? res.content : Buffer.from(res.content as string);
    } catch (e) {
      if (codeOf(e) === 'NoSuchKey') return undefined;
      throw new StoreError(`get ${this.bucket}/${key} failed: ${(e as Error).message}`, codeOf(e), { cause: e });
    }
  }

  async getIfChanged(key: string, etag: string | undefined): Promise<ChangedObject | undefined> {
    try {
      // OSS answers If-None-Match naming the object's ETag with 304 Not Modified (Alibaba Cloud, OSS
      // 'Conditional download'), which ali-oss counts among get()'s successes (lib/common/object/get.js).
      const res = await this.client.get(key, { headers: etag ? { 'If-None-Match': etag } : {} });
      if (res.res.status === 304) return 'unchanged';
      const tag = (res.res.headers as Record<string, string | undefined>).etag;
      return { body: Buffer.isBuffer(res.content) ? res.content : Buffer.from(res.content as string), etag: tag || undefined };
    } catch (e) {
      if (codeOf(e) === 'NoSuchKey') return undefined;
      throw new StoreError(`get ${this.bucket}/${key} failed: ${(e as Error).message}`, codeOf(e), { cause: e });
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    let token: string | undefined;
    do {
      let res: OSS.ListV2ObjectResult;
      try {
        res = await this.client.listV2({ prefix, 'max-keys': '1000', ...(token ? { 'continuation-token': token } : {}) } as OSS.ListV2ObjectsQuery, {});
      } catch (e) {
        throw new StoreError(`list ${this.bucket}/${prefix} failed: ${(e as Error).message}`, codeOf(e), { cause: e });
      }
      for (const o of res.objects ?? []) yield { key: o.name, size: Number(o.size), lastModified: o.lastModified };
      token = res.isTruncated ? res.nextContinuationToken : undefined;
    } while (token);
  }

  async *folders(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      let res: OSS.ListV2ObjectResult;
      try {
        res = await this.client.listV2({ prefix, delimiter: '/', 'max-keys': '1000', ...(token ? { 'continuation-token': token } : {}) } as OSS.ListV2ObjectsQuery, {});
      } catch (e) {
        throw new StoreError(`list ${this.bucket}/${prefix} failed: ${(e as Error).message}`, codeOf(e), { cause: e });
      }
      for (const p of res.prefixes ?? []) yield p;
      token = res.isTruncated ? res.nextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.delete(key);
    } catch (e) {
      throw new StoreError(`delete ${this.bucket}/${key} failed: ${(e as Error).message}`, codeOf(e), { cause: e });
    }
  }

  signedUrl(key: string, expiresSeconds: number): string {
    if (!this.signer) {
      const { endpoint, publicEndpoint } = this.options;
      this.publicClient ??= publicEndpoint && publicEndpoint !== endpoint ? clientFor(this.options, publicEndpoint) : this.client;
      return this.publicClient.signatureUrl(key, { expires: expiresSeconds });
    }
    // ali-oss refuses to sign for an IP endpoint; a path-style URL signed for a name works from the IP too.
    const url = new URL(this.signer.client.signatureUrl(key, { expires: expiresSeconds }));
    url.host = this.signer.ipHost;
    return url.toString();
  }
}
