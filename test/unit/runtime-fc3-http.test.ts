/** fc3HttpHandler: FC 3.0 HTTP trigger events (reference §5.3) in, FC's response struct out. */
import { describe, expect, it } from 'vitest';
import { fc3HttpHandler, toFc3HttpResult } from '../../shared/runtime/fc3-http.ts';
import { HttpError, type HttpHandler } from '../../shared/runtime/http.ts';
import { ADAPTER_FALLBACK, recordingAdapter } from '../support/http-adapter-recording.ts';

/** The §5.3 sample event, field for field; overrides replace top-level fields. */
function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 'v1',
    rawPath: '/example',
    body: 'Hello FC!',
    isBase64Encoded: false,
    headers: { header1: 'value1', header2: 'value1,value2' },
    queryParameters: { parameter1: 'value1', parameter2: 'value1,value2' },
    requestContext: {
      accountId: '123456*********',
      domainName: '<http-trigger-id>.<region-id>.fcapp.run',
      domainPrefix: '<http-trigger-id>',
      http: { method: 'GET', path: '/example', protocol: 'HTTP/1.1', sourceIp: '11.11.11.1', userAgent: 'PostmanRuntime/7.32.3' },
      requestId: '1-64f6cd87-12345678-123456789012',
      time: '2023-09-05T06:41:11Z',
      timeEpoch: '1693896071895',
    },
    ...overrides,
  };
}

const FC_CONTEXT = {
  requestId: '1-64f6cd87-12345678-123456789012',
  credentials: { accessKeyId: 'STS.AK', accessKeySecret: 'role-secret-value', securityToken: 'token-value' },
  function: { name: 'fleetrun-chat', handler: 'index.handler', memory: 512, timeout: 60 },
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
};

function asBuffer(event: unknown): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/** An adapter around a handler that records what it saw, with the log lines kept. */
const recording = (respond: HttpHandler = async () => ({ statusCode: 204 }), maxBodyBytes?: number) => recordingAdapter(fc3HttpHandler, respond, maxBodyBytes);

describe('Function: fc3HttpHandler', () => {
  it('hands the handler the sample event as an HttpRequest: method, decoded path, lower-case comma-joined headers, query, body, source IP', async () => {
    const { handler, seen } = recording();
    const result = await handler(asBuffer(sampleEvent({ headers: { 'Content-Type': 'text/plain', 'X-Multi': 'a,b' } })), FC_CONTEXT);
    expect(result).toEqual({ statusCode: 204, headers: {}, isBase64Encoded: false, body: '' });
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/example');
    expect(req.headers).toEqual({ 'content-type': 'text/plain', 'x-multi': 'a,b' });
    expect(req.query).toEqual({ parameter1: 'value1', parameter2: 'value1,value2' });
    expect(req.body.toString()).toBe('Hello FC!');
    expect(req.sourceIp).toBe('11.11.11.1');
  });

  it('takes the decoded path from requestContext.http.path, not the URL-encoded rawPath', async () => {
    const { handler, seen } = recording();
    const event = sampleEvent({ rawPath: '/runs/a%20b' });
    (event.requestContext as { http: { path: string } }).http.path = '/runs/a b';
    await handler(asBuffer(event), FC_CONTEXT);
    expect(seen[0]!.path).toBe('/runs/a b');
  });

  it('decodes a base64 body byte for byte (binary, not UTF-8)', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41]);
    const { handler, seen } = recording();
    await handler(asBuffer(sampleEvent({ body: bytes.toString('base64'), isBase64Encoded: true })), FC_CONTEXT);
    expect(seen[0]!.body.equals(bytes)).toBe(true);
  });

  it('accepts an event without headers, query or body', async () => {
    const { handler, seen } = recording();
    const { headers: _h, queryParameters: _q, body: _b, ...bare } = sampleEvent();
    await handler(asBuffer(bare), FC_CONTEXT);
    expect(seen[0]).toMatchObject({ headers: {}, query: {} });
    expect(seen[0]!.body.length).toBe(0);
  });

  it('gives the handler a context from FC’s: request id, function name, credentials, and a logger that redacts the secret', async () => {
    const lines: string[] = [];
    const handler = fc3HttpHandler(
      async (_req, ctx) => {
        ctx.logger.info(`using ${ctx.credentials.accessKeySecret}`);
        return { statusCode: 200, body: `${ctx.requestId} ${ctx.functionName} ${ctx.region} ${ctx.credentials.accessKeyId}` };
      },
      ADAPTER_FALLBACK,
      { logSink: (l) => lines.push(l) },
    );
    const result = await handler(asBuffer(sampleEvent()), FC_CONTEXT);
    expect(result.body).toBe('1-64f6cd87-12345678-123456789012 fleetrun-chat cn-hangzhou STS.AK');
    expect(lines.join('\n')).not.toContain('role-secret-value');
  });

  it('answers 413 without calling the handler when the body is over the limit (default 1 MiB, counted after base64 decoding)', async () => {
    const { handler, seen } = recording();
    const big = Buffer.alloc(1024 * 1024 + 1, 0x61);
    const over = await handler(asBuffer(sampleEvent({ body: big.toString('base64'), isBase64Encoded: true })), FC_CONTEXT);
    expect(over.statusCode).toBe(413);
    expect(JSON.parse(over.body)).toEqual({ error: expect.stringContaining('1048576') });
    expect(seen).toHaveLength(0);
    const exact = await handler(asBuffer(sampleEvent({ body: big.subarray(1).toString('base64'), isBase64Encoded: true })), FC_CONTEXT);
    expect(exact.statusCode).toBe(204);
    expect(seen).toHaveLength(1);
  });

  it('takes the limit as an option', async () => {
    const { handler, seen } = recording(undefined, 8);
    expect((await handler(asBuffer(sampleEvent({ body: '123456789' })), FC_CONTEXT)).statusCode).toBe(413);
    expect((await handler(asBuffer(sampleEvent({ body: '12345678' })), FC_CONTEXT)).statusCode).toBe(204);
    expect(seen).toHaveLength(1);
  });

  it.each([
    ['not JSON', Buffer.from('{"rawPath": ')],
    ['no requestContext', asBuffer({ rawPath: '/x', body: '' })],
    ['no http method', asBuffer(sampleEvent({ requestContext: { http: { path: '/x' } } }))],
    ['a header that is not a string', asBuffer(sampleEvent({ headers: { a: ['x'] } }))],
    ['a base64 body that is not base64', asBuffer(sampleEvent({ body: 'not*base64!', isBase64Encoded: true }))],
  ])('answers 400 without calling the handler for a malformed event: %s', async (_what, event) => {
    const { handler, seen, lines } = recording();
    const result = await handler(event, FC_CONTEXT);
    expect(result.statusCode).toBe(400);
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(result.body)).toEqual({ error: 'malformed HTTP trigger event' });
    expect(seen).toHaveLength(0);
    expect(lines.some((l) => l.includes('request refused'))).toBe(true);
  });

  it('answers an exposed HttpError with its status and message as JSON', async () => {
    const { handler } = recording(async () => {
      throw new HttpError(403, 'not allowed to run on prod');
    });
    const result = await handler(asBuffer(sampleEvent()), FC_CONTEXT);
    expect(result.statusCode).toBe(403);
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(result.body)).toEqual({ error: 'not allowed to run on prod' });
  });

  it('hides any other error behind 500 "internal error" and logs the real one', async () => {
    const { handler, lines } = recording(async () => {
      throw new TypeError('cannot read db.password of undefined');
    });
    const result = await handler(asBuffer(sampleEvent()), FC_CONTEXT);
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ error: 'internal error' });
    expect(result.body).not.toContain('password');
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'error');
    expect(logged).toMatchObject({ message: 'handler failed', error: 'cannot read db.password of undefined', errorName: 'TypeError' });
  });

  it('hides the message of a 5xx HttpError (not exposed by default) but an explicitly exposed one is told', async () => {
    const hidden = await recording(async () => {
      throw new HttpError(503, 'MNS at 10.0.0.7 down');
    }).handler(asBuffer(sampleEvent()), FC_CONTEXT);
    expect(hidden.statusCode).toBe(503);
    expect(JSON.parse(hidden.body)).toEqual({ error: 'internal error' });
    const told = await recording(async () => {
      throw new HttpError(503, 'try again in a minute', true);
    }).handler(asBuffer(sampleEvent()), FC_CONTEXT);
    expect(JSON.parse(told.body)).toEqual({ error: 'try again in a minute' });
  });

  it('answers 500 when the handler returns something that is not an HttpResponse', async () => {
    const { handler, lines } = recording(async () => ({ status: 200 }) as never);
    const result = await handler(asBuffer(sampleEvent()), FC_CONTEXT);
    expect(result.statusCode).toBe(500);
    expect(lines.some((l) => l.includes('no valid HttpResponse'))).toBe(true);
  });

  it('returns a Buffer body base64-encoded with isBase64Encoded, a string body as it is', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff]);
    const binary = await recording(async () => ({ statusCode: 200, headers: { 'content-type': 'image/png' }, body: bytes })).handler(asBuffer(sampleEvent()), FC_CONTEXT);
    expect(binary).toEqual({ statusCode: 200, headers: { 'content-type': 'image/png' }, isBase64Encoded: true, body: bytes.toString('base64') });
    const text = await recording(async () => ({ statusCode: 200, body: 'héllo' })).handler(asBuffer(sampleEvent()), FC_CONTEXT);
    expect(text).toEqual({ statusCode: 200, headers: {}, isBase64Encoded: false, body: 'héllo' });
  });
});

describe('Function: toFc3HttpResult', () => {
  it('always returns the full struct FC expects', () => {
    expect(toFc3HttpResult({ statusCode: 302, headers: { location: '/x' } })).toEqual({ statusCode: 302, headers: { location: '/x' }, isBase64Encoded: false, body: '' });
  });
});
