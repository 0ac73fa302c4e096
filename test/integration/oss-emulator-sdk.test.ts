/**
 * The local OSS service driven by the real ali-oss 6.23.0 client, once with V1 signatures (the
 * default) and once with V4 (`authorizationV4: true`).
 */
import { createHash } from 'node:crypto';
import type OSS from 'ali-oss';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKET, ossForDescribe, putOptions, rejection, SIGNATURE_VERSIONS } from './oss-test-cloud.ts';

const md5Upper = (b: Buffer): string => createHash('md5').update(b).digest('hex').toUpperCase();

describe.each(SIGNATURE_VERSIONS)('ali-oss with $mode signatures', ({ authorizationV4 }) => {
  const bed = ossForDescribe({}, { authorizationV4 });

  it('put/get/head/delete round trip with Content-Type, metadata and ETag', async () => {
    const body = Buffer.from(JSON.stringify({ run: 'r-1', ok: true }));
    const put = await bed.oss.put('runs/r-1/summary.json', body, putOptions({ mime: 'application/json', meta: { owner: 'probe', run: 'r-1' } }));
    expect(put.res.status).toBe(200);
    expect(put.res.headers).toMatchObject({ etag: `"${md5Upper(body)}"` });
    expect((put.res.headers as Record<string, string>)['x-oss-request-id']).toMatch(/^[0-9A-F]{24}$/);

    const got = await bed.oss.get('runs/r-1/summary.json');
    expect(got.res.status).toBe(200);
    expect(Buffer.compare(got.content as Buffer, body)).toBe(0);
    expect(got.res.headers).toMatchObject({
      'content-type': 'application/json',
      etag: `"${md5Upper(body)}"`,
      'content-length': String(body.length),
      'x-oss-meta-owner': 'probe',
      'x-oss-meta-run': 'r-1',
    });
    expect(Date.parse((got.res.headers as Record<string, string>)['last-modified']!)).toBeGreaterThan(Date.now() - 60_000);

    const head = await bed.oss.head('runs/r-1/summary.json');
    expect(head.status).toBe(200);
    expect(head.meta).toEqual({ owner: 'probe', run: 'r-1' });
    expect(head.res.headers).toMatchObject({ 'content-length': String(body.length), 'content-type': 'application/json' });

    const del = await bed.oss.delete('runs/r-1/summary.json');
    expect(del.res.status).toBe(204);
    expect((await rejection(bed.oss.get('runs/r-1/summary.json'))).name).toBe('NoSuchKeyError');
    // Deleting what is not there is still a success, as on OSS.
    expect((await bed.oss.delete('runs/r-1/summary.json')).res.status).toBe(204);
    expect(bed.t.emulator.store.list(BUCKET, 'runs/r-1/')).toEqual([]);
  });

  it.each([
    'dir/a b+c/数据.json',
    'plus+and space/100%.txt',
    "it's (a) test!*~.txt",
    'q?x=1&y#frag;semi:colon,comma@at$dollar=eq.txt',
    'emoji/😀/ünïcödé.bin',
  ])('stores and reads back the key %j exactly', async (key) => {
    const body = Buffer.from(`body of ${key}`);
    await bed.oss.put(key, body);
    expect(bed.t.emulator.store.list(BUCKET)).toContain(key);
    expect((await bed.oss.get(key)).content.toString()).toBe(`body of ${key}`);
    expect((await bed.oss.head(key)).status).toBe(200);
    const listed = await bed.oss.listV2({ prefix: key, 'max-keys': '10' } as OSS.ListV2ObjectsQuery, {});
    expect(listed.objects.map((o) => o.name)).toEqual([key]);
    await bed.oss.delete(key);
    expect(bed.t.emulator.store.head(BUCKET, key)).toBeUndefined();
  });

  it('range GET answers 206 with Content-Range; an unsatisfiable range is InvalidRange 416', async () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await bed.oss.put('range.bin', body);
    const part = await bed.oss.get('range.bin', { headers: { Range: 'bytes=10-19' } });
    expect(part.res.status).toBe(206);
    expect([...(part.content as Buffer)]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(part.res.headers).toMatchObject({ 'content-range': 'bytes 10-19/256', 'content-length': '10' });

    const tail = await bed.oss.get('range.bin', { headers: { Range: 'bytes=-3' } });
    expect([...(tail.content as Buffer)]).toEqual([253, 254, 255]);
    const open = await bed.oss.get('range.bin', { headers: { Range: 'bytes=250-999' } });
    expect(open.res.headers).toMatchObject({ 'content-range': 'bytes 250-255/256' });

    const bad = await rejection(bed.oss.get('range.bin', { headers: { Range: 'bytes=256-' } }));
    expect({ name: bad.name, status: bad.status, code: bad.code }).toEqual({ name: 'InvalidRangeError', status: 416, code: 'InvalidRange' });
    // Not a single well-formed range: ignored, the whole object comes back.
    const ignored = await bed.oss.get('range.bin', { headers: { Range: 'bytes=1-2,5-6' } });
    expect(ignored.res.status).toBe(200);
    expect((ignored.content as Buffer).length).toBe(256);
  });

  it('x-oss-forbid-overwrite refuses an existing key with FileAlreadyExists and keeps the old bytes', async () => {
    const forbid = { headers: { 'x-oss-forbid-overwrite': 'true' } };
    await bed.oss.put('once.txt', Buffer.from('first'), forbid);
    const err = await rejection(bed.oss.put('once.txt', Buffer.from('second'), forbid));
    expect({ name: err.name, status: err.status, code: err.code }).toEqual({ name: 'FileAlreadyExistsError', status: 409, code: 'FileAlreadyExists' });
    expect(err.requestId).toMatch(/^[0-9A-F]{24}$/);
    expect((await bed.oss.get('once.txt')).content.toString()).toBe('first');
    // Without the header the same key is simply replaced.
    await bed.oss.put('once.txt', Buffer.from('third'));
    expect((await bed.oss.get('once.txt')).content.toString()).toBe('third');
  });

  it('NoSuchKey on GET (XML body) and on HEAD (no body), NoSuchBucket for an unknown bucket', async () => {
    const get = await rejection(bed.oss.get('missing/key.json'));
    expect(get).toMatchObject({ name: 'NoSuchKeyError', status: 404, code: 'NoSuchKey', ecCode: '0026-00000001', hostId: `${BUCKET}.oss-cn-hangzhou.aliyuncs.com` });
    expect(get.requestId).toMatch(/^[0-9A-F]{24}$/);

    const head = await rejection(bed.oss.head('missing/key.json'));
    expect(head).toMatchObject({ name: 'NoSuchKeyError', status: 404 });
    expect(head.requestId).toMatch(/^[0-9A-F]{24}$/);

    const other = bed.t.client({ authorizationV4, bucket: 'no-such-bucket' });
    const noBucket = await rejection(other.get('a.txt'));
    expect(noBucket).toMatchObject({ name: 'NoSuchBucketError', status: 404, code: 'NoSuchBucket', ecCode: '0015-00000101' });
    expect((await rejection(other.listV2({}, {}))).name).toBe('NoSuchBucketError');
    expect((await rejection(other.put('a.txt', Buffer.from('x')))).name).toBe('NoSuchBucketError');
  });

  describe('listing', () => {
    const pageKeys = Array.from({ length: 25 }, (_, i) => `page/k-${String(i).padStart(2, '0')}`);
    const treeKeys = ['tree/a/1', 'tree/a/2', 'tree/b/1', 'tree/c.txt', 'tree/d/x/y', 'tree/e.txt'];

    beforeAll(async () => {
      // Written in a shuffled order, so the listing order is the emulator's doing.
      for (const key of [...pageKeys, ...treeKeys].reverse()) await bed.oss.put(key, Buffer.from(key));
    });

    it('listV2 with a prefix returns the keys in order with the fields ali-oss reads', async () => {
      const res = await bed.oss.listV2({ prefix: 'tree/', 'max-keys': '100' } as OSS.ListV2ObjectsQuery, {});
      expect(res.objects.map((o) => o.name)).toEqual(treeKeys);
      expect(res.isTruncated).toBe(false);
      expect(res.keyCount).toBe(treeKeys.length);
      expect(res.prefixes).toBeNull();
      const first = res.objects[0]!;
      expect(first).toMatchObject({ etag: `"${md5Upper(Buffer.from('tree/a/1'))}"`, size: 8, type: 'Normal', storageClass: 'Standard', owner: null });
      expect(first.lastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    });

    it('listV2 with a delimiter rolls keys up into CommonPrefixes', async () => {
      const res = await bed.oss.listV2({ prefix: 'tree/', delimiter: '/' } as OSS.ListV2ObjectsQuery, {});
      expect(res.prefixes).toEqual(['tree/a/', 'tree/b/', 'tree/d/']);
      expect(res.objects.map((o) => o.name)).toEqual(['tree/c.txt', 'tree/e.txt']);
      expect(res.keyCount).toBe(5);
    });

    it('listV2 pages with continuation tokens over several pages, without gaps or repeats', async () => {
      const seen: string[] = [];
      const truncation: boolean[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const query: Record<string, string> = { prefix: 'page/', 'max-keys': '10' };
        if (token) query['continuation-token'] = token;
        const res = await bed.oss.listV2(query as OSS.ListV2ObjectsQuery, {});
        seen.push(...res.objects.map((o) => o.name));
        truncation.push(res.isTruncated);
        // ali-oss returns it, @types/ali-oss does not declare it.
        expect((res as typeof res & { continuationToken: string | null }).continuationToken).toBe(token);
        token = res.isTruncated ? res.nextContinuationToken : null;
        if (res.isTruncated) expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
        pages++;
      } while (token && pages < 10);
      expect(truncation).toEqual([true, true, false]);
      expect(seen).toEqual(pageKeys);
    });

    it('listV2 pages through CommonPrefixes one entry at a time without reporting a prefix twice', async () => {
      const entries: string[] = [];
      let token: string | null = null;
      for (let i = 0; i < 10; i++) {
        const query: Record<string, string> = { prefix: 'tree/', delimiter: '/', 'max-keys': '1' };
        if (token) query['continuation-token'] = token;
        const res = await bed.oss.listV2(query as OSS.ListV2ObjectsQuery, {});
        entries.push(...(res.prefixes ?? []), ...res.objects.map((o) => o.name));
        token = res.isTruncated ? res.nextContinuationToken : null;
        if (!token) break;
      }
      expect(entries).toEqual(['tree/a/', 'tree/b/', 'tree/c.txt', 'tree/d/', 'tree/e.txt']);
    });

    it('listV2 start-after, fetch-owner and an empty prefix', async () => {
      const after = await bed.oss.listV2({ prefix: 'page/', 'start-after': 'page/k-19', 'fetch-owner': true } as OSS.ListV2ObjectsQuery, {});
      expect(after.objects.map((o) => o.name)).toEqual(['page/k-20', 'page/k-21', 'page/k-22', 'page/k-23', 'page/k-24']);
      expect(after.objects[0]!.owner).toEqual({ id: '1234567890123456', displayName: '1234567890123456' });
      // `prefix: ''` is signed as `prefix=` by ali-oss V4 while a sub-resource would be signed bare.
      const all = await bed.oss.listV2({ prefix: '', 'max-keys': '1000' } as OSS.ListV2ObjectsQuery, {});
      expect(all.objects.map((o) => o.name)).toEqual(expect.arrayContaining([...pageKeys, ...treeKeys]));
    });

    it('listV2 rejects max-keys above 1000 and a forged continuation token', async () => {
      expect(await rejection(bed.oss.listV2({ 'max-keys': '1001' } as OSS.ListV2ObjectsQuery, {}))).toMatchObject({ name: 'InvalidArgumentError', status: 400 });
      expect(await rejection(bed.oss.listV2({ 'continuation-token': 'not a token' } as OSS.ListV2ObjectsQuery, {}))).toMatchObject({
        name: 'InvalidArgumentError',
        status: 400,
      });
    });

    it('lists in UTF-8 byte order (an astral character sorts after U+FF5E, unlike in UTF-16)', async () => {
      const keys = ['sort/z', 'sort/😀', 'sort/～', 'sort/é'];
      for (const key of keys) await bed.oss.put(key, Buffer.from('x'));
      const res = await bed.oss.listV2({ prefix: 'sort/' } as OSS.ListV2ObjectsQuery, {});
      expect(res.objects.map((o) => o.name)).toEqual(['sort/z', 'sort/é', 'sort/～', 'sort/😀']);
    });

    it('encoding-type=url percent-encodes keys and prefixes in the answer', async () => {
      await bed.oss.put('enc/a b/c&d.txt', Buffer.from('x'));
      const res = await bed.oss.listV2({ prefix: 'enc/', 'encoding-type': 'url' } as OSS.ListV2ObjectsQuery, {});
      expect(res.objects.map((o) => o.name)).toEqual(['enc%2Fa%20b%2Fc%26d.txt']);
      const rolled = await bed.oss.listV2({ prefix: 'enc/', delimiter: '/', 'encoding-type': 'url' } as OSS.ListV2ObjectsQuery, {});
      expect(rolled.prefixes).toEqual(['enc%2Fa%20b%2F']);
    });

    it('list (v1) works, with Owner on every entry and marker paging', async () => {
      const first = await bed.oss.list({ prefix: 'page/', 'max-keys': 10 }, {});
      expect(first.objects.map((o) => o.name)).toEqual(pageKeys.slice(0, 10));
      expect(first.objects[0]!.owner).toEqual({ id: '1234567890123456', displayName: '1234567890123456' });
      expect(first.isTruncated).toBe(true);
      expect(first.nextMarker).toBe('page/k-09');
      const second = await bed.oss.list({ prefix: 'page/', 'max-keys': 100, marker: first.nextMarker! }, {});
      expect(second.objects.map((o) => o.name)).toEqual(pageKeys.slice(10));
      expect(second.isTruncated).toBe(false);
      const tree = await bed.oss.list({ prefix: 'tree/', delimiter: '/', 'max-keys': 100 }, {});
      expect(tree.prefixes).toEqual(['tree/a/', 'tree/b/', 'tree/d/']);
    });
  });

  it('a wrong secret is SignatureDoesNotMatch and an unknown AccessKey id is InvalidAccessKeyId', async () => {
    await bed.oss.put('secret.txt', Buffer.from('x'));
    const wrong = await rejection(bed.t.client({ authorizationV4, accessKeySecret: 'not-the-secret' }).get('secret.txt'));
    expect(wrong).toMatchObject({ name: 'SignatureDoesNotMatchError', status: 403, code: 'SignatureDoesNotMatch', ecCode: '0002-00000040' });
    const wrongPut = await rejection(bed.t.client({ authorizationV4, accessKeySecret: 'not-the-secret' }).put('secret.txt', Buffer.from('overwritten')));
    expect(wrongPut.name).toBe('SignatureDoesNotMatchError');
    expect((await bed.oss.get('secret.txt')).content.toString()).toBe('x');

    const unknown = await rejection(bed.t.client({ authorizationV4, accessKeyId: 'LTAI-nobody', accessKeySecret: 'SK' }).get('secret.txt'));
    expect(unknown).toMatchObject({ name: 'InvalidAccessKeyIdError', status: 403, code: 'InvalidAccessKeyId' });
    // A second configured key pair is accepted too.
    expect((await bed.t.client({ authorizationV4, accessKeyId: 'OTHER', accessKeySecret: 'other-secret' }).get('secret.txt')).res.status).toBe(200);
  });

  it('a client clock 20 minutes off is RequestTimeTooSkewed', async () => {
    const skewed = bed.t.client({ authorizationV4, amendTimeSkewed: -20 * 60_000 });
    expect(await rejection(skewed.get('anything'))).toMatchObject({ name: 'RequestTimeTooSkewedError', status: 403 });
  });

  it('sldEnable: true (path style /<bucket>/<key>) reaches the same objects', async () => {
    const sld = bed.t.client({ authorizationV4, sldEnable: true });
    await sld.put('sld/path-style.txt', Buffer.from('via path style'), putOptions({ meta: { style: 'sld' } }));
    // Stored under the key itself, not under "<bucket>/sld/…".
    expect(bed.t.emulator.store.head(BUCKET, 'sld/path-style.txt')?.meta).toEqual({ style: 'sld' });
    expect((await bed.oss.get('sld/path-style.txt')).content.toString()).toBe('via path style');
    expect((await sld.head('sld/path-style.txt')).meta).toEqual({ style: 'sld' });
    const listed = await sld.listV2({ prefix: 'sld/' } as OSS.ListV2ObjectsQuery, {});
    expect(listed.objects.map((o) => o.name)).toEqual(['sld/path-style.txt']);
    await sld.delete('sld/path-style.txt');
    expect(bed.t.emulator.store.head(BUCKET, 'sld/path-style.txt')).toBeUndefined();
  });

  it('a virtual-hosted key that starts with the bucket name is not mistaken for path style', async () => {
    // On the wire this is `PUT /fleetrun-runs/nested.txt` with `Host: fleetrun-runs.oss-…`, exactly
    // what sldEnable sends for key "nested.txt"; only the signature tells them apart.
    await bed.oss.put(`${BUCKET}/nested.txt`, Buffer.from('virtual'));
    expect(bed.t.emulator.store.head(BUCKET, `${BUCKET}/nested.txt`)).toBeDefined();
    expect(bed.t.emulator.store.head(BUCKET, 'nested.txt')).toBeUndefined();
    const sld = bed.t.client({ authorizationV4, sldEnable: true });
    await sld.put('nested.txt', Buffer.from('path'));
    expect((await bed.oss.get(`${BUCKET}/nested.txt`)).content.toString()).toBe('virtual');
    expect((await bed.oss.get('nested.txt')).content.toString()).toBe('path');
  });

  it('a client configured for another region is refused, pointing at the right endpoint', async () => {
    const err = await rejection(bed.t.client({ authorizationV4, region: 'oss-cn-shanghai' }).get('anything'));
    expect(err).toMatchObject({ name: 'AccessDeniedError', status: 403 });
    expect(err.message).toContain('specified endpoint');
  });

  it('operations the emulator does not have answer NotImplemented instead of pretending', async () => {
    await bed.oss.put('acl.txt', Buffer.from('x'));
    expect(await rejection(bed.oss.getACL('acl.txt'))).toMatchObject({ name: 'NotImplementedError', status: 501 });
    expect(await rejection(bed.oss.copy('copy.txt', 'acl.txt'))).toMatchObject({ name: 'NotImplementedError', status: 501 });
    expect(bed.t.emulator.store.head(BUCKET, 'copy.txt')).toBeUndefined();
  });
});
