/**
 * Bucket management of the local OSS (PutBucket, DeleteBucket, GetBucketInfo, ListBuckets) driven
 * by the real ali-oss client, with V1 and V4 signatures. The expected answers are the OSS API
 * pages': a name taken by another account is BucketAlreadyExists (409) while the owner's own
 * PutBucket succeeds again; a bucket with objects is BucketNotEmpty (409); names break the rules
 * with InvalidBucketName (400); GetBucketInfo answers any endpoint, but only the owner.
 */
import type OSS from 'ali-oss';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKET, ossForDescribe, rejection, SIGNATURE_VERSIONS, startTestOss } from './oss-test-cloud.ts';

const ACCOUNT = '1234567890123456';
const OTHER_ACCOUNT = '5555666677778888';

/** What ali-oss 6.23 listBuckets resolves to (lib/bucket.js; @types/ali-oss declares an array). */
interface BucketList {
  buckets: { name: string; region: string; creationDate: string; storageClass: string }[] | null;
  owner: { id: string; displayName: string };
  isTruncated: boolean;
  nextMarker: string | null;
}
function listBuckets(oss: OSS, query: Record<string, unknown>): Promise<BucketList> {
  return (oss as unknown as { listBuckets(q: Record<string, unknown>): Promise<BucketList> }).listBuckets(query);
}

/** ali-oss's own request path for a bucket-level call, without putBucket's client-side name check. */
function rawBucketRequest(oss: OSS, method: string, bucket: string): Promise<unknown> {
  const client = oss as unknown as { _bucketRequestParams(m: string, b: string, s: string, o: object): Record<string, unknown>; request(p: object): Promise<unknown> };
  return client.request({ ...client._bucketRequestParams(method, bucket, '', {}), successStatuses: [200] });
}

describe.each(SIGNATURE_VERSIONS)('ali-oss bucket management with $mode signatures', ({ authorizationV4 }) => {
  const bed = ossForDescribe(
    { keyAccounts: { OTHER: OTHER_ACCOUNT }, buckets: [BUCKET, { name: 'beijing-logs', region: 'cn-beijing' }, { name: 'their-bucket', ownerAccountId: OTHER_ACCOUNT }] },
    { authorizationV4 },
  );
  let other: OSS;

  beforeAll(() => {
    other = bed.t.client({ authorizationV4, accessKeyId: 'OTHER', accessKeySecret: 'other-secret' });
  });

  it('putBucket creates a bucket in this region owned by the caller; getBucketInfo describes it; objects go in', async () => {
    const before = Date.now() - 1000;
    const put = await bed.oss.putBucket('made-by-test');
    expect(put.res.status).toBe(200);
    expect(put.bucket).toBe('made-by-test');

    const { bucket } = (await bed.oss.getBucketInfo('made-by-test')) as unknown as { bucket: Record<string, any> };
    expect(bucket).toMatchObject({
      Name: 'made-by-test',
      Location: 'oss-cn-hangzhou',
      ExtranetEndpoint: 'oss-cn-hangzhou.aliyuncs.com',
      IntranetEndpoint: 'oss-cn-hangzhou-internal.aliyuncs.com',
      StorageClass: 'Standard',
      DataRedundancyType: 'LRS',
      Owner: { ID: ACCOUNT, DisplayName: ACCOUNT },
      AccessControlList: { Grant: 'private' },
    });
    expect(Date.parse(bucket.CreationDate)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(bucket.CreationDate)).toBeLessThanOrEqual(Date.now());

    const inNew = bed.t.client({ authorizationV4, bucket: 'made-by-test' });
    await inNew.put('hello.txt', Buffer.from('hi'));
    expect((await inNew.get('hello.txt')).content.toString()).toBe('hi');
  });

  it('putBucket takes the storage class, redundancy type and ACL it is given', async () => {
    await bed.oss.putBucket('cold-archive-test', { StorageClass: 'IA', acl: 'public-read', dataRedundancyType: 'ZRS' } as any);
    const { bucket } = (await bed.oss.getBucketInfo('cold-archive-test')) as unknown as { bucket: Record<string, any> };
    expect(bucket).toMatchObject({ StorageClass: 'IA', DataRedundancyType: 'ZRS', AccessControlList: { Grant: 'public-read' } });
    await bed.oss.deleteBucket('cold-archive-test');
  });

  it('putBucket of a name another account holds is BucketAlreadyExists (409); the owner may repeat it', async () => {
    const taken = await rejection(other.putBucket(BUCKET));
    expect(taken).toMatchObject({ name: 'BucketAlreadyExistsError', code: 'BucketAlreadyExists', status: 409 });
    expect(((await bed.oss.putBucket(BUCKET)) as unknown as { res: { status: number } }).res.status).toBe(200);
    // The owner cannot change what a bucket was made as.
    const storage = await rejection(bed.oss.putBucket(BUCKET, { StorageClass: 'Archive' } as any));
    expect(storage).toMatchObject({ code: 'BucketAlreadyExists', status: 409 });
    expect(storage.message).toContain('storage class');
    const moved = await rejection(bed.oss.putBucket('beijing-logs'));
    expect(moved).toMatchObject({ code: 'BucketAlreadyExists', status: 409 });
    expect(moved.message).toContain("can't modify location");
    expect(bed.t.emulator.store.bucketInfo(BUCKET)).toMatchObject({ ownerAccountId: ACCOUNT, storageClass: 'Standard' });
  });

  it('deleteBucket refuses a bucket with objects (BucketNotEmpty 409), then deletes it once empty', async () => {
    await bed.oss.putBucket('to-delete');
    const inIt = bed.t.client({ authorizationV4, bucket: 'to-delete' });
    await inIt.put('left-behind.txt', Buffer.from('x'));

    const notEmpty = await rejection(bed.oss.deleteBucket('to-delete'));
    expect(notEmpty).toMatchObject({ name: 'BucketNotEmptyError', code: 'BucketNotEmpty', status: 409 });
    expect(bed.t.emulator.store.hasBucket('to-delete')).toBe(true);

    await inIt.delete('left-behind.txt');
    expect(((await bed.oss.deleteBucket('to-delete')) as unknown as { res: { status: number } }).res.status).toBe(204);
    expect(bed.t.emulator.store.hasBucket('to-delete')).toBe(false);
    expect(await rejection(bed.oss.getBucketInfo('to-delete'))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    expect(await rejection(bed.oss.deleteBucket('to-delete'))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    expect(await rejection(inIt.put('again.txt', Buffer.from('y')))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    // The name is free again, and the new bucket starts empty.
    await bed.oss.putBucket('to-delete');
    expect((await inIt.list({ 'max-keys': 10 }, {})).objects ?? []).toEqual([]);
    await bed.oss.deleteBucket('to-delete');
  });

  it('names against the rules are InvalidBucketName (400) on the service side too', async () => {
    // Upper case cannot be sent at all: a host name is case-insensitive, so the bucket arrives lower-cased.
    for (const name of ['under_score', '-starts-with-hyphen', 'ends-with-hyphen-', 'ab', 'a'.repeat(64)]) {
      expect(await rejection(rawBucketRequest(bed.oss, 'PUT', name)), name).toMatchObject({ code: 'InvalidBucketName', status: 400 });
      expect(bed.t.emulator.store.hasBucket(name)).toBe(false);
    }
    expect(await rejection(bed.oss.getBucketInfo('under_score'))).toMatchObject({ code: 'InvalidBucketName', status: 400 });
    expect(await rejection(bed.oss.deleteBucket('under_score'))).toMatchObject({ code: 'InvalidBucketName', status: 400 });
    // ali-oss checks the name itself before creating, so its own putBucket never sends one.
    await expect(bed.oss.putBucket('Not_Valid')).rejects.toThrow('The bucket must be conform to the specifications');
  });

  it('listBuckets lists the caller’s buckets of every region, with prefix and max-keys paging', async () => {
    await bed.oss.putBucket('list-a1');
    await bed.oss.putBucket('list-a2');
    await bed.oss.putBucket('list-a3');
    const all = await listBuckets(bed.oss, {});
    const names = (all.buckets ?? []).map((b) => b.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining([BUCKET, 'beijing-logs', 'list-a1', 'list-a2', 'list-a3']));
    expect(names).not.toContain('their-bucket');
    expect(all.owner).toEqual({ id: ACCOUNT, displayName: ACCOUNT });
    expect(all.isTruncated).toBe(false);
    expect(all.buckets!.find((b) => b.name === 'beijing-logs')).toMatchObject({ region: 'oss-cn-beijing', storageClass: 'Standard' });

    const first = await listBuckets(bed.oss, { prefix: 'list-a', 'max-keys': 2 });
    expect(first.buckets!.map((b) => b.name)).toEqual(['list-a1', 'list-a2']);
    expect(first).toMatchObject({ isTruncated: true, nextMarker: 'list-a2' });
    const rest = await listBuckets(bed.oss, { prefix: 'list-a', marker: first.nextMarker!, 'max-keys': 2 });
    expect(rest.buckets!.map((b) => b.name)).toEqual(['list-a3']);
    expect(rest.isTruncated).toBe(false);

    const theirs = await listBuckets(other, {});
    expect((theirs.buckets ?? []).map((b) => b.name)).toEqual(['their-bucket']);
    expect(theirs.owner.id).toBe(OTHER_ACCOUNT);
  });

  it('another account’s bucket: GetBucketInfo and object calls are AccessDenied with OSS’s message', async () => {
    const info = await rejection(bed.oss.getBucketInfo('their-bucket'));
    expect(info).toMatchObject({ name: 'AccessDeniedError', code: 'AccessDenied', status: 403 });
    expect(info.message).toContain('The bucket you access does not belong to you.');
    expect(await rejection(bed.t.client({ authorizationV4, bucket: 'their-bucket' }).put('x.txt', Buffer.from('x')))).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(await rejection(bed.oss.deleteBucket('their-bucket'))).toMatchObject({ code: 'AccessDenied', status: 403 });
    const { bucket } = (await other.getBucketInfo('their-bucket')) as unknown as { bucket: Record<string, any> };
    expect(bucket.Owner).toEqual({ ID: OTHER_ACCOUNT, DisplayName: OTHER_ACCOUNT });
  });

  it('a bucket of another region answers GetBucketInfo here, but object calls must go to its own endpoint', async () => {
    const { bucket } = (await bed.oss.getBucketInfo('beijing-logs')) as unknown as { bucket: Record<string, any> };
    expect(bucket).toMatchObject({ Location: 'oss-cn-beijing', ExtranetEndpoint: 'oss-cn-beijing.aliyuncs.com' });
    const put = await rejection(bed.t.client({ authorizationV4, bucket: 'beijing-logs' }).put('x.txt', Buffer.from('x')));
    expect(put).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(put.message).toContain('specified endpoint');
  });
});

describe('bucket persistence', () => {
  it('buckets made through the API survive a restart with their settings; a deleted one stays deleted', async () => {
    const t = await startTestOss({ buckets: [] });
    try {
      const oss = t.client();
      await oss.putBucket('kept-bucket', { StorageClass: 'IA' } as any);
      await oss.putBucket('gone-bucket');
      await oss.deleteBucket('gone-bucket');
      const before = t.emulator.store.bucketInfo('kept-bucket')!;
      await t.emulator.restart();
      expect(t.emulator.store.bucketInfo('kept-bucket')).toEqual(before);
      expect(t.emulator.store.hasBucket('gone-bucket')).toBe(false);
      const { bucket } = (await oss.getBucketInfo('kept-bucket')) as unknown as { bucket: Record<string, any> };
      expect(bucket).toMatchObject({ StorageClass: 'IA', CreationDate: new Date(before.creationDate).toISOString() });
      expect((await listBuckets(oss, {})).buckets!.map((b) => b.name)).toEqual(['kept-bucket']);
    } finally {
      await t.close();
    }
  });
});
