/**
 * The HTTP side every local emulator shares: listen on loopback (port 0 = a free one), give each
 * request an id, read its body up to a limit, hand it to the service's handler, write one log line
 * once it is answered, and close. What a service answers — its error documents, status codes and
 * headers, including the one for a body over the limit — stays the service's own.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomHex } from './random-hex.ts';

/** One request as a handler sees it. */
export interface HttpExchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  /** When the request arrived (epoch ms). */
  startedAt: number;
  /** The connection carried a request before: a kept-alive one, the only kind a server's idle timeout can close under a client. */
  reused: boolean;
}

/** A request whose body the listener read whole. */
export interface BufferedExchange extends HttpExchange {
  /** The body, or its first bytes when it was over the limit. */
  body: Buffer;
  /** The body was over the limit: the rest was read and dropped, so the client still gets the service's answer. */
  oversize: boolean;
}

/**
 * `{ maxBytes }`: the listener reads each body before calling the handler; `'streamed'`: the handler
 * reads `req` itself (large uploads).
 */
export type BodyReading = { maxBytes: number } | 'streamed';

export interface HttpListenerOptions<B extends BodyReading> {
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Node's default (16 KB) unless given: signed SDK requests can carry long headers. */
  maxHeaderSize?: number;
  /** How long an idle keep-alive socket stays open, in ms; Node's default (5 s) unless given. */
  keepAliveTimeoutMs?: number;
  body: B;
  /** The service's request id format; default 24 uppercase hex digits. */
  requestId?: (req: IncomingMessage, startedAt: number) => string;
  /**
   * Answers the request and resolves to what its log line says (e.g. `SendMessage q 201`). A
   * rejection is a request the service could not answer at all: the connection is cut, the error
   * goes to stderr, and no log line is written.
   */
  handle: (exchange: B extends 'streamed' ? HttpExchange : BufferedExchange) => Promise<string>;
  /** Receives the log lines; `<logPrefix> <summary> <ms>ms`, then the request id if {@link logRequestId}. */
  log: (line: string) => void;
  /** e.g. `[oss]`; also names the service on stderr. */
  logPrefix: string;
  logRequestId?: boolean;
}

/** A listening server. */
export interface HttpListener {
  port: number;
  /**
   * Stops listening and cuts every connection, idle keep-alive ones and those with a request in
   * flight. Unless `waitForHandlers` is false, then waits for the handlers still running (a disk
   * write they started, say) — a service whose handlers wait on something that closes only after
   * the listener (a function instance) passes false.
   */
  close(options?: { waitForHandlers?: boolean }): Promise<void>;
}

/** The default request id: 12 random bytes as uppercase hex, the form OSS and MNS use. */
export function hexRequestId(): string {
  return randomHex(12).toUpperCase();
}

/** Starts a server as `options` say and resolves once it listens. */
export async function listenHttp<B extends BodyReading>(options: HttpListenerOptions<B>): Promise<HttpListener> {
  const makeId = options.requestId ?? hexRequestId;
  const handle = options.handle as (exchange: HttpExchange | BufferedExchange) => Promise<string>;
  const inFlight = new Set<Promise<void>>();

  function answer(exchange: HttpExchange | BufferedExchange): void {
    const { res, startedAt } = exchange;
    const work = handle(exchange)
      .then((summary) => {
        const line = `${options.logPrefix} ${printable(summary)} ${Date.now() - startedAt}ms`;
        options.log(options.logRequestId ? `${line} ${exchange.requestId}` : line);
      })
      .catch((e: unknown) => {
        console.error(`${options.logPrefix} failed to answer`, e);
        res.destroy();
      });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  const served = new WeakSet<Socket>();
  const server = createServer(options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize }, (req, res) => {
    const startedAt = Date.now();
    const requestId = makeId(req, startedAt);
    const reused = served.has(req.socket);
    served.add(req.socket);
    const reading = options.body;
    if (reading === 'streamed') {
      answer({ req, res, requestId, startedAt, reused });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit the rest is read and dropped, so the client still gets the service's answer.
      if (size <= reading.maxBytes) chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => answer({ req, res, requestId, startedAt, reused, body: Buffer.concat(chunks), oversize: size > reading.maxBytes }));
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close({ waitForHandlers = true } = {}) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (waitForHandlers) await Promise.allSettled([...inFlight]);
    },
  };
}

/** Object keys, action names and paths may hold control characters; escaped so one request stays one log line. */
function printable(line: string): string {
  return line.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
