import { OssError } from '../errors.ts';
import { renderXml } from '../xml.ts';
import { contentsXml, keyLikeParam, listPage, parseEncoding, parseMaxKeys } from './listing.ts';
import type { Action } from './types.ts';

const TOKEN_TAG = 'v1:';

/**
 * Continuation tokens are opaque to clients: base64url of the last entry returned. base64url keeps
 * them free of characters that need escaping in a URL or in the V1 canonical resource.
 */
function encodeToken(last: string): string {
  return Buffer.from(TOKEN_TAG + last, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9_-]+$/.test(token) || !text.startsWith(TOKEN_TAG) || encodeToken(text.slice(TOKEN_TAG.length)) !== token) {
    throw new OssError('InvalidArgument', 'The continuation-token is not valid.', { details: { ArgumentName: 'continuation-token', ArgumentValue: token } });
  }
  return text.slice(TOKEN_TAG.length);
}

/** ListObjectsV2 (`GET /?list-type=2`), with the element names ali-oss `listV2` reads. */
export const listObjectsV2: Action = async (req, ctx) => {
  const q = req.query;
  const prefix = keyLikeParam(q, 'prefix');
  const delimiter = q.get('delimiter') ?? '';
  const startAfter = keyLikeParam(q, 'start-after');
  const token = q.get('continuation-token') || undefined;
  const maxKeys = parseMaxKeys(q);
  const encode = parseEncoding(q);
  const fetchOwner = q.get('fetch-owner') === 'true';
  // As in S3, a continuation token supersedes start-after: it already lies beyond it.
  const after = token !== undefined ? decodeToken(token) : startAfter;
  const page = listPage(ctx.store, req.bucket, { prefix, delimiter, after, maxKeys });
  const body = renderXml('ListBucketResult', {
    Name: req.bucket,
    Prefix: encode(prefix),
    ContinuationToken: token,
    StartAfter: startAfter !== '' ? encode(startAfter) : undefined,
    MaxKeys: maxKeys,
    Delimiter: encode(delimiter),
    EncodingType: encode.type,
    IsTruncated: page.truncated ? 'true' : 'false',
    NextContinuationToken: page.truncated && page.last !== undefined ? encodeToken(page.last) : undefined,
    KeyCount: page.contents.length + page.prefixes.length,
    Contents: page.contents.map((r) => contentsXml(r, encode, fetchOwner ? ctx.owner : undefined)),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: encode(p) })),
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};
