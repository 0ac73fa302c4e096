/**
 * The local OSS service beyond the basic SDK calls: signed URLs fetched with plain `fetch`, the wire
 * shape of errors, persistence across restarts and crash leftovers, large streamed objects, limits,
 * and the repository's own `AliOssStore` against it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type OSS from 'ali-oss';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { AK, BUCKET, putOptions, REGION, rejection, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const parseXml = (text: string): Record<string, any> => new XMLParser({ parseTagValue: false }).parse(text) as Record<string, any>;

/** A client that can sign URLs: ali-oss refuses `signatureUrl` on an IP endpoint, so it uses `localhost` path style. */
function urlSigner(t: TestOss): OSS {
  return t.client({ endpoint: `http://localhost:${t.emulator.port}`, sldEnable: true });
}

describe('signed URLs fetched without an SDK', () => {
  let t: TestOss;
  beforeAll(async () => {
    t = await startTestOss();
    await t.client().put('reports/r-1/report.html', Buffer.from('<h1>report</h1>'), { mime: 'text/html' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('ali-oss itself refuses signatureUrl on the IP endpoint (why a localhost path-style signer is needed)', () => {
    expect(() => t.client().signatureUrl('reports/r-1/report.html')).toThrow(/endpoint is IP/);
  });

  it('a V1 signatureUrl works with plain fetch, including response-* overrides', async () => {
    const url = urlSigner(t).signatureUrl('reports/r-1/report.html', { expires: 600 });
    expect(new URL(url).pathname).toBe(`/${BUCKET}/reports/r-1/report.html`);
    expect(new URL(url).searchParams.get('OSSAccessKeyId')).toBe(AK);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html');
    expect(await res.text()).toBe('<h1>report</h1>');

    const download = urlSigner(t).signatureUrl('reports/r-1/report.html', {
      response: { 'content-disposition': 'attachment; filename="report.html"', 'content-type': 'application/octet-stream' },
    });
    const dl = await fetch(download);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-disposition')).toBe('attachment; filename="report.html"');
    expect(dl.headers.get('content-type')).toBe('application/octet-stream');

    // A header value cannot carry UTF-8; the RFC 5987 form is the way to name such a file.
    const utf8Name = urlSigner(t).signatureUrl('reports/r-1/report.html', { response: { 'content-disposition': 'attachment; filename="报告.html"' } });
    const refused = await fetch(utf8Name);
    expect(refused.status).toBe(400);
    expect(parseXml(await refused.text()).Error.Code).toBe('InvalidArgument');
  });

  it('the same URL on 127.0.0.1 works too (path style on a bare host)', async () => {
    const url = new URL(urlSigner(t).signatureUrl('reports/r-1/report.html'));
    url.hostname = '127.0.0.1';
    expect((await fetch(url)).status).toBe(200);
  });

  it('an expired V1 URL is AccessDenied "Request has expired."', async () => {
    const url = urlSigner(t).signatureUrl('reports/r-1/report.html', { expires: -10 });
    const res = await fetch(url);
    expect(res.status).toBe(403);
    const body = parseXml(await res.text());
    expect(body.Error).toMatchObject({ Code: 'AccessDenied', Message: 'Request has expired.', EC: '0002-00000069' });
  });

  it('a URL whose key or signature was changed is SignatureDoesNotMatch; no signature at all is AccessDenied', async () => {
    const url = new URL(urlSigner(t).signatureUrl('reports/r-1/report.html'));
    url.pathname = `/${BUCKET}/reports/r-2/report.html`;
    const tampered = await fetch(url);
    expect(tampered.status).toBe(403);
    expect(parseXml(await tampered.text()).Error.Code).toBe('SignatureDoesNotMatch');

    const bare = await fetch(`${t.emulator.endpoint}/${BUCKET}/reports/r-1/report.html`);
    expect(bare.status).toBe(403);
    expect(parseXml(await bare.text()).Error.Code).toBe('AccessDenied');
  });

  it('a V4 signatureUrlV4 works with plain fetch (IP endpoint + sldEnable)', async () => {
    const v4 = t.client({ authorizationV4: true, sldEnable: true });
    const url = await v4.signatureUrlV4('GET', 600, undefined, 'reports/r-1/report.html');
    expect(new URL(url).searchParams.get('x-oss-signature-version')).toBe('OSS4-HMAC-SHA256');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<h1>report</h1>');

    const forged = new URL(url);
    forged.searchParams.set('x-oss-signature', '0'.repeat(64));
    expect((await fetch(forged)).status).toBe(403);
  });

  it('errors on the wire: XML body with request id for GET, no body but x-oss-err for HEAD', async () => {
    const get = await fetch(urlSigner(t).signatureUrl('reports/missing.html'));
    expect(get.status).toBe(404);
    expect(get.headers.get('content-type')).toBe('application/xml');
    const requestId = get.headers.get('x-oss-request-id');
    const xml = await get.text();
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><Error>')).toBe(true);
    expect(parseXml(xml).Error).toEqual({
      Code: 'NoSuchKey',
      Message: 'The specified key does not exist.',
      RequestId: requestId,
      HostId: `${BUCKET}.${REGION}.aliyuncs.com`,
      Key: 'reports/missing.html',
      EC: '0026-00000001',
      RecommendDoc: 'https://api.aliyun.com/troubleshoot?q=0026-00000001',
    });

    const head = await fetch(urlSigner(t).signatureUrl('reports/missing.html', { method: 'HEAD' as 'GET' }), { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await head.text()).toBe('');
    const fromHeader = parseXml(Buffer.from(head.headers.get('x-oss-err')!, 'base64').toString('utf8'));
    expect(fromHeader.Error).toMatchObject({ Code: 'NoSuchKey', RequestId: head.headers.get('x-oss-request-id') });

    const patch = await fetch(urlSigner(t).signatureUrl('reports/r-1/report.html', { method: 'PATCH' as 'PUT' }), { method: 'PATCH' });
    expect(patch.status).toBe(405);
    expect(parseXml(await patch.text()).Error.Code).toBe('MethodNotAllowed');
  });
});

// Both ways of committing an object: with fsync (the standalone emulator) and without (the local cloud).
describe.each([{ fsync: true }, { fsync: false }])('persistence on disk (fsync $fsync)', ({ fsync }) => {
  it('restart() stops the service and starts it again on the same endpoint and data, refusing requests while down', async () => {
    const t = await startTestOss({ fsync });
    try {
      const oss = t.client({ timeout: 2000 });
      await oss.put('keep/before.txt', Buffer.from('before'));
      const { endpoint } = t.emulator;
      let whileDown: unknown;
      await t.emulator.restart(async () => {
        expect(t.emulator.up).toBe(false);
        whileDown = await rejection(oss.get('keep/before.txt'));
      });
      // Refused, or cut on a kept-alive socket the client had not yet seen close: no answer either way.
      expect((whileDown as Error).message).toMatch(/ECONNREFUSED|socket hang up|ECONNRESET/);
      expect([t.emulator.up, t.emulator.endpoint]).toEqual([true, endpoint]);
      // The same client keeps working: what was committed is there, and the store behind the handle is the new one.
      expect((await oss.get('keep/before.txt')).content.toString()).toBe('before');
      await oss.put('keep/after.txt', Buffer.from('after'));
      expect(t.emulator.store.list(BUCKET, 'keep/')).toEqual(['keep/after.txt', 'keep/before.txt']);
    } finally {
      await t.close();
    }
    expect(t.emulator.up).toBe(false);
    await expect(t.emulator.restart()).rejects.toThrow(/closed/);
  });

  it('objects, metadata and ETags survive a restart on the same dataDir; crash leftovers are swept', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-oss-test-'));
    const first = await startTestOss({ fsync, dataDir });
    let second: TestOss | undefined;
    try {
      const oss = first.client();
      await oss.put('keep/a.json', Buffer.from('{"a":1}'), putOptions({ mime: 'application/json', meta: { run: 'r-9' } }));
      await oss.put('keep/b.txt', Buffer.from('bee'));
      await oss.put('keep/b.txt', Buffer.from('bee v2'));
      await oss.put('gone.txt', Buffer.from('x'));
      await oss.delete('gone.txt');
      const before = first.emulator.store.head(BUCKET, 'keep/a.json')!;
      await first.close(true);

      // The layout: the bucket's log, no file per object; keys live inside the records.
      const logDir = path.join(first.dataDir, BUCKET, 'log');
      const segments = await readdir(logDir);
      expect(segments).toEqual(['00000001.seg']);
      const segment = path.join(logDir, segments[0]!);
      const raw = await readFile(segment);
      expect(raw.includes(Buffer.from('"key":"keep/a.json"'))).toBe(true);
      expect(raw.includes(Buffer.from('"op":"delete","key":"gone.txt"'))).toBe(true);
      const wholeBytes = raw.length;

      // What a crash can leave behind: a half-written upload, and an append cut short (a frame head, part of a header).
      await writeFile(path.join(first.dataDir, BUCKET, 'tmp', 'half.upload'), 'partial');
      await appendFile(segment, Buffer.concat([Buffer.from('OSL1'), Buffer.from([200, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"op":"put","key":"torn.txt"')]));

      second = await startTestOss({ fsync, dataDir, buckets: [] });
      const again = second.client();
      const a = await again.get('keep/a.json');
      expect(a.content.toString()).toBe('{"a":1}');
      expect(a.res.headers).toMatchObject({ 'content-type': 'application/json', 'x-oss-meta-run': 'r-9', etag: `"${before.etag}"` });
      expect((await again.head('keep/a.json')).res.headers).toMatchObject({ 'last-modified': new Date(before.lastModified).toUTCString() });
      expect((await again.get('keep/b.txt')).content.toString()).toBe('bee v2');
      expect((await rejection(again.get('gone.txt'))).name).toBe('NoSuchKeyError');
      const listed = await again.listV2({ prefix: 'keep/' } as OSS.ListV2ObjectsQuery, {});
      expect(listed.objects.map((o) => o.name)).toEqual(['keep/a.json', 'keep/b.txt']);
      expect((await rejection(again.get('torn.txt'))).name).toBe('NoSuchKeyError');
      expect(await readdir(path.join(first.dataDir, BUCKET, 'tmp'))).toEqual([]);
      expect((await stat(segment)).size).toBe(wholeBytes);
      expect(second.lines.some((l) => /cut \d+ byte\(s\) after the last whole record \(incomplete header\)/.test(l))).toBe(true);

      // Appends after the cut follow the last whole record, and survive the next restart.
      await again.put('keep/c.txt', Buffer.from('after the crash'));
      await second.close(true);
      second = await startTestOss({ fsync, dataDir, buckets: [] });
      expect((await second.client().get('keep/c.txt')).content.toString()).toBe('after the crash');
      expect((await second.client().get('keep/b.txt')).content.toString()).toBe('bee v2');
    } finally {
      await first.close(true);
      await second?.close(true);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe.each([{ fsync: true }, { fsync: false }])('large objects and limits (fsync $fsync)', ({ fsync }) => {
  let t: TestOss;
  beforeAll(async () => {
    t = await startTestOss({ fsync });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a 20 MB object goes up and comes back intact (Buffer put, streamed download)', async () => {
    const body = randomBytes(20 * 1024 * 1024);
    const oss = t.client({ timeout: 20_000 });
    const put = await oss.put('big/20mb.bin', body);
    expect(put.res.headers).toMatchObject({ etag: `"${md5(body).toUpperCase()}"` });
    expect(t.emulator.store.head(BUCKET, 'big/20mb.bin')?.size).toBe(body.length);

    const { stream, res } = await oss.getStream('big/20mb.bin');
    expect(res.status).toBe(200);
    const hash = createHash('md5');
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    expect(size).toBe(body.length);
    expect(hash.digest('hex')).toBe(md5(body));
  });

  it('a 20 MB chunked upload without Content-Length (putStream) is stored byte for byte', async () => {
    const hash = createHash('md5');
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 20; i++) {
        const chunk = randomBytes(1024 * 1024);
        hash.update(chunk);
        yield chunk;
      }
    }
    const oss = t.client({ authorizationV4: true, timeout: 20_000 });
    await oss.putStream('big/chunked.bin', Readable.from(chunks()));
    const expected = hash.digest('hex');
    const record = t.emulator.store.head(BUCKET, 'big/chunked.bin')!;
    expect(record.size).toBe(20 * 1024 * 1024);
    expect(record.etag).toBe(expected.toUpperCase());
    expect(md5((await oss.get('big/chunked.bin')).content as Buffer)).toBe(expected);
  });

  it('x-oss-hash-crc64ecma is CRC-64/ECMA-182 (check value of "123456789")', async () => {
    const put = await t.client().put('crc.txt', Buffer.from('123456789'));
    expect((put.res.headers as Record<string, string>)['x-oss-hash-crc64ecma']).toBe('11051210869376104954');
  });

  it('a Content-MD5 that does not match the body is InvalidDigest and nothing is stored', async () => {
    const wrong = createHash('md5').update('something else').digest('base64');
    const err = await rejection(t.client().put('digest.txt', Buffer.from('body'), { headers: { 'Content-MD5': wrong } }));
    expect(err).toMatchObject({ name: 'InvalidDigestError', status: 400 });
    expect(t.emulator.store.head(BUCKET, 'digest.txt')).toBeUndefined();
  });

  it('parallel forbid-overwrite PUTs of one key: exactly one wins', async () => {
    const oss = t.client();
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => oss.put('race.txt', Buffer.from(`writer ${i}`), { headers: { 'x-oss-forbid-overwrite': 'true' } })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(losers.map((r) => (r.reason as Error).name)).toEqual(Array(5).fill('FileAlreadyExistsError'));
    const winner = results.findIndex((r) => r.status === 'fulfilled');
    expect((await oss.get('race.txt')).content.toString()).toBe(`writer ${winner}`);
  });

  it('EntityTooLarge above maxObjectBytes, declared or chunked, and the connection stays usable', async () => {
    const small = await startTestOss({ fsync, maxObjectBytes: 1024 });
    try {
      const oss = small.client();
      expect(await rejection(oss.put('too-big.bin', Buffer.alloc(2048)))).toMatchObject({ name: 'EntityTooLargeError', status: 400 });
      expect(await rejection(oss.putStream('too-big-stream.bin', Readable.from([Buffer.alloc(900), Buffer.alloc(900), Buffer.alloc(900)])))).toMatchObject({
        name: 'EntityTooLargeError',
        status: 400,
      });
      expect(small.emulator.store.list(BUCKET)).toEqual([]);
      expect(await readdir(path.join(small.dataDir, BUCKET, 'tmp'))).toEqual([]);
      await oss.put('fits.bin', Buffer.alloc(1024));
      expect(small.emulator.store.head(BUCKET, 'fits.bin')?.size).toBe(1024);
    } finally {
      await small.close();
    }
  });
});

describe("the repository's AliOssStore against the emulator", () => {
  let t: TestOss;
  beforeAll(async () => {
    t = await startTestOss();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([false, true])('put / forbidOverwrite / get / list / delete (authorizationV4: %s)', async (authorizationV4) => {
    const store = new AliOssStore({ bucket: BUCKET, region: REGION, credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: t.emulator.endpoint, authorizationV4 });
    const prefix = `port-${authorizationV4 ? 'v4' : 'v1'}/`;
    expect(await store.put(`${prefix}a.json`, '{"a":1}', { contentType: 'application/json', forbidOverwrite: true })).toBe('written');
    expect(await store.put(`${prefix}a.json`, '{"a":2}', { forbidOverwrite: true })).toBe('exists');
    expect((await store.get(`${prefix}a.json`))?.toString()).toBe('{"a":1}');
    expect(await store.get(`${prefix}missing.json`)).toBeUndefined();
    await store.put(`${prefix}b.txt`, Buffer.from('b'));
    const listed: string[] = [];
    for await (const o of store.list(prefix)) listed.push(o.key);
    expect(listed).toEqual([`${prefix}a.json`, `${prefix}b.txt`]);
    const everything: string[] = [];
    for await (const o of store.list('')) everything.push(o.key);
    expect(everything).toEqual(expect.arrayContaining(listed));
    await store.delete(`${prefix}a.json`);
    expect(await store.get(`${prefix}a.json`)).toBeUndefined();
  });
});
