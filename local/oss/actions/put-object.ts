import { OssError } from '../errors.ts';
import { headerValue } from '../wire.ts';
import { STORED_HEADERS } from './object-headers.ts';
import type { Action } from './types.ts';

const BASE64_MD5_RE = /^[A-Za-z0-9+/]{22}==$/;

/**
 * PutObject: streams the body to disk and answers 200 (ali-oss accepts nothing else) with the ETag,
 * Content-MD5 and CRC-64 of what arrived.
 */
export const putObject: Action = async (req, ctx) => {
  const { headers } = req;
  if (headerValue(headers, 'x-oss-copy-source') !== undefined) {
    throw new OssError('NotImplemented', 'CopyObject (x-oss-copy-source) is not emulated by the local OSS.');
  }
  // Refuse a declared oversize body before reading any of it; Node drains what the client still sends.
  const declared = Number(headerValue(headers, 'content-length') ?? NaN);
  if (declared > ctx.maxObjectBytes) {
    throw new OssError('EntityTooLarge', `Your proposed upload of ${declared} bytes exceeds the maximum allowed object size of ${ctx.maxObjectBytes} bytes.`, {
      details: { MaxSizeAllowed: String(ctx.maxObjectBytes), ProposedSize: String(declared) },
    });
  }
  const contentMd5 = headerValue(headers, 'content-md5');
  if (contentMd5 !== undefined && !BASE64_MD5_RE.test(contentMd5)) {
    throw new OssError('InvalidDigest', 'Content-MD5 must be the base64 of a 16-byte MD5 digest.', { details: { ContentMD5Provided: contentMd5 } });
  }
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-oss-meta-') && value !== undefined) meta[name.slice('x-oss-meta-'.length)] = String(value);
  }
  const stored: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const v = headerValue(headers, name);
    if (v !== undefined) stored[name] = v;
  }
  const record = await ctx.store.put(req.bucket, req.key, req.body, {
    contentType: headerValue(headers, 'content-type') || 'application/octet-stream',
    meta,
    headers: stored,
    forbidOverwrite: (headerValue(headers, 'x-oss-forbid-overwrite') ?? '').toLowerCase() === 'true',
    maxBytes: ctx.maxObjectBytes,
    ...(contentMd5 !== undefined ? { contentMd5 } : {}),
  });
  return {
    status: 200,
    headers: { ETag: `"${record.etag}"`, 'Content-MD5': record.contentMd5, 'x-oss-hash-crc64ecma': record.crc64, 'Content-Length': 0 },
  };
};
