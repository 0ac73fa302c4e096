import { OssError } from '../errors.ts';
import { isoDate } from '../wire.ts';
import { renderXml } from '../xml.ts';
import type { Action } from './types.ts';

const DEFAULT_MAX_KEYS = 100;
const MAX_MAX_KEYS = 1000;

/**
 * ListBuckets (GetService, `GET /` on the service): the caller's buckets in every region, in name
 * order, `prefix`/`marker`/`max-keys` (1–1000, default 100) as on the OSS ListBuckets page. The
 * paging elements are written only when the answer is cut short, as OSS does.
 */
export const listBuckets: Action = async (req, ctx) => {
  const prefix = req.query.get('prefix') ?? '';
  const marker = req.query.get('marker') ?? '';
  const maxKeys = parseMaxKeys(req.query.get('max-keys'));
  const mine = ctx.store
    .bucketNames()
    .map((name) => ctx.store.bucketInfo(name)!)
    .filter((b) => b.ownerAccountId === ctx.caller.accountId && b.name.startsWith(prefix) && b.name > marker);
  const page = mine.slice(0, maxKeys);
  const truncated = mine.length > page.length;
  const body = renderXml('ListAllMyBucketsResult', {
    Prefix: truncated ? prefix : undefined,
    Marker: truncated ? marker : undefined,
    MaxKeys: truncated ? maxKeys : undefined,
    IsTruncated: truncated ? 'true' : undefined,
    NextMarker: truncated ? page.at(-1)!.name : undefined,
    Owner: { ID: ctx.caller.accountId, DisplayName: ctx.caller.accountId },
    Buckets: {
      Bucket: page.map((b) => ({
        CreationDate: isoDate(b.creationDate),
        ExtranetEndpoint: `${b.region}.aliyuncs.com`,
        IntranetEndpoint: `${b.region}-internal.aliyuncs.com`,
        Location: b.region,
        Name: b.name,
        Region: b.region.replace(/^oss-/, ''),
        StorageClass: b.storageClass,
      })),
    },
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};

function parseMaxKeys(raw: string | null | undefined): number {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_MAX_KEYS;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_MAX_KEYS) {
    throw new OssError('InvalidArgument', `max-keys must be an integer from 1 to ${MAX_MAX_KEYS}.`, { details: { ArgumentName: 'max-keys', ArgumentValue: raw } });
  }
  return Number(raw);
}
