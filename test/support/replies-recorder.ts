/**
 * What a chat platform (or a webhook's callback server) received, for tests that follow a run from
 * the chat request to its last reply and then look everywhere for something that must not be there.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'vitest';
import { findSecrets, scanFiles, type SecretHit } from './secret-scan.ts';

export interface RecordedReply {
  path: string;
  /** The request's headers (as JSON) and body, one text to scan. */
  body: string;
}

export interface RepliesRecorder {
  /** `http://127.0.0.1:PORT`: list it among the functions' allowed reply origins. */
  origin: string;
  replies: RecordedReply[];
  close(): void;
}

/** A loopback server recording every POST; `answer` gives each platform its "accepted" body (default `{}`). */
export async function startRepliesRecorder(answer: (path: string) => string = () => '{}'): Promise<RepliesRecorder> {
  const replies: RecordedReply[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      replies.push({ path: req.url ?? '', body: `${JSON.stringify(req.headers)}\n${Buffer.concat(chunks).toString('utf8')}` });
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer(req.url ?? ''));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, replies, close: () => server.close() };
}

/** Fetches each run's report through the link its replies carry, as a person would, and records the page. */
export async function fetchReportsInto(replies: RecordedReply[], runIds: readonly string[]): Promise<void> {
  for (const runId of runIds) {
    const link = new RegExp(`"url":"([^"]+/reports/${runId}\\?[^"]*)"`).exec(replies.map((r) => r.body).join('\n'))?.[1];
    expect(link, `a report link for ${runId}`).toBeDefined();
    const report = await fetch(link!);
    expect(report.status).toBe(200);
    replies.push({ path: `report.html of ${runId}`, body: await report.text() });
  }
}

/** Every place a secret could have landed: log lines, replies and reports, the local OSS's and MNS's files. */
export async function secretsEverywhere(where: { logs: readonly string[]; replies: readonly RecordedReply[]; dataDir: string }, needles: readonly string[]): Promise<SecretHit[]> {
  const hits: SecretHit[] = [];
  where.logs.forEach((line, n) => hits.push(...findSecrets(line, needles, `log line ${n}`)));
  where.replies.forEach((r, n) => hits.push(...findSecrets(r.body, needles, `reply ${n} (${r.path})`)));
  hits.push(...(await scanFiles(path.join(where.dataDir, 'oss'), needles)).hits, ...(await scanFiles(path.join(where.dataDir, 'mns'), needles)).hits);
  return hits;
}
