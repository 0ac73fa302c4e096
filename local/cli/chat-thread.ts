/**
 * A chat thread on loopback: the callback URL the signed-webhook platform posts fleetrun's replies
 * to. `npm start` prints what arrives; `fleetrun chat` turns it into a progress bar. Replies are
 * signed like requests, and unsigned or forged ones are dropped. It listens on one of
 * CHAT_THREAD_PORTS, whose origins the local cloud lists as the webhook's callback origins: on
 * any other port the functions would not post to it.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { webhookSignature } from '../../shared/chat/sign.ts';
import { CHAT_THREAD_PORTS } from '../local-cloud.ts';

/** A follow-up as the signed webhook posts it: `ok: false` with a code when it reports a refusal (README, "Webhook answers"). */
export interface ThreadReply {
  ok?: boolean;
  code?: string;
  message: string;
  link?: { title: string; url: string };
}

export interface ChatThread {
  url: string;
  close(): Promise<void>;
}

export async function startChatThread(secret: string, onReply: (reply: ThreadReply) => void): Promise<ChatThread> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const ts = String(req.headers['x-fleetrun-timestamp'] ?? '');
      const expected = Buffer.from(webhookSignature(secret, ts, body));
      const given = Buffer.from(String(req.headers['x-fleetrun-signature'] ?? ''));
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      try {
        onReply(JSON.parse(body.toString('utf8')) as ThreadReply);
      } catch {
        // A reply that is not JSON is not ours.
      }
    });
  });
  const port = await listenOnChatThreadPort(server);
  return {
    url: `http://127.0.0.1:${port}/thread`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Starts `server` on the first free one of CHAT_THREAD_PORTS on 127.0.0.1 and answers its port: a
 * callback receiver the local cloud's functions will post to. Throws when all are taken.
 */
export async function listenOnChatThreadPort(server: Server): Promise<number> {
  for (const port of CHAT_THREAD_PORTS) {
    const listening = await new Promise<boolean>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        if (e.code === 'EADDRINUSE' || e.code === 'EACCES') resolve(false);
        else reject(e);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve(true);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, '127.0.0.1');
    });
    if (listening) return port;
  }
  throw new Error(
    `no chat thread port is free (127.0.0.1:${CHAT_THREAD_PORTS[0]}-${CHAT_THREAD_PORTS[CHAT_THREAD_PORTS.length - 1]}, the origins the local cloud lets webhook replies go to): close another npm start or fleetrun chat, or whatever holds them`,
  );
}
