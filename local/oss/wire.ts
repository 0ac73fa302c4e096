/**
 * Small wire-level helpers shared by the router, the signature check and the actions.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { OssError } from './errors.ts';

/**
 * Decoded query parameters in arrival order. A parameter written without `=` (`?acl`) has the value
 * `null`; `?acl=` has `''`. Both are kept apart because V4 signs them differently.
 */
export type Query = ReadonlyMap<string, string | null>;

/**
 * Splits a raw query string and decodes it with `decodeURIComponent`, so a literal `+` stays `+`:
 * ali-oss escapes `+` as `%2B`, and a presigned V1 `Signature` is base64 that may contain `+`.
 * A repeated parameter keeps its last value.
 */
export function parseQuery(rawQuery: string): Query {
  const out = new Map<string, string | null>();
  if (rawQuery === '') return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    out.set(key, eq < 0 ? null : decodeComponent(part.slice(eq + 1)));
  }
  return out;
}

/** `decodeURIComponent` that answers a malformed escape with `InvalidURI` instead of throwing `URIError`. */
export function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new OssError('InvalidURI', `Couldn't parse the specified URI: "${raw.slice(0, 200)}" is not valid percent-encoding.`);
  }
}

/** The first value of a header, or undefined. Node lower-cases header names. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** RFC 1123 date as in `Date`, `Last-Modified` and the V1 string to sign: `Mon, 23 Nov 2026 00:34:25 GMT`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** ISO 8601 with milliseconds, as in listing `LastModified`: `2026-11-23T00:34:25.000Z`. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Orders strings by their UTF-8 bytes, which is how OSS sorts keys. Plain `<` compares UTF-16 code
 * units, which puts astral characters (surrogate pairs) before U+E000–U+FFFF; UTF-8 puts them after.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // Only a surrogate against a unit at or above U+E000 disagrees between the two orders.
    if (xs !== ys && (xs ? y >= 0xe000 : x >= 0xe000)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Number of UTF-8 bytes of a string. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
