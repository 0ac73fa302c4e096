/**
 * Response headers of GetObject and HeadObject, and the conditional-request checks they share.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { OssError } from '../errors.ts';
import type { ObjectRecord } from '../store.ts';
import { headerValue, httpDate, type Query } from '../wire.ts';

/** Standard headers a PutObject stores and a GetObject returns (Content-Type is kept separately). */
export const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const;

/** `response-*` query parameters and the header each one overrides on GetObject (e.g. for signed download links). */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

/** Headers describing a stored object, as GET and HEAD return them (without Content-Length). */
export function objectHeaders(record: ObjectRecord, query?: Query): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': record.contentType,
    ETag: `"${record.etag}"`,
    'Last-Modified': httpDate(record.lastModified),
    'Accept-Ranges': 'bytes',
    'Content-MD5': record.contentMd5,
    'x-oss-hash-crc64ecma': record.crc64,
    'x-oss-object-type': 'Normal',
    'x-oss-storage-class': 'Standard',
  };
  for (const [name, value] of Object.entries(record.headers)) headers[name] = value;
  for (const [name, value] of Object.entries(record.meta)) headers[`x-oss-meta-${name}`] = value;
  if (query) {
    for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
      const v = query.get(param);
      // HTTP header values are ISO-8859-1; a UTF-8 file name belongs in RFC 5987 `filename*=UTF-8''…`.
      if (v && /[^\t\x20-\x7e\x80-\xff]/.test(v)) {
        throw new OssError('InvalidArgument', `${param} must be ISO-8859-1 text without control characters (percent-encode a UTF-8 file name as filename*=UTF-8''…).`, {
          details: { ArgumentName: param },
        });
      }
      if (v) {
        delete headers[header.toLowerCase()];
        headers[header] = v;
      }
    }
  }
  return headers;
}

/**
 * Applies If-Match / If-Unmodified-Since (412 PreconditionFailed) and If-None-Match /
 * If-Modified-Since (answer 304). Returns true when the answer is 304 Not Modified.
 */
export function notModified(record: ObjectRecord, headers: IncomingHttpHeaders): boolean {
  const etag = record.etag;
  const ifMatch = headerValue(headers, 'if-match');
  if (ifMatch !== undefined && !etagListMatches(ifMatch, etag)) {
    throw new OssError('PreconditionFailed', undefined, { details: { Condition: 'If-Match' } });
  }
  const ifUnmodified = Date.parse(headerValue(headers, 'if-unmodified-since') ?? '');
  if (ifMatch === undefined && !Number.isNaN(ifUnmodified) && record.lastModified > ifUnmodified) {
    throw new OssError('PreconditionFailed', undefined, { details: { Condition: 'If-Unmodified-Since' } });
  }
  const ifNoneMatch = headerValue(headers, 'if-none-match');
  if (ifNoneMatch !== undefined) return etagListMatches(ifNoneMatch, etag);
  const ifModified = Date.parse(headerValue(headers, 'if-modified-since') ?? '');
  return !Number.isNaN(ifModified) && record.lastModified <= ifModified;
}

function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((raw) => {
    const t = raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return t === '*' || t.toUpperCase() === etag;
  });
}
