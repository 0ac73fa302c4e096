/**
 * The local FC 2.0 InvokeFunction API driven by the unmodified `@alicloud/fc2` client, for an FC
 * 2.0 deployment that declares the service `fleetrun` holding `async-sink`: signature checks, Sync
 * and Async invocations that really run the fixture function, FC's async retries, and FC's error
 * answers — `ServiceNotFound` for a service the deployment does not declare.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import FC from '@alicloud/fc2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcSignature, fcStringToSign } from '../../local/fc/fc-signature.ts';
import type { FcHost } from '../../local/fc/host.ts';
import { ACCOUNT_ID, readSink, startFixtureHost } from './fc-host-fixture.ts';

const AK = 'fc-test-ak';
const SECRET = 'fc-test-secret';

describe('Local FC host: the InvokeFunction API with @alicloud/fc2', () => {
  let host: FcHost;
  let logs: string[];
  let dir: string;
  let sinkFile: string;
  let client: FC;

  const sink = () => readSink(sinkFile);
  const clientWith = (accessKeyID: string, accessKeySecret: string) => new FC(ACCOUNT_ID, { accessKeyID, accessKeySecret, region: 'cn-hangzhou', endpoint: host.invokeEndpoint! });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-fc-invoke-'));
    sinkFile = path.join(dir, 'sink.jsonl');
    ({ host, logs } = await startFixtureHost({ sinkFile, invokeApi: { accessKeys: { [AK]: SECRET }, asyncRetryDelayMs: 20, fc2Services: { fleetrun: ['async-sink'] } } }));
    client = clientWith(AK, SECRET);
  });
  afterAll(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Async: 202 with an empty body and x-fc-request-id at once; the function then really runs with that request id', async () => {
    const res = await client.invokeFunction('fleetrun', 'async-sink', JSON.stringify({ id: 'a1' }), { 'x-fc-invocation-type': 'Async' });
    expect(res.data).toBe('');
    const requestId = res.headers['x-fc-request-id']!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(host.asyncInvocations.get(requestId)).toMatchObject({ functionName: 'async-sink', service: 'fleetrun' });
    const record = await host.asyncInvocations.settled(requestId);
    expect(record).toMatchObject({ status: 'succeeded', attempts: 1, maxRetries: 2 });
    expect(record.startedAt).toBeDefined();
    expect(await sink()).toContainEqual({ id: 'a1', attempt: 1, ok: true, requestId });
  });

  it('Async: a function error is retried (the s.yaml asyncInvokeConfig allows 2 retries) until it succeeds', async () => {
    const res = await client.invokeFunction('fleetrun', 'async-sink', JSON.stringify({ id: 'flaky', failTimes: 1 }), { 'x-fc-invocation-type': 'Async' });
    const record = await host.asyncInvocations.settled(res.headers['x-fc-request-id']!);
    expect(record).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await sink()).filter((l) => l.id === 'flaky').map((l) => l.ok)).toEqual([false, true]);
  });

  it('Async: gives up after 1 + maxAsyncRetryAttempts attempts and records the failure', async () => {
    const res = await client.invokeFunction('fleetrun', 'async-sink', JSON.stringify({ id: 'doomed', fail: true }), { 'x-fc-invocation-type': 'Async' });
    const record = await host.asyncInvocations.settled(res.headers['x-fc-request-id']!);
    expect(record).toMatchObject({ status: 'failed', attempts: 3, error: { kind: 'FunctionError', message: 'asked to fail (attempt 3)' } });
    expect((await sink()).filter((l) => l.id === 'doomed')).toHaveLength(3);
  });

  it('Sync: 200 with the result, JSON-parsed by the SDK (application/json for an object)', async () => {
    const res = await client.invokeFunction('fleetrun', 'async-sink', JSON.stringify({ id: 's1' }));
    expect(res.data).toEqual({ stored: 's1', attempt: 1 });
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-fc-error-type']).toBeUndefined();
  });

  it('a qualifier rides on the service name (fleetrun.LATEST) and is logged', async () => {
    const res = await client.invokeFunction('fleetrun', 'async-sink', JSON.stringify({ id: 'q1' }), {}, 'LATEST');
    expect(res.data).toEqual({ stored: 'q1', attempt: 1 });
    expect(logs.some((l) => l.startsWith('[fc:invoke]') && l.includes('Sync fleetrun.LATEST/async-sink 200'))).toBe(true);
  });

  it("a service the deployment does not declare: FC's own FCServiceNotFoundError (404), and nothing runs", async () => {
    const before = host.functions.get('async-sink')!.stats.invocations;
    const error = await client.invokeFunction('any-service', 'async-sink', JSON.stringify({ id: 'nosvc' }), { 'x-fc-invocation-type': 'Async' }).then(() => undefined, (e: unknown) => e as FC.FCError);
    expect(error).toMatchObject({ name: 'FCServiceNotFoundError', code: 'ServiceNotFound' });
    expect(error!.message).toContain('failed with 404');
    expect(error!.message).toContain("service 'any-service' does not exist");
    expect(host.functions.get('async-sink')!.stats.invocations).toBe(before);
  });

  it('Sync function error: still 200 (the SDK does not throw), with x-fc-error-type and the error as JSON', async () => {
    const res = await client.invokeFunction<{ errorMessage: string; errorType: string }>('fleetrun', 'async-sink', JSON.stringify({ id: 'e1', fail: true }));
    expect(res.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(res.data).toEqual({ errorMessage: 'asked to fail (attempt 1)', errorType: 'Error' });
  });

  it('a wrong secret is refused: FCSignatureNotMatchError, and the function does not run', async () => {
    const before = host.functions.get('async-sink')!.stats.invocations;
    const error = await clientWith(AK, 'not-the-secret')
      .invokeFunction('fleetrun', 'async-sink', JSON.stringify({ id: 'bad-sig' }))
      .then(() => undefined, (e: unknown) => e as FC.FCError);
    expect(error).toMatchObject({ name: 'FCSignatureNotMatchError', code: 'SignatureNotMatch' });
    expect(error!.message).toMatch(/failed with 403\. requestid: [0-9a-f-]{36}, message: The request signature we calculated does not match/);
    expect(host.functions.get('async-sink')!.stats.invocations).toBe(before);
  });

  it('an unknown access key is refused: FCInvalidAccessKeyIDError', async () => {
    const error = await clientWith('nobody', SECRET)
      .invokeFunction('fleetrun', 'async-sink', JSON.stringify({ id: 'x' }))
      .then(() => undefined, (e: unknown) => e as FC.FCError);
    expect(error).toMatchObject({ name: 'FCInvalidAccessKeyIDError', code: 'InvalidAccessKeyID' });
    expect(error!.message).toContain("invalid access key ID 'nobody'");
  });

  it('an unknown function: FCFunctionNotFoundError (404)', async () => {
    const error = await client.invokeFunction('fleetrun', 'no-such-fn', '{}', { 'x-fc-invocation-type': 'Async' }).then(() => undefined, (e: unknown) => e as FC.FCError);
    expect(error).toMatchObject({ name: 'FCFunctionNotFoundError', code: 'FunctionNotFound' });
    expect(error!.message).toContain("failed with 404");
    expect(error!.message).toContain("function 'no-such-fn' does not exist in service 'fleetrun'");
  });

  it('an async payload over 128 KB: FCEntityTooLargeError, nothing queued', async () => {
    const count = host.asyncInvocations.list().length;
    const error = await client
      .invokeFunction('fleetrun', 'async-sink', JSON.stringify({ id: 'big', pad: 'x'.repeat(128 * 1024) }), { 'x-fc-invocation-type': 'Async' })
      .then(() => undefined, (e: unknown) => e as FC.FCError);
    expect(error).toMatchObject({ name: 'FCEntityTooLargeError', code: 'EntityTooLarge' });
    expect(host.asyncInvocations.list()).toHaveLength(count);
  });

  describe('requests the SDK would not send', () => {
    const invokePath = '/2016-08-15/services/fleetrun/functions/async-sink/invocations';
    function signed(headers: Record<string, string>, secret = SECRET): Record<string, string> {
      return { ...headers, authorization: `FC ${AK}:${fcSignature(secret, fcStringToSign('POST', invokePath, headers))}` };
    }

    it('a signed header changed after signing (Sync signed, Async sent) is SignatureNotMatch, 403', async () => {
      const headers = signed({ date: new Date().toUTCString(), 'content-type': 'application/octet-stream', 'x-fc-invocation-type': 'Sync' });
      const res = await fetch(`${host.invokeEndpoint}${invokePath}`, { method: 'POST', headers: { ...headers, 'x-fc-invocation-type': 'Async' }, body: '{"id":"t"}' });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ ErrorCode: 'SignatureNotMatch', ErrorMessage: expect.stringMatching(/^The request signature we calculated/) });
    });

    it('a correctly signed request runs; a body that does not match its Content-MD5 is refused', async () => {
      const body = '{"id":"raw-ok"}';
      const ok = await fetch(`${host.invokeEndpoint}${invokePath}`, { method: 'POST', headers: signed({ date: new Date().toUTCString(), 'content-type': 'application/octet-stream' }), body });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ stored: 'raw-ok', attempt: 1 });
      const md5OfOther = Buffer.from('0'.repeat(32)).toString('base64');
      const tampered = await fetch(`${host.invokeEndpoint}${invokePath}`, { method: 'POST', headers: signed({ date: new Date().toUTCString(), 'content-type': 'application/octet-stream', 'content-md5': md5OfOther }), body });
      expect(tampered.status).toBe(400);
      expect(((await tampered.json()) as { ErrorCode: string }).ErrorCode).toBe('InvalidArgument');
    });

    it('Async on the wire: status 202, an empty body, x-fc-request-id', async () => {
      const headers = signed({ date: new Date().toUTCString(), 'content-type': 'application/octet-stream', 'x-fc-invocation-type': 'Async' });
      const res = await fetch(`${host.invokeEndpoint}${invokePath}`, { method: 'POST', headers, body: '{"id":"raw-async"}' });
      expect(res.status).toBe(202);
      expect(await res.text()).toBe('');
      expect((await host.asyncInvocations.settled(res.headers.get('x-fc-request-id')!)).status).toBe('succeeded');
    });

    it('no Authorization header: 400 MissingRequiredHeader', async () => {
      const res = await fetch(`${host.invokeEndpoint}${invokePath}`, { method: 'POST', headers: { date: new Date().toUTCString() }, body: '{}' });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ ErrorCode: 'MissingRequiredHeader', ErrorMessage: 'required HTTP header Authorization was not specified' });
    });

    it('another path, signed: 400 PathNotSupported', async () => {
      const other = '/2016-08-15/services/fleetrun/functions/async-sink';
      const headers = { date: new Date().toUTCString() };
      const res = await fetch(`${host.invokeEndpoint}${other}`, { headers: { ...headers, authorization: `FC ${AK}:${fcSignature(SECRET, fcStringToSign('GET', other, headers))}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { ErrorCode: string }).ErrorCode).toBe('PathNotSupported');
    });
  });
});
