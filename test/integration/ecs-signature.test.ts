/**
 * ECS request signature verification against the REAL `@alicloud/ecs20140526` SDK: the SDK signs,
 * a plain node:http server verifies with `verifyEcsRequest`, and captured requests are then replayed,
 * tampered with and re-dated at unit level.
 */

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as EcsModule from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $dara from '@darabonba/typescript';
import {
  MAX_CLOCK_SKEW_MS,
  NonceCache,
  decodeQuery,
  toRawRequest,
  verifyEcsRequest,
} from '../../local/ecs/signature.ts';
import type { AccessKeys, RawRequest, SignatureResult } from '../../local/ecs/signature.ts';

// Under vitest the default import interop differs from native ESM; resolve the class robustly.
const Ecs: any = (EcsModule as any).default?.default ?? (EcsModule as any).default;

const AK = 'LTAI5tTestKey0001';
const SK = 'test-secret-0001/+=';
const STS_AK = 'STS.NUgYrLnoC37mZZCNnAbez2dMW';
const STS_SK = 'sts-secret-xyz';
const STS_TOKEN = 'CAIS+token/with=odd+chars==';
const SECRETS = new Map([[AK, SK], [STS_AK, STS_SK]]);
const keys: AccessKeys = { secretFor: (id) => SECRETS.get(id) };

interface Seen { raw: RawRequest; result: SignatureResult }

let server: Server;
let port = 0;
let serverNonces: NonceCache;
let seen: Seen[] = [];

beforeAll(async () => {
  serverNonces = new NonceCache();
  server = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = toRawRequest(req, Buffer.concat(chunks));
      const result = verifyEcsRequest(raw, keys, serverNonces);
      seen.push({ raw, result });
      res.setHeader('content-type', 'application/json');
      if (result.ok) {
        res.statusCode = 200;
        res.end(JSON.stringify({ RequestId: 'r-1' }));
      } else {
        res.statusCode = result.error.httpStatus;
        res.end(JSON.stringify({
          Code: result.error.code,
          Message: result.error.message,
          RequestId: randomUUID(),
          HostId: 'ecs.aliyuncs.com',
        }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
});

beforeEach(() => {
  seen = [];
});

type Scheme = 'v3' | 'v2';
const SCHEMES: Scheme[] = ['v3', 'v2'];

function client(scheme: Scheme, creds: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string } = {}): any {
  return new Ecs(new $OpenApiUtil.Config({
    accessKeyId: creds.accessKeyId ?? AK,
    accessKeySecret: creds.accessKeySecret ?? SK,
    ...(creds.securityToken !== undefined && { securityToken: creds.securityToken }),
    endpoint: `127.0.0.1:${port}`,
    protocol: 'http',
    regionId: 'cn-hangzhou',
    readTimeout: 10_000,
    ...(scheme === 'v2' && { signatureAlgorithm: 'v2' }),
  }));
}

function stop(invokeId = 't-1'): EcsModule.StopInvocationRequest {
  return new EcsModule.StopInvocationRequest({ regionId: 'cn-hangzhou', invokeId, instanceId: ['i-1'] });
}

function lastSeen(): Seen {
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

function okResult(r: SignatureResult): Extract<SignatureResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r;
}

function errCode(r: SignatureResult): string {
  if (r.ok) throw new Error(`expected a failure, but the request verified (${r.scheme})`);
  return r.error.code;
}

/** Runs a StopInvocation through the SDK and returns the raw request the server received. */
async function capture(scheme: Scheme, creds?: Parameters<typeof client>[1], invokeId?: string): Promise<RawRequest> {
  await client(scheme, creds).stopInvocation(stop(invokeId));
  const s = lastSeen();
  okResult(s.result);
  return s.raw;
}

/** The instant the SDK stamped on the request, so unit checks do not depend on wall-clock drift. */
function signedAt(raw: RawRequest): Date {
  const v3 = raw.headers['x-acs-date'];
  const iso = typeof v3 === 'string' ? v3 : decodeQuery(raw.rawQuery).Timestamp!;
  return new Date(iso);
}

function withQuery(raw: RawRequest, rawQuery: string): RawRequest {
  return { ...raw, rawQuery };
}

function withHeaders(raw: RawRequest, patch: Record<string, string | undefined>): RawRequest {
  const headers = { ...raw.headers };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return { ...raw, headers };
}

function verifyFresh(raw: RawRequest, now = signedAt(raw)): SignatureResult {
  return verifyEcsRequest(raw, keys, new NonceCache(), now);
}

async function sdkError(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the SDK call to throw');
}

describe('through the real SDK', () => {
  it('accepts an ACS3-HMAC-SHA256 (v3) StopInvocation and returns the signed parameters', async () => {
    const res = await client('v3').stopInvocation(stop());
    expect(res.statusCode).toBe(200);
    expect(res.body.requestId).toBe('r-1');
    const { raw, result } = lastSeen();
    expect(raw.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=/);
    const ok = okResult(result);
    expect(ok.scheme).toBe('ACS3-HMAC-SHA256');
    expect(ok.accessKeyId).toBe(AK);
    expect(ok.action).toBe('StopInvocation');
    expect(ok.version).toBe('2014-05-26');
    expect(ok.securityToken).toBeUndefined();
    expect({ ...ok.params }).toEqual({ 'InstanceId.1': 'i-1', InvokeId: 't-1', RegionId: 'cn-hangzhou' });
  });

  it('accepts a legacy RPC (v2, HMAC-SHA1) StopInvocation and strips the protocol parameters', async () => {
    const res = await client('v2').stopInvocation(stop());
    expect(res.body.requestId).toBe('r-1');
    const { raw, result } = lastSeen();
    expect(raw.headers.authorization).toBeUndefined();
    expect(raw.rawQuery).toContain('SignatureMethod=HMAC-SHA1');
    const ok = okResult(result);
    expect(ok.scheme).toBe('RPC-v2');
    expect(ok.accessKeyId).toBe(AK);
    expect(ok.action).toBe('StopInvocation');
    expect(ok.version).toBe('2014-05-26');
    expect({ ...ok.params }).toEqual({ 'InstanceId.1': 'i-1', InvokeId: 't-1', RegionId: 'cn-hangzhou' });
  });

  // ~30 KB of random bytes gives ~40 KB of base64 full of '+', '/' and '=' (beyond Node's default
  // 16 KiB header limit, hence maxHeaderSize on the server).
  const commandContent = randomBytes(30 * 1024).toString('base64');
  const awkward = {
    name: "deploy it * (now)! it's ünïcødé 日本語 🚀 a+b=c & d%20e ~._-",
    description: 'plus+plus  two  spaces; semi/slash\\back "quoted" #hash ?q=1&r=2',
    workingDir: '/tmp/a b+c',
    parameters: { name: "world (it's) *!", expr: '1+1 = 2', emoji: '🚀', json: '{"x":[1,2]}' },
  };

  for (const scheme of SCHEMES) {
    it(`accepts a RunCommand with awkward values and a 40 KB CommandContent (${scheme})`, async () => {
      expect(commandContent.length).toBeGreaterThan(40_000);
      expect(commandContent).toContain('+');
      const res = await client(scheme).runCommand(new EcsModule.RunCommandRequest({
        regionId: 'cn-hangzhou',
        type: 'RunShellScript',
        commandContent,
        contentEncoding: 'Base64',
        instanceId: ['i-1', 'i-2'],
        name: awkward.name,
        description: awkward.description,
        workingDir: awkward.workingDir,
        parameters: awkward.parameters,
        enableParameter: true,
        timeout: 60,
        resourceTag: [new EcsModule.RunCommandRequestResourceTag({ key: 'k (1)', value: "v w+x*'!" })],
      }));
      expect(res.body.requestId).toBe('r-1');
      const { raw, result } = lastSeen();
      // The wire form is not the canonical form: querystring leaves ( ) ! ' * unescaped, never emits '+'.
      expect(raw.rawQuery).not.toContain('+');
      expect(raw.rawQuery).toContain('(now)!');
      const ok = okResult(result);
      expect(ok.scheme).toBe(scheme === 'v3' ? 'ACS3-HMAC-SHA256' : 'RPC-v2');
      expect(ok.action).toBe('RunCommand');
      expect(ok.params.CommandContent).toBe(commandContent);
      expect(ok.params.Name).toBe(awkward.name);
      expect(ok.params.Description).toBe(awkward.description);
      expect(ok.params.WorkingDir).toBe(awkward.workingDir);
      expect(JSON.parse(ok.params.Parameters!)).toEqual(awkward.parameters);
      expect(ok.params['InstanceId.2']).toBe('i-2');
      expect(ok.params['ResourceTag.1.Key']).toBe('k (1)');
      expect(ok.params['ResourceTag.1.Value']).toBe("v w+x*'!");
      expect(ok.params.EnableParameter).toBe('true');
      expect(ok.params.Timeout).toBe('60');
    });

    it(`rejects a wrong secret with SignatureDoesNotMatch / 400 (${scheme})`, async () => {
      const e = await sdkError(client(scheme, { accessKeySecret: 'not-the-secret' }).stopInvocation(stop()));
      expect(e.code).toBe('SignatureDoesNotMatch');
      expect(e.statusCode).toBe(400);
      expect(e.data?.HostId).toBe('ecs.aliyuncs.com');
    });

    it(`rejects an unknown access key with InvalidAccessKeyId.NotFound / 404 (${scheme})`, async () => {
      const e = await sdkError(client(scheme, { accessKeyId: 'LTAI-nobody' }).stopInvocation(stop()));
      expect(e.code).toBe('InvalidAccessKeyId.NotFound');
      expect(e.statusCode).toBe(404);
    });

    it(`accepts an STS security token and covers it by the signature (${scheme})`, async () => {
      const creds = { accessKeyId: STS_AK, accessKeySecret: STS_SK, securityToken: STS_TOKEN };
      const res = await client(scheme, creds).stopInvocation(stop());
      expect(res.body.requestId).toBe('r-1');
      const { raw, result } = lastSeen();
      const ok = okResult(result);
      expect(ok.accessKeyId).toBe(STS_AK);
      expect(ok.securityToken).toBe(STS_TOKEN);
      expect(ok.params).not.toHaveProperty('SecurityToken');
      expect({ ...ok.params }).toEqual({ 'InstanceId.1': 'i-1', InvokeId: 't-1', RegionId: 'cn-hangzhou' });

      const tampered = scheme === 'v3'
        ? withHeaders(raw, { 'x-acs-security-token': 'STS.other' })
        : withQuery(raw, raw.rawQuery.replace(/SecurityToken=[^&]+/, 'SecurityToken=STS.other'));
      expect(tampered).not.toEqual(raw);
      expect(errCode(verifyFresh(tampered))).toBe('SignatureDoesNotMatch');
    });

    it(`merges a signed form-urlencoded body into params (${scheme})`, async () => {
      // No ECS operation sends a body, so drive the SDK's generic callApi with reqBodyType formData.
      const c = client(scheme);
      await c.callApi(
        new $OpenApiUtil.Params({
          action: 'StopInvocation', version: '2014-05-26', protocol: 'HTTPS', pathname: '/', method: 'POST',
          authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
        }),
        new $OpenApiUtil.OpenApiRequest({ query: { RegionId: 'cn-hangzhou' }, body: { InvokeId: 't b+c', InstanceId: ['i-9'] } }),
        new $dara.RuntimeOptions({}),
      );
      const { raw, result } = lastSeen();
      expect(raw.body.length).toBeGreaterThan(0);
      expect(raw.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      const ok = okResult(result);
      expect({ ...ok.params }).toEqual({ RegionId: 'cn-hangzhou', InvokeId: 't b+c', 'InstanceId.1': 'i-9' });

      const tampered = { ...raw, body: Buffer.from(raw.body.toString().replace('i-9', 'i-8')) };
      expect(errCode(verifyFresh(tampered))).toBe('SignatureDoesNotMatch');
    });
  }

  it('remembers nonces server-side: a request the server accepted is refused when seen again', async () => {
    const raw = await capture('v3');
    expect(errCode(verifyEcsRequest(raw, keys, serverNonces, signedAt(raw)))).toBe('SignatureNonceUsed');
  });
});

describe('captured requests, verified directly', () => {
  for (const scheme of SCHEMES) {
    describe(scheme, () => {
      it('a captured request verifies once and its replay fails with SignatureNonceUsed', async () => {
        const raw = await capture(scheme);
        const nonces = new NonceCache();
        okResult(verifyEcsRequest(raw, keys, nonces, signedAt(raw)));
        expect(errCode(verifyEcsRequest(raw, keys, nonces, signedAt(raw)))).toBe('SignatureNonceUsed');
        // ...and still fails 14 minutes later, while the timestamp would still be accepted.
        const later = new Date(signedAt(raw).getTime() + 14 * 60_000);
        expect(errCode(verifyEcsRequest(raw, keys, nonces, later))).toBe('SignatureNonceUsed');
      });

      it('a forged request does not burn the nonce of the genuine one', async () => {
        const raw = await capture(scheme);
        const nonces = new NonceCache();
        const forged = withQuery(raw, raw.rawQuery.replace('InvokeId=t-1', 'InvokeId=t-666'));
        expect(errCode(verifyEcsRequest(forged, keys, nonces, signedAt(raw)))).toBe('SignatureDoesNotMatch');
        okResult(verifyEcsRequest(raw, keys, nonces, signedAt(raw)));
      });

      it('a tampered query value fails with SignatureDoesNotMatch', async () => {
        const raw = await capture(scheme);
        const tampered = withQuery(raw, raw.rawQuery.replace('InstanceId.1=i-1', 'InstanceId.1=i-2'));
        expect(tampered.rawQuery).not.toBe(raw.rawQuery);
        expect(errCode(verifyFresh(tampered))).toBe('SignatureDoesNotMatch');
        // An added parameter is not covered either.
        expect(errCode(verifyFresh(withQuery(raw, `${raw.rawQuery}&Extra=1`)))).toBe('SignatureDoesNotMatch');
        // Sanity: the untouched request verifies, so the failures above are due to the tampering.
        okResult(verifyFresh(raw));
      });

      it('a repeated query key is refused outright', async () => {
        const raw = await capture(scheme);
        expect(errCode(verifyFresh(withQuery(raw, `InvokeId=t-666&${raw.rawQuery}`)))).toBe('InvalidParameter');
      });

      it('a date more than 15 minutes from the server clock fails with InvalidTimeStamp.Expired', async () => {
        const raw = await capture(scheme);
        const t = signedAt(raw).getTime();
        expect(errCode(verifyFresh(raw, new Date(t + MAX_CLOCK_SKEW_MS + 1000)))).toBe('InvalidTimeStamp.Expired');
        expect(errCode(verifyFresh(raw, new Date(t - MAX_CLOCK_SKEW_MS - 1000)))).toBe('InvalidTimeStamp.Expired');
        okResult(verifyFresh(raw, new Date(t + MAX_CLOCK_SKEW_MS - 1000)));
        okResult(verifyFresh(raw, new Date(t - MAX_CLOCK_SKEW_MS + 1000)));
      });

      it('an unknown key in a captured request fails with InvalidAccessKeyId.NotFound', async () => {
        const raw = await capture(scheme);
        const r = verifyEcsRequest(raw, { secretFor: () => undefined }, new NonceCache(), signedAt(raw));
        expect(errCode(r)).toBe('InvalidAccessKeyId.NotFound');
      });

      it("'+' on the wire: either meaning verifies, but only the meaning that was signed", async () => {
        const raw = await capture(scheme, undefined, 't a+b');
        expect(raw.rawQuery).toContain('InvokeId=t%20a%2Bb');
        // space sent as '+' (form style): verifies as the space it was signed as
        const spaceAsPlus = verifyFresh(withQuery(raw, raw.rawQuery.replace('t%20a%2Bb', 't+a%2Bb')));
        expect(okResult(spaceAsPlus).params.InvokeId).toBe('t a+b');
        // '+' sent unescaped (RFC 3986 style): verifies as the '+' it was signed as
        const literalPlus = verifyFresh(withQuery(raw, raw.rawQuery.replace('t%20a%2Bb', 't%20a+b')));
        expect(okResult(literalPlus).params.InvokeId).toBe('t a+b');
        // both at once is genuinely ambiguous and matches neither reading
        const both = verifyFresh(withQuery(raw, raw.rawQuery.replace('t%20a%2Bb', 't+a+b')));
        expect(errCode(both)).toBe('SignatureDoesNotMatch');
      });
    });
  }

  describe('v3 only', () => {
    it('a missing Authorization header fails with IncompleteSignature', async () => {
      const raw = await capture('v3');
      expect(errCode(verifyFresh(withHeaders(raw, { authorization: undefined })))).toBe('IncompleteSignature');
    });

    it('a garbled or unsupported Authorization header fails with IncompleteSignature', async () => {
      const raw = await capture('v3');
      const auth = raw.headers.authorization!;
      for (const bad of [
        'ACS3-HMAC-SHA256 Credential=' + AK,
        auth.replace(/Signature=[0-9a-f]+/, 'Signature=xyz'),
        auth.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3'),
        auth.replace('SignedHeaders=', 'Headers='),
        'Bearer abc',
      ]) {
        expect(errCode(verifyFresh(withHeaders(raw, { authorization: bad }))), bad).toBe('IncompleteSignature');
      }
      okResult(verifyFresh(raw));
    });

    it('a body that does not match x-acs-content-sha256 fails with SignatureDoesNotMatch', async () => {
      const raw = await capture('v3');
      expect(raw.body.length).toBe(0);
      const r = verifyFresh({ ...raw, body: Buffer.from('x') });
      expect(errCode(r)).toBe('SignatureDoesNotMatch');
      // The body hash is checked on its own (not only via the canonical request), with a precise message.
      expect(!r.ok && r.error.message).toMatch(/x-acs-content-sha256/);
    });

    it('a changed signed header fails; an extra unsigned x-acs-* header is refused', async () => {
      const raw = await capture('v3');
      expect(errCode(verifyFresh(withHeaders(raw, { 'x-acs-action': 'RunCommand' })))).toBe('SignatureDoesNotMatch');
      expect(errCode(verifyFresh(withHeaders(raw, { host: `localhost:${port}` })))).toBe('SignatureDoesNotMatch');
      expect(errCode(verifyFresh(withHeaders(raw, { 'x-acs-extra': '1' })))).toBe('IncompleteSignature');
      expect(errCode(verifyFresh(withHeaders(raw, { 'x-acs-signature-nonce': undefined })))).toBe('IncompleteSignature');
    });

    it('a replay with a fresh nonce but the old signature fails', async () => {
      const raw = await capture('v3');
      const renonced = withHeaders(raw, { 'x-acs-signature-nonce': randomBytes(32).toString('hex') });
      expect(errCode(verifyFresh(renonced))).toBe('SignatureDoesNotMatch');
    });
  });

  describe('v2 only', () => {
    it('a missing Signature fails with IncompleteSignature', async () => {
      const raw = await capture('v2');
      const unsigned = withQuery(raw, raw.rawQuery.replace(/&?Signature=[^&]*/, ''));
      expect(unsigned.rawQuery).not.toMatch(/(^|&)Signature=/);
      expect(errCode(verifyFresh(unsigned))).toBe('IncompleteSignature');
    });

    it('a request with no signature of either kind fails with IncompleteSignature', () => {
      const raw: RawRequest = { method: 'POST', path: '/', rawQuery: 'Action=StopInvocation&InvokeId=t-1', headers: { host: 'x' }, body: Buffer.alloc(0) };
      expect(errCode(verifyFresh(raw, new Date()))).toBe('IncompleteSignature');
    });

    it('an unsigned, non-form body is refused', async () => {
      const raw = await capture('v2');
      const withJson = { ...withHeaders(raw, { 'content-type': 'application/json' }), body: Buffer.from('{"InvokeId":"t-666"}') };
      expect(errCode(verifyFresh(withJson))).toBe('IncompleteSignature');
    });

    it('the unsigned x-acs-action header does not decide the action', async () => {
      const raw = await capture('v2');
      const r = okResult(verifyFresh(withHeaders(raw, { 'x-acs-action': 'RunCommand' })));
      expect(r.action).toBe('StopInvocation');
    });
  });
});

describe('decodeQuery', () => {
  it("treats '+' as a space by default and as a plus in literal mode", () => {
    expect({ ...decodeQuery('a=1+2&b=%2B&c=x%20y&d=') }).toEqual({ a: '1 2', b: '+', c: 'x y', d: '' });
    expect({ ...decodeQuery('a=1+2&b=%2B', 'literal') }).toEqual({ a: '1+2', b: '+' });
    expect({ ...decodeQuery('') }).toEqual({});
  });

  it('decodes UTF-8 and keeps the last of repeated keys', () => {
    expect({ ...decodeQuery('n=%E6%97%A5%F0%9F%9A%80&k=1&k=2') }).toEqual({ n: '日🚀', k: '2' });
  });

  it('is immune to prototype keys', () => {
    const q = decodeQuery('__proto__=x&constructor=y');
    expect(Object.getPrototypeOf(q)).toBeNull();
    expect(Object.hasOwn(q, '__proto__')).toBe(true);
    expect(q['__proto__']).toBe('x');
    expect(q.constructor).toBe('y');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('NonceCache', () => {
  it('refuses a nonce within the TTL and accepts it after', () => {
    const c = new NonceCache(1000);
    const t0 = Date.UTC(2026, 0, 1);
    expect(c.remember('n', new Date(t0))).toBe(true);
    expect(c.remember('n', new Date(t0 + 1000))).toBe(false);
    expect(c.remember('other', new Date(t0 + 500))).toBe(true);
    expect(c.remember('n', new Date(t0 + 1001))).toBe(true);
  });

  it('keeps a nonce until keepUntil when that is later than now + TTL', () => {
    const c = new NonceCache(1000);
    const t0 = Date.UTC(2026, 0, 1);
    expect(c.remember('n', new Date(t0), new Date(t0 + 5000))).toBe(true);
    expect(c.remember('n', new Date(t0 + 4000))).toBe(false);
    expect(c.remember('n', new Date(t0 + 5001))).toBe(true);
  });

  it('forgets expired nonces so memory stays bounded', () => {
    const c = new NonceCache(1000);
    const t0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 100; i++) c.remember(`n${i}`, new Date(t0));
    expect(c.size).toBe(100);
    c.remember('late', new Date(t0 + 120_000));
    expect(c.size).toBe(1);
  });

  it('protects a future-dated request until its timestamp expires (verifyEcsRequest wiring)', async () => {
    const raw = await capture('v3');
    const nonces = new NonceCache();
    const dated = signedAt(raw).getTime();
    // Server clock 14 min behind the request: accepted, and the nonce must outlive now + 15 min.
    okResult(verifyEcsRequest(raw, keys, nonces, new Date(dated - 14 * 60_000)));
    const replayAt = new Date(dated + 14 * 60_000); // 28 min after first use, timestamp still valid
    expect(errCode(verifyEcsRequest(raw, keys, nonces, replayAt))).toBe('SignatureNonceUsed');
  });
});
