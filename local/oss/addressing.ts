/**
 * Which bucket and key a request addresses.
 *
 * ali-oss pointed at an IP endpoint connects to the IP but sends `Host: <bucket>.oss-<region>.aliyuncs.com`
 * and the path `/<key>` (virtual-hosted style). With `sldEnable: true` it sends `/<bucket>/<key>` with
 * the SAME rewritten Host (docs/platform-facts.md §9.2). On the wire `GET /b/k` with `Host: b.oss-…` is therefore
 * ambiguous: key `k` (path style) or key `b/k` (virtual-hosted).
 *
 * How the two are told apart:
 * 1. A Host that does not name a bucket (an IP, `localhost`, a bare `oss-<region>.aliyuncs.com`, any
 *    other name) means path style: the first path segment is the bucket.
 * 2. A Host that names a bucket (`<bucket>.oss-<region>.aliyuncs.com`, or `<bucket>.localhost`) means
 *    virtual-hosted style, unless the path starts with that same bucket; then BOTH readings are
 *    candidates and the signature decides. Both signatures cover the canonical resource
 *    `/<bucket>/<key>`, which differs between the readings (`/b/k` vs `/b/b/k`), so exactly one of
 *    them can verify. Every request is signed (there is no anonymous access), so this never guesses.
 */
import { OssError } from './errors.ts';
import { decodeComponent } from './wire.ts';

/** One reading of the request target. `bucket` is `''` for a service-level request (`GET /` on a bare host). */
export interface AddressCandidate {
  bucket: string;
  /** Decoded object key; `''` addresses the bucket itself. */
  key: string;
  style: 'virtual-hosted' | 'path';
}

/** What the Host header says, besides the bucket. */
export interface HostInfo {
  /** The Host header without port, lower-cased. */
  host: string;
  /** Bucket named by the Host, if any. */
  bucket?: string;
  /** Region label of an OSS host, e.g. `oss-cn-hangzhou` or `oss-cn-hangzhou-internal`. */
  endpointRegion?: string;
}

const OSS_HOST_RE = /^([^.]+)\.(oss-[a-z0-9-]+)\.aliyuncs\.com$/;
const LOCALHOST_BUCKET_RE = /^([^.]+)\.localhost$/;
const BUCKET_NAME_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** True when the name follows the OSS bucket naming rules (3–63 of a-z, 0-9, '-'; no leading/trailing '-'). */
export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME_RE.test(name);
}

/** Parses the Host header (`[::1]:8080`, `127.0.0.1:80`, `b.oss-cn-hangzhou.aliyuncs.com`). */
export function parseHost(hostHeader: string | undefined): HostInfo {
  const raw = (hostHeader ?? '').trim().toLowerCase();
  const host = raw.startsWith('[') ? raw.slice(0, raw.indexOf(']') + 1) : raw.replace(/:\d*$/, '');
  const oss = OSS_HOST_RE.exec(host);
  if (oss) return { host, bucket: oss[1]!, endpointRegion: oss[2]! };
  const local = LOCALHOST_BUCKET_RE.exec(host);
  if (local) return { host, bucket: local[1]! };
  return { host };
}

/**
 * The readings of a request target, most likely first (see the module comment).
 * @param rawPath the path exactly as received, before `?`, still percent-encoded
 */
export function addressCandidates(host: HostInfo, rawPath: string): AddressCandidate[] {
  if (!rawPath.startsWith('/')) throw new OssError('InvalidURI', `The request target "${rawPath.slice(0, 200)}" is not an absolute path.`);
  const rest = rawPath.slice(1);
  const slash = rest.indexOf('/');
  const firstSegment = decodeComponent(slash < 0 ? rest : rest.slice(0, slash));
  const pathStyle: AddressCandidate = {
    bucket: firstSegment,
    key: slash < 0 ? '' : decodeComponent(rest.slice(slash + 1)),
    style: 'path',
  };
  if (host.bucket === undefined) return [pathStyle];
  const virtual: AddressCandidate = { bucket: host.bucket, key: decodeComponent(rest), style: 'virtual-hosted' };
  return firstSegment === host.bucket ? [virtual, pathStyle] : [virtual];
}
