/**
 * The HTTP listener the emulators share (local/http-listener.ts), over loopback with fetch: the body
 * limit is answered as the service says, request ids are unique, one log line per request, and
 * close waits for handlers still running unless told not to.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { listenHttp, type BodyReading, type HttpListener, type HttpListenerOptions } from '../../local/http-listener.ts';

const open: HttpListener[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close({ waitForHandlers: false })));
});

async function listen<B extends BodyReading>(options: Omit<HttpListenerOptions<B>, 'log' | 'logPrefix'> & { lines?: string[]; logPrefix?: string }): Promise<{ url: string; listener: HttpListener }> {
  const lines = options.lines ?? [];
  const listener = await listenHttp<B>({ logPrefix: '[test]', log: (line) => lines.push(line), ...options });
  open.push(listener);
  return { url: `http://127.0.0.1:${listener.port}`, listener };
}

/** Resolves once `predicate` holds, checking every few ms (at most 2 s). */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(predicate()).toBe(true);
}

/**
 * A listener with one request in flight, its handler started and held until `release()`;
 * `handler.finished` turns true once it ran to its end, `request` is what the client got.
 */
async function listenerHoldingARequest() {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const handler = { started: false, finished: false };
  const { url, listener } = await listen({
    body: { maxBytes: 1024 },
    handle: async ({ res }) => {
      handler.started = true;
      await held;
      handler.finished = true;
      res.end();
      return '200';
    },
  });
  const request = fetch(url).catch((e: unknown) => e);
  await until(() => handler.started);
  return { url, listener, handler, request, release };
}

describe('the emulators’ HTTP listener', () => {
  it('hands a body within the limit to the handler whole, and one over it as the handler answers it', async () => {
    const seen: { bytes: string; oversize: boolean }[] = [];
    const { url } = await listen({
      body: { maxBytes: 10 },
      handle: async ({ res, body, oversize }) => {
        seen.push({ bytes: body.toString('utf8'), oversize });
        if (oversize) {
          res.writeHead(413, { 'content-type': 'text/plain' });
          res.end('too big for this service');
          return '413 too big';
        }
        res.end(`got ${body.length}`);
        return '200';
      },
    });
    const small = await fetch(url, { method: 'POST', body: '0123456789' });
    expect(small.status).toBe(200);
    expect(await small.text()).toBe('got 10');
    const large = await fetch(url, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(large.status).toBe(413);
    expect(await large.text()).toBe('too big for this service');
    expect(seen.map((s) => s.oversize)).toEqual([false, true]);
    expect(seen[0]!.bytes).toBe('0123456789');
    // The rest of a body over the limit is read and dropped, not kept in memory.
    expect(seen[1]!.bytes.length).toBeLessThanOrEqual(10);
  });

  it('lets another service answer the same limit its own way', async () => {
    const { url } = await listen({
      body: { maxBytes: 4 },
      handle: async ({ res, oversize }) => {
        const text = JSON.stringify(oversize ? { Code: 'EntityTooLarge' } : { ok: true });
        res.writeHead(oversize ? 400 : 200, { 'content-type': 'application/json' });
        res.end(text);
        return oversize ? '400 EntityTooLarge' : '200';
      },
    });
    const res = await fetch(url, { method: 'POST', body: 'abcde' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ Code: 'EntityTooLarge' });
  });

  it('leaves a streamed body for the handler to read', async () => {
    const { url } = await listen({
      body: 'streamed',
      handle: async ({ req, res }) => {
        let length = 0;
        for await (const chunk of req) length += (chunk as Buffer).length;
        res.end(String(length));
        return '200';
      },
    });
    expect(await (await fetch(url, { method: 'PUT', body: 'y'.repeat(3_000_000) })).text()).toBe('3000000');
  });

  it('gives every request its own id, by default 24 uppercase hex digits, or in the service’s format', async () => {
    const answerId: HttpListenerOptions<BodyReading>['handle'] = async ({ res, requestId }) => {
      res.end(requestId);
      return '200';
    };
    const byDefault = await listen({ body: { maxBytes: 1024 }, handle: answerId });
    const ids = await Promise.all(Array.from({ length: 50 }, async () => (await fetch(byDefault.url)).text()));
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9A-F]{24}$/);

    let n = 0;
    const custom = await listen({ body: { maxBytes: 1024 }, requestId: (_req, startedAt) => `req-${startedAt > 0 ? 'timed' : 'untimed'}-${++n}`, handle: answerId });
    expect(await (await fetch(custom.url)).text()).toBe('req-timed-1');
    expect(await (await fetch(custom.url)).text()).toBe('req-timed-2');
  });

  it('writes one line per answered request, control characters escaped, with the request id when asked', async () => {
    const lines: string[] = [];
    const { url } = await listen({
      lines,
      logPrefix: '[svc]',
      logRequestId: true,
      requestId: () => 'ID1',
      body: { maxBytes: 1024 },
      handle: async ({ req, res }) => {
        res.end();
        return `${req.method} key\nwith-newline 200`;
      },
    });
    await (await fetch(url)).text();
    await until(() => lines.length === 1);
    expect(lines).toEqual([expect.stringMatching(/^\[svc\] GET key\\x0awith-newline 200 \d+ms ID1$/)]);
  });

  it('cuts the connection and writes no line when the handler fails', async () => {
    const lines: string[] = [];
    const { url } = await listen({
      lines,
      body: { maxBytes: 1024 },
      handle: async () => {
        throw new Error('handler broke (expected by this test)');
      },
    });
    await expect(fetch(url)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 20));
    expect(lines).toEqual([]);
  });

  it('close cuts connections, then waits for the handlers still running', async () => {
    const { url, listener, handler, request, release } = await listenerHoldingARequest();
    let closed = false;
    const closing = listener.close().then(() => (closed = true));
    // The client is cut off at once; the handler is not.
    expect(await request).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(handler.finished).toBe(true);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('close without waiting leaves a held handler running', async () => {
    const { listener, handler, request, release } = await listenerHoldingARequest();
    await listener.close({ waitForHandlers: false });
    expect(handler.finished).toBe(false);
    expect(await request).toBeInstanceOf(Error);
    release();
  });

  it('picks a free port for port 0 and refuses one that is taken', async () => {
    const first = await listen({ body: { maxBytes: 1 }, handle: async ({ res }) => (res.end(), '200') });
    expect(first.listener.port).toBeGreaterThan(0);
    await expect(listenHttp({ port: first.listener.port, body: { maxBytes: 1 }, handle: async () => '', log: () => {}, logPrefix: '[x]' })).rejects.toThrow(/EADDRINUSE/);
  });
});
