/**
 * A chat thread on loopback: the callback URL the signed-webhook platform posts fleetrun's replies
 * to. `npm start` prints what arrives; `fleetrun chat` turns it into a progress bar. Replies are
 * signed like requests, and unsigned or forged ones are dropped.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookSignature } from '../../shared/chat/sign.ts';
import { timingSafeEqual } from 'node:crypto';

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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/thread`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
