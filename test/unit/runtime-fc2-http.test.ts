/** fc2HttpHandler: FC 2.0's (req, resp, context) HTTP signature (reference §5.7) around an HttpHandler. */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fc2HttpHandler, type Fc2HttpResponse } from '../../shared/runtime/fc2-http.ts';
import { HttpError, type HttpHandler } from '../../shared/runtime/http.ts';
import { recordingAdapter } from '../support/http-adapter-recording.ts';

const FC_CONTEXT = {
  requestId: 'c5b0a5f1-2a44-4f0f-8d3e-9b4f0c1d2e3f',
  credentials: { accessKeyId: 'STS.AK', accessKeySecret: 'role-secret-value', securityToken: 'token-value' },
  function: { name: 'fleetrun-chat', handler: 'index.handler', memory: 512, timeout: 60 },
  service: { name: 'fleetrun', logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
};

/** A request shaped like FC 2.0's: a readable stream of the body with headers, path, queries, method, clientIP, url. */
function fakeRequest(init: { method?: string; path?: string; headers?: Record<string, string | string[]>; queries?: Record<string, string | string[]>; body?: Buffer[]; clientIP?: string }) {
  const stream = Readable.from(init.body ?? [], { objectMode: false });
  return Object.assign(stream, {
    method: init.method ?? 'GET',
    path: init.path ?? '/',
    url: init.path ?? '/',
    headers: init.headers ?? {},
    queries: init.queries ?? {},
    clientIP: init.clientIP ?? '10.1.2.3',
  });
}

/** A response shaped like FC 2.0's, recording what was written. */
function fakeResponse() {
  const written = { status: 0, headers: {} as Record<string, string>, body: undefined as string | Buffer | undefined, sends: 0 };
  const resp: Fc2HttpResponse & { deleteHeader(name: string): void } = {
    setStatusCode: (code) => void (written.status = code),
    setHeader: (name, value) => void (written.headers[name.toLowerCase()] = value),
    deleteHeader: (name) => void delete written.headers[name.toLowerCase()],
    send: (body) => {
      written.body = body;
      written.sends++;
    },
  };
  return { resp, written };
}

/** The adapter around a handler that records what it saw, with the log lines kept. */
const recording = (respond: HttpHandler = async () => ({ statusCode: 200, body: 'ok' }), maxBodyBytes?: number) => recordingAdapter(fc2HttpHandler, respond, maxBodyBytes);

describe('Function: fc2HttpHandler', () => {
  it('hands the handler method, path, lower-case headers, comma-joined multi-valued queries, the streamed body and clientIP', async () => {
    const { handler, seen } = recording(async (req) => ({ statusCode: 201, headers: { 'Content-Type': 'text/plain' }, body: `got ${req.body.length}` }));
    const { resp, written } = fakeResponse();
    const req = fakeRequest({
      method: 'post',
      path: '/slash/run',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'X-Slack-Signature': 'v0=abc', 'set-cookie': ['a=1', 'b=2'] },
      queries: { tag: ['env:prod', 'role:web'], dry: 'true' },
      body: [Buffer.from('text=run+'), Buffer.from('df')],
    });
    await handler(req, resp, FC_CONTEXT);
    expect(seen[0]).toEqual({
      method: 'POST',
      path: '/slash/run',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': 'v0=abc', 'set-cookie': 'a=1,b=2' },
      query: { tag: 'env:prod,role:web', dry: 'true' },
      body: Buffer.from('text=run+df'),
      sourceIp: '10.1.2.3',
    });
    expect(written).toEqual({ status: 201, headers: { 'content-type': 'text/plain' }, body: 'got 11', sends: 1 });
  });

  it('takes a pre-read req.body when the runtime provides one', async () => {
    const { handler, seen } = recording();
    const { resp } = fakeResponse();
    await handler(Object.assign(fakeRequest({ method: 'POST' }), { body: Buffer.from([1, 2, 3]) }), resp, FC_CONTEXT);
    expect(seen[0]!.body.equals(Buffer.from([1, 2, 3]))).toBe(true);
  });

  it('sends a Buffer body as bytes', async () => {
    const bytes = Buffer.from([0, 0xff, 0x10]);
    const { handler } = recording(async () => ({ statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes }));
    const { resp, written } = fakeResponse();
    await handler(fakeRequest({}), resp, FC_CONTEXT);
    expect(Buffer.isBuffer(written.body) && written.body.equals(bytes)).toBe(true);
  });

  it('answers 413 without calling the handler when the streamed body passes the limit', async () => {
    const { handler, seen } = recording(undefined, 10);
    const { resp, written } = fakeResponse();
    await handler(fakeRequest({ method: 'POST', body: [Buffer.alloc(6), Buffer.alloc(6)] }), resp, FC_CONTEXT);
    expect(written.status).toBe(413);
    expect(JSON.parse(String(written.body))).toEqual({ error: expect.stringContaining('10 bytes') });
    expect(seen).toHaveLength(0);
  });

  it('applies the default 1 MiB limit', async () => {
    const { handler, seen } = recording();
    const { resp, written } = fakeResponse();
    await handler(fakeRequest({ method: 'POST', body: [Buffer.alloc(512 * 1024), Buffer.alloc(512 * 1024 + 1)] }), resp, FC_CONTEXT);
    expect(written.status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it('answers 400 without calling the handler for a request FC could not have sent', async () => {
    const { handler, seen, lines } = recording();
    const { resp, written } = fakeResponse();
    await handler({ path: '/x' }, resp, FC_CONTEXT);
    expect(written.status).toBe(400);
    expect(JSON.parse(String(written.body))).toEqual({ error: 'malformed HTTP request' });
    expect(seen).toHaveLength(0);
    expect(lines.some((l) => l.includes('request refused'))).toBe(true);
  });

  it('maps errors as the FC 3.0 adapter does: exposed HttpError told, anything else a logged, hidden 500', async () => {
    const exposed = recording(async () => {
      throw new HttpError(422, 'unknown command "rm -rf"');
    });
    const a = fakeResponse();
    await exposed.handler(fakeRequest({}), a.resp, FC_CONTEXT);
    expect(a.written.status).toBe(422);
    expect(a.written.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(String(a.written.body))).toEqual({ error: 'unknown command "rm -rf"' });

    const hidden = recording(async () => {
      throw new Error('token xoxb-123 rejected');
    });
    const b = fakeResponse();
    await hidden.handler(fakeRequest({}), b.resp, FC_CONTEXT);
    expect(b.written.status).toBe(500);
    expect(JSON.parse(String(b.written.body))).toEqual({ error: 'internal error' });
    expect(hidden.lines.some((l) => l.includes('token xoxb-123 rejected'))).toBe(true);
  });

  it('gives the handler a context from FC 2.0’s, with the request id and function name', async () => {
    const { handler } = recording(async (_req, ctx) => ({ statusCode: 200, body: `${ctx.requestId}/${ctx.functionName}/${ctx.accountId}` }));
    const { resp, written } = fakeResponse();
    await handler(fakeRequest({}), resp, FC_CONTEXT);
    expect(written.body).toBe('c5b0a5f1-2a44-4f0f-8d3e-9b4f0c1d2e3f/fleetrun-chat/1234567890123456');
  });
});
