/**
 * The chat function's cold acknowledgement: a fresh Node process loads the chatops bundle and
 * answers one signed webhook request (FC 3.0 HTTP event in, response struct out), against Slack's
 * 3 s limit. Measured from the process's own start, so Node's start-up is included.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { webhookHeaders } from '../shared/chat/sign.ts';
import { startOssEmulator } from '../local/oss/server.ts';
import { DEMO_CHAT, PROJECT_ROOT } from '../local/local-cloud.ts';

const run = promisify(execFile);

export async function benchChatAck(bundleDir: string, runs = 11): Promise<{ medianMs: number; samplesMs: number[] }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-ack-'));
  const oss = await startOssEmulator({ accessKeys: { ack: 'ack-secret-value' }, dataDir, buckets: ['fleetrun-runs'] });
  try {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const body = JSON.stringify({ user: 'demo-ci', text: 'help', id: `ack-${i}-${Date.now()}` });
      const event = { version: 'v1', rawPath: '/webhook', body, isBase64Encoded: false, headers: { 'Content-Type': 'application/json', ...Object.fromEntries(Object.entries(webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body)).map(([k, v]) => [k, v])) }, queryParameters: {}, requestContext: { accountId: '1', domainName: 'x', domainPrefix: 'x', http: { method: 'POST', path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: `r-${i}`, time: new Date().toISOString(), timeEpoch: String(Date.now()) } };
      const context = { requestId: `r-${i}`, credentials: { accessKeyId: 'ack', accessKeySecret: 'ack-secret-value' }, function: { name: 'fleetrun-chatops' }, region: 'cn-hangzhou', accountId: '1234567890123456' };
      const script = `const {handler}=require(${JSON.stringify(path.join(bundleDir, 'index.js'))});handler(Buffer.from(process.argv[1]),JSON.parse(process.argv[2])).then((r)=>{if(r.statusCode!==200)throw new Error(r.body);console.log(performance.now())})`;
      const { stdout } = await run(process.execPath, ['-e', script, JSON.stringify(event), JSON.stringify(context)], {
        cwd: bundleDir,
        env: {
          PATH: process.env.PATH ?? '',
          FLEETRUN_BUCKET: 'fleetrun-runs',
          FLEETRUN_OSS_ENDPOINT: oss.endpoint,
          FLEETRUN_WEBHOOK_SECRET: DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET,
          FLEETRUN_CATALOG_FILE: path.join(PROJECT_ROOT, 'local/demo/catalog.yaml'),
          FLEETRUN_POLICY_FILE: path.join(PROJECT_ROOT, 'local/demo/policy.yaml'),
          FLEETRUN_JOBS_FILE: path.join(PROJECT_ROOT, 'local/demo/jobs.yaml'),
        },
      });
      samples.push(Number(stdout.trim().split('\n').at(-1)));
    }
    const sorted = [...samples].sort((a, b) => a - b);
    return { medianMs: sorted[Math.floor(sorted.length / 2)]!, samplesMs: samples };
  } finally {
    await oss.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
