import { renderXml } from '../xml.ts';
import { contentsXml, keyLikeParam, listPage, parseEncoding, parseMaxKeys } from './listing.ts';
import type { Action } from './types.ts';

/**
 * ListObjects v1 (`GET /` without `list-type=2`). Every entry carries `Owner`, because ali-oss
 * `list()` reads `Owner.ID` without checking it exists (docs/platform-facts.md §9.5).
 */
export const listObjects: Action = async (req, ctx) => {
  const q = req.query;
  const prefix = keyLikeParam(q, 'prefix');
  const delimiter = q.get('delimiter') ?? '';
  const marker = keyLikeParam(q, 'marker');
  const maxKeys = parseMaxKeys(q);
  const encode = parseEncoding(q);
  const page = listPage(ctx.store, req.bucket, { prefix, delimiter, after: marker, maxKeys });
  const body = renderXml('ListBucketResult', {
    Name: req.bucket,
    Prefix: encode(prefix),
    Marker: encode(marker),
    MaxKeys: maxKeys,
    Delimiter: encode(delimiter),
    EncodingType: encode.type,
    IsTruncated: page.truncated ? 'true' : 'false',
    NextMarker: page.truncated && page.last !== undefined ? encode(page.last) : undefined,
    Contents: page.contents.map((r) => contentsXml(r, encode, ctx.owner)),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) })),
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};
