/**
 * AliOssStore after a connection reset (the local OSS closing a request's connection without an
 * answer, as a server closing an idle keep-alive connection just as it is reused): each call is
 * sent once more and succeeds; a second reset in a row is the caller's to see (ali-oss names it
 * ResponseError: "socket hang up").
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { AK, BUCKET, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

let oss: TestOss;
let store: AliOssStore;

beforeAll(async () => {
  oss = await startTestOss();
  store = new AliOssStore({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
});
afterEach(() => {
  oss.emulator.faults.reset = undefined;
});
afterAll(async () => oss.close());

/** Resets the next `count` requests of `action`, and counts every request of it. */
function resetNext(action: string, count: number): { seen: number } {
  const tally = { seen: 0 };
  let left = count;
  oss.emulator.faults.reset = (r) => {
    if (r.action !== action) return false;
    tally.seen++;
    return left-- > 0;
  };
  return tally;
}

describe('AliOssStore after a connection reset', () => {
  it('sends a write, a create-once write, a read and a listing once more, and each succeeds', async () => {
    const put = resetNext('PutObject', 1);
    expect(await store.put('resets/a.json', '{"a":1}')).toBe('written');
    expect(put.seen).toBe(2);

    const createOnce = resetNext('PutObject', 1);
    expect(await store.put('resets/b.json', '{"b":1}', { forbidOverwrite: true })).toBe('written');
    expect(createOnce.seen).toBe(2);

    const get = resetNext('GetObject', 1);
    expect((await store.get('resets/a.json'))!.toString()).toBe('{"a":1}');
    expect(get.seen).toBe(2);

    const list = resetNext('ListObjectsV2', 1);
    const keys: string[] = [];
    for await (const o of store.list('resets/')) keys.push(o.key);
    expect(keys).toEqual(['resets/a.json', 'resets/b.json']);
    expect(list.seen).toBe(2);
  });

  it('fails when the second attempt is reset too, and has written nothing', async () => {
    const put = resetNext('PutObject', 2);
    await expect(store.put('resets/c.json', '{"c":1}')).rejects.toMatchObject({ name: 'StoreError', code: 'ResponseError', message: expect.stringContaining('socket hang up') });
    expect(put.seen).toBe(2);
    oss.emulator.faults.reset = undefined;
    expect(await store.get('resets/c.json')).toBeUndefined();
  });
});
