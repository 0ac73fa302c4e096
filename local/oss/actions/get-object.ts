import { OssError } from '../errors.ts';
import { headerValue } from '../wire.ts';
import { notModified, objectHeaders } from './object-headers.ts';
import type { Action, OssResponse } from './types.ts';

/**
 * The byte range a `Range` header asks for, or undefined to send the whole object.
 *
 * Only one `bytes=` range is honoured. A header that is not a single well-formed range is ignored
 * (200 with the whole object), as HTTP and OSS do. A well-formed range that starts at or beyond the
 * end of the object, or a zero-length suffix, is unsatisfiable: 416 InvalidRange. An end beyond the
 * object is clamped.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable(header, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Number.POSITIVE_INFINITY : Number(m[2]);
  if (end < start) return undefined;
  if (start >= size) throw unsatisfiable(header, size);
  return { start, end: Math.min(end, size - 1) };
}

function unsatisfiable(header: string, size: number): OssError {
  return new OssError('InvalidRange', undefined, {
    details: { RangeRequested: header, ActualObjectSize: String(size) },
    headers: { 'Content-Range': `bytes */${size}` },
  });
}

/** Ranges up to this size are read into memory and sent in one write. */
const READ_AT_ONCE_BYTES = 256 * 1024;

/** GetObject: the stored bytes (or one range of them) with the stored Content-Type, ETag and metadata. */
export const getObject: Action = async (req, ctx): Promise<OssResponse> => {
  const opened = await ctx.store.openObject(req.bucket, req.key);
  if (!opened) throw new OssError('NoSuchKey', undefined, { details: { Key: req.key } });
  const { record } = opened;
  const headers: Record<string, string | number> = objectHeaders(record, req.query);
  if (notModified(record, req.headers)) {
    return { status: 304, headers: { ETag: headers.ETag!, 'Last-Modified': headers['Last-Modified']! } };
  }
  const range = parseRange(headerValue(req.headers, 'range'), record.size);
  if (record.size === 0) return { status: 200, headers: { ...headers, 'Content-Length': 0 }, body: '' };
  const { start, end } = range ?? { start: 0, end: record.size - 1 };
  headers['Content-Length'] = end - start + 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${record.size}`;
  // Most objects here are small: one read beats setting up a stream and its buffers.
  const body = end - start < READ_AT_ONCE_BYTES ? await opened.bytes(start, end) : opened.stream(start, end);
  return { status: range ? 206 : 200, headers, body };
};
