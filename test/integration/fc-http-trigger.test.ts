/**
 * The local FC host's HTTP triggers: real HTTP requests to each function's own port, the FC 3.0
 * HTTP trigger event the function really receives, and fc3HttpHandler behind it end to end.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FcHost } from '../../local/fc/host.ts';
import { ACCOUNT_ID, startFixtureHost } from './fc-host-fixture.ts';

/** A port free right now, to check the `http.ports` option takes it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

interface Echo {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  bodyBase64: string;
  sourceIp: string;
  requestId: string;
  functionName: string;
  greeting: string;
}

describe('Local FC host: HTTP triggers', () => {
  let host: FcHost;
  let logs: string[];
  let echo: string;
  let raw: string;
  let rawPort: number;

  beforeAll(async () => {
    rawPort = await freePort();
    ({ host, logs } = await startFixtureHost({ http: { ports: { 'raw-event': rawPort } } }));
    echo = host.httpEndpoints.get('echo-http')!;
    raw = host.httpEndpoints.get('raw-event')!;
  });
  afterAll(async () => host?.close());

  it('serves each HTTP-triggered function on its own loopback port, at the port asked for when given', () => {
    expect([...host.httpEndpoints.keys()].sort()).toEqual(['echo-http', 'raw-event']);
    expect(echo).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(raw).toBe(`http://127.0.0.1:${rawPort}`);
    expect(host.skipped.some((s) => s.includes('(http)'))).toBe(false);
  });

  it('builds the exact FC 3.0 HTTP trigger event: encoded rawPath, decoded path, comma-joined headers and query, requestContext', async () => {
    const before = Date.now();
    const res = await fetch(`${raw}/runs/a%20b/%E4%BD%A0?tag=env%3Aprod&tag=role%3Aweb&dry=1`, { headers: { 'X-Custom': 'v1', 'user-agent': 'fleetrun-test/1.0' } });
    expect(res.status).toBe(200);
    const event = (await res.json()) as { headers: Record<string, string>; requestContext: { requestId: string; time: string; timeEpoch: unknown } };
    expect(event).toMatchObject({
      version: 'v1',
      rawPath: '/runs/a%20b/%E4%BD%A0',
      body: '',
      isBase64Encoded: false,
      queryParameters: { tag: 'env:prod,role:web', dry: '1' },
    });
    expect(event.headers).toMatchObject({ 'X-Custom': 'v1', 'User-Agent': 'fleetrun-test/1.0', Host: `127.0.0.1:${rawPort}` });
    expect(event.requestContext).toMatchObject({ accountId: ACCOUNT_ID, domainName: `127.0.0.1:${rawPort}`, http: { method: 'GET', path: '/runs/a b/你', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'fleetrun-test/1.0' } });
    const ctx = event.requestContext;
    expect(ctx.requestId).toBe(res.headers.get('x-fc-request-id'));
    expect(ctx.requestId).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{12}$/);
    expect(typeof ctx.timeEpoch).toBe('string');
    expect(Number(ctx.timeEpoch)).toBeGreaterThanOrEqual(before);
    expect(ctx.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('passes a text body as text and a binary body as base64 with isBase64Encoded; no methods configured lets PUT through', async () => {
    const text = (await (await fetch(raw, { method: 'PUT', body: 'héllo' })).json()) as { body: string; isBase64Encoded: boolean; queryParameters?: unknown };
    expect(text).toMatchObject({ body: 'héllo', isBase64Encoded: false });
    expect(text.queryParameters).toBeUndefined();
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const binary = (await (await fetch(raw, { method: 'POST', body: bytes })).json()) as { body: string; isBase64Encoded: boolean };
    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body, 'base64').equals(bytes)).toBe(true);
  });

  it('GET through fc3HttpHandler: the handler sees path, query, lower-case headers, source IP, and its s.yaml environment', async () => {
    const res = await fetch(`${echo}/hello%20world?a=1&a=2`, { headers: { 'X-Fleet': 'prod' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Echo;
    expect(body).toMatchObject({ method: 'GET', path: '/hello world', query: { a: '1,2' }, sourceIp: '127.0.0.1', functionName: 'echo-http', greeting: 'hello from s.yaml' });
    expect(body.headers['x-fleet']).toBe('prod');
    expect(body.requestId).toBe(res.headers.get('x-fc-request-id'));
  });

  it('POST with a binary body: the handler gets the same bytes; its status is answered', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xc3, 0x28, 0xff]);
    const res = await fetch(`${echo}/upload`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(201);
    expect(Buffer.from(((await res.json()) as Echo).bodyBase64, 'base64').equals(bytes)).toBe(true);
  });

  it('answers a binary response (isBase64Encoded) as the raw bytes', async () => {
    const res = await fetch(`${echo}/binary`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from([0, 1, 2, 0xfe, 0xff]))).toBe(true);
  });

  it('answers 405 for a method the trigger does not list, without invoking the function', async () => {
    const before = host.functions.get('echo-http')!.stats.invocations;
    const res = await fetch(`${echo}/x`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
    expect(host.functions.get('echo-http')!.stats.invocations).toBe(before);
  });

  it('answers an exposed HttpError with its status and message, and hides any other error behind a 500 while logging it', async () => {
    const teapot = await fetch(`${echo}/teapot`);
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toEqual({ error: 'no coffee here' });
    const boom = await fetch(`${echo}/boom`);
    expect(boom.status).toBe(500);
    const text = await boom.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal error' });
    expect(text).not.toContain('hunter2');
    // The function's log line (its stdout, through the host) has the real error.
    await expect.poll(() => logs.some((l) => l.startsWith('[fc:echo-http]') && l.includes('db password hunter2 rejected'))).toBe(true);
  });

  it('answers 413 for a body over the adapter limit, the handler never seeing it', async () => {
    const res = await fetch(`${echo}/upload`, { method: 'POST', body: Buffer.alloc(1024 * 1024 + 1, 0x61) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/1048576/);
  });

  it('answers 502 with x-fc-error-type when the function fails (its process dies), and serves the next request from a fresh instance', async () => {
    const res = await fetch(`${echo}/crash`);
    expect(res.status).toBe(502);
    expect(res.headers.get('x-fc-error-type')).toBe('UnhandledInvocationError');
    expect(((await res.json()) as { errorType: string }).errorType).toBe('FunctionCrashed');
    expect((await fetch(`${echo}/after-crash`)).status).toBe(200);
  });

  it('answers 504 when the function runs over its timeout', async () => {
    const res = await fetch(`${echo}/slow`);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { errorType: string }).errorType).toBe('FunctionTimeout');
  });

  it('logs one line per request: function, method, path, status, request id', () => {
    const lines = logs.filter((l) => l.startsWith('[fc:http] echo-http PUT /x '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ 405 \d+ms 1-[0-9a-f]{8}-/);
  });
});
