/**
 * The local FC 3.0 InvokeFunction API driven by the unmodified `@alicloud/fc20230330` client
 * (ACS3-HMAC-SHA256, ROA style): Sync and Async invocations by function name that really run the
 * fixture function, FC's async retries, FC 3.0's error answers (JSON Code / Message / RequestId),
 * RAM's `AccessDenied`, and the FC 2.0 API refused for an fc3 deployment that declares no service.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import FC2 from '@alicloud/fc2';
import Fc3, { InvokeFunctionHeaders, InvokeFunctionRequest } from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FcHost } from '../../local/fc/host.ts';
import type { AccessRequest } from '../../local/ram/access.ts';
import { ACCOUNT_ID, readSink, startFixtureHost } from './fc-host-fixture.ts';

// Under vitest the CommonJS default export is the client class; TypeScript types it as the module.
const Fc3Client = Fc3 as unknown as typeof Fc3.default;
const AK = 'fc3-test-ak';
const SECRET = 'fc3-test-secret';
const DENIED_AK = 'fc3-denied-ak';

interface ApiError {
  statusCode: number;
  code: string;
  message: string;
  data: { Code: string; Message: string; RequestId: string };
}

describe('Local FC host: the FC 3.0 InvokeFunction API with @alicloud/fc20230330', () => {
  let host: FcHost;
  let logs: string[];
  let dir: string;
  let sinkFile: string;
  const asked: AccessRequest[] = [];

  const clientWith = (accessKeyId: string, accessKeySecret: string) => {
    const { host: endpoint, protocol } = new URL(host.invokeEndpoint!);
    return new Fc3Client(new $OpenApiUtil.Config({ accessKeyId, accessKeySecret, regionId: 'cn-hangzhou', endpoint, protocol: protocol.replace(':', ''), readTimeout: 10_000 }));
  };
  const invoke = async (functionName: string, payload: unknown, type: 'Sync' | 'Async' = 'Sync', client = clientWith(AK, SECRET), qualifier?: string) => {
    const res = await client.invokeFunctionWithOptions(
      functionName,
      new InvokeFunctionRequest({ body: Readable.from([Buffer.from(JSON.stringify(payload))]), ...(qualifier ? { qualifier } : {}) }),
      new InvokeFunctionHeaders({ xFcInvocationType: type }),
      new RuntimeOptions({}),
    );
    const chunks: Buffer[] = [];
    for await (const c of res.body as Readable) chunks.push(Buffer.from(c as Buffer));
    return { statusCode: res.statusCode, headers: res.headers ?? {}, text: Buffer.concat(chunks).toString('utf8') };
  };
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ApiError);
  const sink = () => readSink(sinkFile);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-fc3-invoke-'));
    sinkFile = path.join(dir, 'sink.jsonl');
    ({ host, logs } = await startFixtureHost({
      sinkFile,
      invokeApi: { accessKeys: { [AK]: SECRET, [DENIED_AK]: SECRET }, asyncRetryDelayMs: 20 },
      host: {
        authorize: (request) => {
          asked.push(request);
          return request.accessKeyId === DENIED_AK ? { allowed: false, reason: 'no statement allows it' } : { allowed: true };
        },
      },
    }));
  });
  afterAll(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Sync: 200 with the result; RAM is asked for fc:InvokeFunction on the function ARN', async () => {
    const res = await invoke('async-sink', { id: 's1' });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ stored: 's1', attempt: 1 });
    expect(res.headers['x-fc-request-id']).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{12}$/);
    expect(asked.at(-1)).toEqual({ accessKeyId: AK, action: 'fc:InvokeFunction', resources: [`acs:fc:cn-hangzhou:${ACCOUNT_ID}:functions/async-sink`] });
  });

  it('Sync with a qualifier: runs, and the qualifier is logged', async () => {
    const res = await invoke('async-sink', { id: 'q1' }, 'Sync', undefined, 'LATEST');
    expect(JSON.parse(res.text)).toEqual({ stored: 'q1', attempt: 1 });
    expect(logs.some((l) => l.startsWith('[fc:invoke]') && l.includes('Sync async-sink:LATEST 200'))).toBe(true);
  });

  it('Async: 202 with an empty body at once; the function then runs with that request id, retried on failure', async () => {
    const res = await invoke('async-sink', { id: 'a1', failTimes: 1 }, 'Async');
    expect(res.statusCode).toBe(202);
    expect(res.text).toBe('');
    const requestId = res.headers['x-fc-request-id']!;
    const record = await host.asyncInvocations.settled(requestId);
    expect(record).toMatchObject({ functionName: 'async-sink', status: 'succeeded', attempts: 2, maxRetries: 2 });
    expect((await sink()).filter((l) => l.id === 'a1')).toEqual([
      { id: 'a1', attempt: 1, ok: false, requestId },
      { id: 'a1', attempt: 2, ok: true, requestId },
    ]);
  });

  it('an unknown function: FunctionNotFound (404) as FC 3.0 answers it', async () => {
    const error = await failure(invoke('no-such-fn', {}, 'Async'));
    expect(error).toMatchObject({ statusCode: 404, code: 'FunctionNotFound', data: { Code: 'FunctionNotFound', Message: "function 'no-such-fn' does not exist." } });
    expect(error!.data.RequestId).toMatch(/^1-/);
  });

  it('a wrong secret: SignatureNotMatch (403), and the function does not run', async () => {
    const before = host.functions.get('async-sink')!.stats.invocations;
    const error = await failure(invoke('async-sink', { id: 'bad-sig' }, 'Sync', clientWith(AK, 'not-the-secret')));
    expect(error).toMatchObject({ statusCode: 403, code: 'SignatureNotMatch' });
    expect(error!.message).toContain('The request signature we calculated does not match');
    expect(host.functions.get('async-sink')!.stats.invocations).toBe(before);
  });

  it('an unknown access key: InvalidAccessKeyID (403)', async () => {
    const error = await failure(invoke('async-sink', { id: 'x' }, 'Sync', clientWith('nobody', SECRET)));
    expect(error).toMatchObject({ statusCode: 403, code: 'InvalidAccessKeyID', data: { Message: "invalid access key ID 'nobody'" } });
  });

  it('a caller RAM denies: AccessDenied (403), and nothing is queued', async () => {
    const count = host.asyncInvocations.list().length;
    const error = await failure(invoke('async-sink', { id: 'denied' }, 'Async', clientWith(DENIED_AK, SECRET)));
    expect(error).toMatchObject({ statusCode: 403, code: 'AccessDenied' });
    expect(error!.data.Message).toContain(`fc:InvokeFunction on acs:fc:cn-hangzhou:${ACCOUNT_ID}:functions/async-sink`);
    expect(host.asyncInvocations.list()).toHaveLength(count);
  });

  it('a forged request on the wire (made-up signature, body hash of another body): SignatureNotMatch, JSON as FC 3.0 answers', async () => {
    const url = `${host.invokeEndpoint}/2023-03-30/functions/async-sink/invocations`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `ACS3-HMAC-SHA256 Credential=${AK},SignedHeaders=host;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce,Signature=${'0'.repeat(64)}`,
        'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'x-acs-signature-nonce': 'n-1',
        'x-acs-content-sha256': '0'.repeat(64),
      },
      body: '{"id":"forged"}',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ Code: 'SignatureNotMatch', RequestId: expect.stringMatching(/^1-/) });
  });

  it('the FC 2.0 API on an fc3 deployment (no services declared): ServiceNotFound (404)', async () => {
    const fc2 = new FC2(ACCOUNT_ID, { accessKeyID: AK, accessKeySecret: SECRET, region: 'cn-hangzhou', endpoint: host.invokeEndpoint! });
    const error = await fc2.invokeFunction('fleetrun', 'async-sink', '{"id":"fc2"}').then(() => undefined, (e: unknown) => e as FC2.FCError);
    expect(error).toMatchObject({ name: 'FCServiceNotFoundError', code: 'ServiceNotFound' });
    expect(error!.message).toContain("service 'fleetrun' does not exist");
  });
});
