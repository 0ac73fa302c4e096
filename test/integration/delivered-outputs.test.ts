/**
 * Finding delivered outputs against the local OSS: a burst of events for one call's folder shares
 * a few listings, an output delivered after the last listing is found by listing again, and an
 * instance with nothing delivered is answered without waiting forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveredOutputIndex, outputBatchPrefix } from '../../shared/pipeline/output-sources.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { AK, BUCKET, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

let oss: TestOss;
let store: AliOssStore;
const folder = outputBatchPrefix('fleetrun-output/r-20261123t100000-abcdef/', 3);

beforeAll(async () => {
  oss = await startTestOss();
  store = new AliOssStore({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
  for (let n = 0; n < 20; n++) await store.put(`${folder}t-1/i-out${String(n).padStart(4, '0')}/1.log`, `output ${n}\n`);
});
afterAll(async () => oss.close());

/** The real store, with its listings counted on the way through. */
function countingStore(): { store: AliOssStore; listings: () => number } {
  let n = 0;
  const counted = Object.assign(Object.create(store) as AliOssStore, {
    list: (prefix: string) => {
      n++;
      return store.list(prefix);
    },
  });
  return { store: counted, listings: () => n };
}

describe('Class: DeliveredOutputIndex', () => {
  it('answers twenty concurrent requests for one folder with one listing', async () => {
    const counted = countingStore();
    const index = new DeliveredOutputIndex(counted.store);
    const found = await Promise.all(Array.from({ length: 20 }, (_, n) => index.find(folder, [`i-out${String(n).padStart(4, '0')}`])));
    expect(found.map((m) => [...m.values()][0])).toEqual(Array.from({ length: 20 }, (_, n) => `${folder}t-1/i-out${String(n).padStart(4, '0')}/1.log`));
    expect(counted.listings()).toBe(1);
    // Known now: asked again, nothing is listed.
    await index.find(folder, ['i-out0007']);
    expect(counted.listings()).toBe(1);
  });

  it('lists again for an output delivered after the last listing, and gives up on one never delivered', async () => {
    const counted = countingStore();
    const index = new DeliveredOutputIndex(counted.store);
    await index.find(folder, ['i-out0001']);
    await store.put(`${folder}t-1/i-late0001/1.log`, 'late\n');
    const late = await index.find(folder, ['i-late0001', 'i-never0001']);
    expect([...late]).toEqual([['i-late0001', `${folder}t-1/i-late0001/1.log`]]);
    expect(counted.listings()).toBe(2);
  });

  it('does not take a token that only contains the id for the id', async () => {
    const index = new DeliveredOutputIndex(store);
    expect((await index.find(folder, ['i-out000'])).size).toBe(0);
  });
});
