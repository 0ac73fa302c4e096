/**
 * Bucket lifecycle rules in the local OSS, driven by the real ali-oss client: PutBucketLifecycle,
 * GetBucketLifecycle and DeleteBucketLifecycle round trips, the refusals OSS documents (with their
 * EC where a troubleshooting page gives one), persistence across a restart, preset buckets, RAM,
 * and the sweep that deletes expired objects, with a lifecycle day shortened to milliseconds.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOnce, type SweptStore } from '../../local/oss/lifecycle-sweep.ts';
import { DiskObjectStore } from '../../local/oss/store.ts';
import { RamIdentities } from '../../local/ram/identities.ts';
import { AK, BUCKET, ossForDescribe, rejection, SIGNATURE_VERSIONS, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

const ACCOUNT = '1234567890123456';
const DAY_MS = 86_400_000;

/** A rule as ali-oss 6.23 putBucketLifecycle takes it (@types/ali-oss still declares the old `days`/`date` shape). */
interface Rule {
  id?: string;
  prefix: string;
  status: string;
  expiration?: { days?: number | string; createdBeforeDate?: string };
  abortMultipartUpload?: { days?: number | string; createdBeforeDate?: string };
  transition?: { days?: number; storageClass: string };
}
interface LifecycleClient {
  putBucketLifecycle(name: string, rules: Rule[], options?: { headers?: Record<string, string> }): Promise<{ res: { status: number } }>;
  getBucketLifecycle(name: string): Promise<{ rules: Record<string, unknown>[] | null; res: { status: number } }>;
  deleteBucketLifecycle(name: string): Promise<{ res: { status: number } }>;
}
const lifecycle = (oss: OSS) => oss as unknown as LifecycleClient;

/** ali-oss's own signed request path with a body of our choosing: for documents the client would refuse to build. */
function putLifecycleXml(oss: OSS, bucket: string, xml: string, headers?: Record<string, string>): Promise<unknown> {
  const client = oss as unknown as { _bucketRequestParams(m: string, b: string, s: string, o: object): Record<string, unknown>; request(p: object): Promise<unknown> };
  return client.request({ ...client._bucketRequestParams('PUT', bucket, 'lifecycle', { headers }), content: xml, mime: 'xml', successStatuses: [200] });
}
const doc = (...rules: string[]) => `<?xml version="1.0" encoding="UTF-8"?>\n<LifecycleConfiguration>${rules.join('')}</LifecycleConfiguration>`;
const rule = (inner: string) => `<Rule>${inner}</Rule>`;

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(SIGNATURE_VERSIONS)('lifecycle API with $mode signatures', ({ authorizationV4 }) => {
  const bed = ossForDescribe({ keyAccounts: { OTHER: '5555666677778888' } }, { authorizationV4 });

  it('put, get and delete round trip; a put replaces the whole configuration', async () => {
    const none = await rejection(lifecycle(bed.oss).getBucketLifecycle(BUCKET));
    expect(none).toMatchObject({ name: 'NoSuchLifecycleError', code: 'NoSuchLifecycle', status: 404 });

    const put = await lifecycle(bed.oss).putBucketLifecycle(BUCKET, [
      { id: 'tmp', prefix: 'tmp/', status: 'Enabled', expiration: { days: 7 } },
      { prefix: 'backup/', status: 'Disabled', expiration: { createdBeforeDate: '2020-01-01T00:00:00.000Z' }, abortMultipartUpload: { days: 1 } },
    ]);
    expect(put.res.status).toBe(200);
    const got = await lifecycle(bed.oss).getBucketLifecycle(BUCKET);
    expect(got.res.status).toBe(200);
    expect(got.rules).toEqual([
      { id: 'tmp', prefix: 'tmp/', status: 'Enabled', expiration: { days: '7' } },
      { id: expect.stringMatching(/^[0-9a-f]{32}$/), prefix: 'backup/', status: 'Disabled', expiration: { createdBeforeDate: '2020-01-01T00:00:00.000Z' }, abortMultipartUpload: { days: '1' } },
    ]);

    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, [{ id: 'logs', prefix: 'logs/', status: 'Enabled', expiration: { days: '30' } }]);
    expect((await lifecycle(bed.oss).getBucketLifecycle(BUCKET)).rules).toEqual([{ id: 'logs', prefix: 'logs/', status: 'Enabled', expiration: { days: '30' } }]);

    expect((await lifecycle(bed.oss).deleteBucketLifecycle(BUCKET)).res.status).toBe(204);
    expect(await rejection(lifecycle(bed.oss).getBucketLifecycle(BUCKET))).toMatchObject({ code: 'NoSuchLifecycle', status: 404 });
    // OSS DeleteBucketLifecycle: 204 also when there is nothing to delete.
    expect((await lifecycle(bed.oss).deleteBucketLifecycle(BUCKET)).res.status).toBe(204);
  });

  it('keeps prefixes and IDs exactly, escaped characters and spaces included; an empty prefix is the whole bucket', async () => {
    await putLifecycleXml(
      bed.oss,
      BUCKET,
      doc(
        rule('<ID>a &amp; b</ID><Prefix> odd&lt;&#x41;&gt;/ </Prefix><Status>Enabled</Status><Expiration><Days>3</Days></Expiration>'),
        rule('<ID>uploads</ID><Prefix></Prefix><Status>Enabled</Status><AbortMultipartUpload><Days>2</Days></AbortMultipartUpload>'),
      ),
    );
    expect((await lifecycle(bed.oss).getBucketLifecycle(BUCKET)).rules).toEqual([
      { id: 'a & b', prefix: ' odd<A>/ ', status: 'Enabled', expiration: { days: '3' } },
      { id: 'uploads', prefix: '', status: 'Enabled', abortMultipartUpload: { days: '2' } },
    ]);
    await lifecycle(bed.oss).deleteBucketLifecycle(BUCKET);
  });

  it('answers NoSuchBucket for a bucket that does not exist, and AccessDenied for another account', async () => {
    expect(await rejection(lifecycle(bed.oss).getBucketLifecycle('no-such-bucket'))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
    const other = bed.t.client({ authorizationV4, accessKeyId: 'OTHER', accessKeySecret: 'other-secret' });
    const refused = await rejection(lifecycle(other).putBucketLifecycle(BUCKET, [{ prefix: 'x/', status: 'Enabled', expiration: { days: 1 } }]));
    expect(refused).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(await rejection(lifecycle(bed.oss).getBucketLifecycle(BUCKET))).toMatchObject({ code: 'NoSuchLifecycle' });
  });
});

describe('PutBucketLifecycle refusals', () => {
  const bed = ossForDescribe();
  const kept: Rule[] = [{ id: 'kept', prefix: 'kept/', status: 'Enabled', expiration: { days: 5 } }];

  beforeAll(async () => {
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, structuredClone(kept));
  });

  /** The error of a refused put; the rules set before stay as they were. */
  async function refused(put: Promise<unknown>): Promise<Error & Record<string, any>> {
    const e = await rejection(put);
    expect((await lifecycle(bed.oss).getBucketLifecycle(BUCKET)).rules).toEqual([{ id: 'kept', prefix: 'kept/', status: 'Enabled', expiration: { days: '5' } }]);
    return e;
  }

  it('MalformedXML: no rules, a body that is not XML or not a LifecycleConfiguration, a rule without Status', async () => {
    const empty = await refused(lifecycle(bed.oss).putBucketLifecycle(BUCKET, []));
    expect(empty).toMatchObject({ code: 'MalformedXML', status: 400 });
    expect(empty.message).toContain('no Rule');
    expect(await refused(putLifecycleXml(bed.oss, BUCKET, '<LifecycleConfiguration><Rule>'))).toMatchObject({ code: 'MalformedXML', status: 400 });
    expect(await refused(putLifecycleXml(bed.oss, BUCKET, '<CreateBucketConfiguration/>'))).toMatchObject({ code: 'MalformedXML' });
    const noStatus = await refused(putLifecycleXml(bed.oss, BUCKET, doc(rule('<ID>r</ID><Prefix>p/</Prefix><Expiration><Days>1</Days></Expiration>'))));
    expect(noStatus).toMatchObject({ code: 'MalformedXML', status: 400 });
    expect(noStatus.message).toBe('Rule 1 has no Status.');
  });

  it('InvalidArgument: a Status other than Enabled or Disabled', async () => {
    const e = await refused(putLifecycleXml(bed.oss, BUCKET, doc(rule('<Prefix>p/</Prefix><Status>On</Status><Expiration><Days>1</Days></Expiration>'))));
    expect(e).toMatchObject({ code: 'InvalidArgument', status: 400 });
    expect(e.message).toContain('Status must be Enabled or Disabled, got "On"');
  });

  it('InvalidArgument: an Expiration with neither Days nor CreatedBeforeDate, or with both (ECs 0014-00000060, -61)', async () => {
    const neither = await refused(putLifecycleXml(bed.oss, BUCKET, doc(rule('<Prefix>p/</Prefix><Status>Enabled</Status><Expiration></Expiration>'))));
    expect(neither).toMatchObject({ code: 'InvalidArgument', status: 400, ecCode: '0014-00000060' });
    expect(neither.message).toContain('needs Days or CreatedBeforeDate');
    const both = await refused(
      putLifecycleXml(bed.oss, BUCKET, doc(rule('<Prefix>p/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days><CreatedBeforeDate>2020-01-01T00:00:00.000Z</CreatedBeforeDate></Expiration>'))),
    );
    expect(both).toMatchObject({ code: 'InvalidArgument', ecCode: '0014-00000061' });
    expect(both.message).toContain('both Days and CreatedBeforeDate');
  });

  it('InvalidArgument: Days that are not a positive integer; a CreatedBeforeDate that is not a UTC midnight (EC 0014-00000087)', async () => {
    for (const days of ['0', '-1', '1.5', 'seven', '']) {
      const e = await refused(putLifecycleXml(bed.oss, BUCKET, doc(rule(`<Prefix>p/</Prefix><Status>Enabled</Status><Expiration><Days>${days}</Days></Expiration>`))));
      expect(e, days).toMatchObject({ code: 'InvalidArgument', status: 400 });
      expect(e.message, days).toContain(`Days must be a positive integer, got "${days}"`);
    }
    for (const date of ['2020-01-01', '2020-01-01T10:00:00.000Z', '2020-02-30T00:00:00.000Z']) {
      const e = await refused(
        putLifecycleXml(bed.oss, BUCKET, doc(rule(`<Prefix>p/</Prefix><Status>Enabled</Status><Expiration><CreatedBeforeDate>${date}</CreatedBeforeDate></Expiration>`))),
      );
      expect(e, date).toMatchObject({ code: 'InvalidArgument', ecCode: '0014-00000087' });
    }
  });

  it('InvalidArgument: duplicate IDs, an ID over 255 bytes, a rule without an action (EC 0014-00000026)', async () => {
    const dup = await refused(
      lifecycle(bed.oss).putBucketLifecycle(BUCKET, [
        { id: 'same', prefix: 'a/', status: 'Enabled', expiration: { days: 1 } },
        { id: 'same', prefix: 'b/', status: 'Enabled', expiration: { days: 2 } },
      ]),
    );
    expect(dup).toMatchObject({ code: 'InvalidArgument', status: 400 });
    expect(dup.message).toBe('Rules 1 and 2 have the same ID "same"; rule IDs must be unique.');
    const long = await refused(putLifecycleXml(bed.oss, BUCKET, doc(rule(`<ID>${'é'.repeat(128)}</ID><Prefix>p/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`))));
    expect(long).toMatchObject({ code: 'InvalidArgument' });
    expect(long.message).toContain('256 bytes');
    const noAction = await refused(putLifecycleXml(bed.oss, BUCKET, doc(rule('<ID>r</ID><Prefix>p/</Prefix><Status>Enabled</Status>'))));
    expect(noAction).toMatchObject({ code: 'InvalidArgument', ecCode: '0014-00000026' });
  });

  it('InvalidArgument: more than 1,000 rules (EC 0014-00000014); exactly 1,000 are accepted', async () => {
    const rules = (n: number): Rule[] => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, prefix: `p${i}/`, status: 'Enabled', expiration: { days: 1 } }));
    const tooMany = await refused(lifecycle(bed.oss).putBucketLifecycle(BUCKET, rules(1001)));
    expect(tooMany).toMatchObject({ code: 'InvalidArgument', ecCode: '0014-00000014' });
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, rules(1000));
    expect((await lifecycle(bed.oss).getBucketLifecycle(BUCKET)).rules).toHaveLength(1000);
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, structuredClone(kept));
  });

  it('InvalidArgument: equal prefixes, or overlapping ones with the same action, unless x-oss-allow-same-action-overlap is true (ECs 0014-00000085, -84)', async () => {
    const overlapping = (): Rule[] => [
      { id: 'all-logs', prefix: 'logs/', status: 'Enabled', expiration: { days: 30 } },
      { id: 'debug-logs', prefix: 'logs/debug/', status: 'Enabled', expiration: { days: 3 } },
    ];
    const overlap = await refused(lifecycle(bed.oss).putBucketLifecycle(BUCKET, overlapping()));
    expect(overlap).toMatchObject({ code: 'InvalidArgument', ecCode: '0014-00000084' });
    const equal = await refused(
      lifecycle(bed.oss).putBucketLifecycle(BUCKET, [
        { id: 'one', prefix: 'x/', status: 'Enabled', expiration: { days: 1 } },
        { id: 'two', prefix: 'x/', status: 'Enabled', abortMultipartUpload: { days: 1 } },
      ]),
    );
    expect(equal).toMatchObject({ code: 'InvalidArgument', ecCode: '0014-00000085' });
    // Overlapping prefixes with different actions need no header.
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, [
      { id: 'expire', prefix: 'up/', status: 'Enabled', expiration: { days: 9 } },
      { id: 'abort', prefix: 'up/parts/', status: 'Enabled', abortMultipartUpload: { days: 1 } },
    ]);
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, overlapping(), { headers: { 'x-oss-allow-same-action-overlap': 'true' } });
    expect((await lifecycle(bed.oss).getBucketLifecycle(BUCKET)).rules!.map((r) => r.id)).toEqual(['all-logs', 'debug-logs']);
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, structuredClone(kept));
  });

  it('NotImplemented for rule parts the emulator does not have; InvalidDigest for a body that does not match its Content-MD5', async () => {
    const transition = await refused(lifecycle(bed.oss).putBucketLifecycle(BUCKET, [{ prefix: 'cold/', status: 'Enabled', transition: { days: 30, storageClass: 'IA' } }]));
    expect(transition).toMatchObject({ code: 'NotImplemented', status: 501 });
    expect(transition.message).toContain('Transition');
    const body = doc(rule('<Prefix>p/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>'));
    const digest = await refused(putLifecycleXml(bed.oss, BUCKET, body, { 'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg==' }));
    expect(digest).toMatchObject({ code: 'InvalidDigest', status: 400 });
  });
});

describe('lifecycle persistence and presets', () => {
  it('rules survive a restart (kept in bucket.json)', async () => {
    const t = await startTestOss();
    try {
      const oss = t.client();
      await lifecycle(oss).putBucketLifecycle(BUCKET, [{ id: 'tmp', prefix: 'tmp/', status: 'Enabled', expiration: { days: 2 } }]);
      const stored = JSON.parse(await readFile(path.join(t.dataDir, BUCKET, 'bucket.json'), 'utf8')) as { lifecycle: unknown };
      expect(stored.lifecycle).toEqual([{ id: 'tmp', prefix: 'tmp/', status: 'Enabled', expiration: { days: 2 } }]);
      await t.emulator.restart();
      expect((await lifecycle(oss).getBucketLifecycle(BUCKET)).rules).toEqual([{ id: 'tmp', prefix: 'tmp/', status: 'Enabled', expiration: { days: '2' } }]);
      await lifecycle(oss).deleteBucketLifecycle(BUCKET);
      await t.emulator.restart();
      expect(await rejection(lifecycle(oss).getBucketLifecycle(BUCKET))).toMatchObject({ code: 'NoSuchLifecycle' });
    } finally {
      await t.close();
    }
  });

  it('a preset bucket starts with its rules and ACL; a restart keeps rules changed through the API', async () => {
    const presetRules = [{ id: 'scratch', prefix: 'scratch/', status: 'Enabled', expiration: { days: 1 } }];
    const t = await startTestOss({ buckets: [BUCKET, { name: 'preset-bucket', acl: 'public-read', lifecycle: presetRules }] });
    try {
      const oss = t.client();
      expect((await lifecycle(oss).getBucketLifecycle('preset-bucket')).rules).toEqual([{ id: 'scratch', prefix: 'scratch/', status: 'Enabled', expiration: { days: '1' } }]);
      const { bucket } = (await oss.getBucketInfo('preset-bucket')) as unknown as { bucket: Record<string, any> };
      expect(bucket.AccessControlList).toEqual({ Grant: 'public-read' });
      // A plain-name preset still makes a private bucket without rules.
      expect(await rejection(lifecycle(oss).getBucketLifecycle(BUCKET))).toMatchObject({ code: 'NoSuchLifecycle' });

      await lifecycle(oss).putBucketLifecycle('preset-bucket', [{ id: 'changed', prefix: 'other/', status: 'Disabled', expiration: { days: 9 } }]);
      await t.emulator.restart();
      expect((await lifecycle(oss).getBucketLifecycle('preset-bucket')).rules).toEqual([{ id: 'changed', prefix: 'other/', status: 'Disabled', expiration: { days: '9' } }]);
    } finally {
      await t.close();
    }
  });

  it('a preset with a rule OSS would refuse fails the start, naming the bucket and the rule', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-oss-lifecycle-'));
    try {
      await expect(
        startTestOss({ dataDir, buckets: [{ name: 'bad-preset', lifecycle: [{ prefix: 'p/', status: 'Enabled', expiration: { days: 0 } }] }] }),
      ).rejects.toThrow('preset bucket "bad-preset": Rule 1: Expiration: Days must be a positive integer, got "0".');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('expiry', () => {
  const bed = ossForDescribe({ lifecycleDayMs: 200, lifecycleSweepMs: 50 });

  it('deletes objects under an Enabled rule once Days have passed; keeps younger ones, those outside every prefix and those under a Disabled rule', async () => {
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, [
      { id: 'tmp', prefix: 'tmp/', status: 'Enabled', expiration: { days: 1 } },
      { id: 'keep', prefix: 'keep/', status: 'Enabled', expiration: { days: 1000 } },
      { id: 'paused', prefix: 'paused/', status: 'Disabled', expiration: { days: 1 } },
    ]);
    for (const key of ['tmp/a.log', 'tmp/b/c.log', 'keep/young.log', 'paused/x.log', 'outside.log']) await bed.oss.put(key, Buffer.from(key));

    await waitFor('tmp/ to expire', () => bed.t.emulator.store.list(BUCKET, 'tmp/').length === 0);
    expect(await rejection(bed.oss.head('tmp/a.log'))).toMatchObject({ code: 'NoSuchKey', status: 404 });
    // Several more sweeps, long past the Disabled rule's day: the others stay.
    await sleep(500);
    const listed = await bed.oss.listV2({ 'max-keys': '100' } as any, {});
    expect(listed.objects.map((o) => o.name)).toEqual(['keep/young.log', 'outside.log', 'paused/x.log']);
    // One line per sweep that deleted; the two may fall in different sweeps (last-modified times are whole seconds).
    const sweeps = bed.t.lines.filter((l) => l.startsWith('[oss] lifecycle'));
    for (const line of sweeps) expect(line).toMatch(/^\[oss\] lifecycle: expired [12] object\(s\): fleetrun-runs [12]$/);
    expect(sweeps.map((l) => Number(/expired (\d+)/.exec(l)![1])).reduce((a, b) => a + b, 0)).toBe(2);
    await lifecycle(bed.oss).deleteBucketLifecycle(BUCKET);
  });

  it('a CreatedBeforeDate rule deletes objects last modified before that date, and none when the date is past', async () => {
    const tomorrow = new Date(Date.now() + DAY_MS);
    tomorrow.setUTCHours(0, 0, 0, 0);
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, [
      { id: 'before-tomorrow', prefix: 'dated/', status: 'Enabled', expiration: { createdBeforeDate: tomorrow.toISOString() } },
      { id: 'before-2000', prefix: 'old-rule/', status: 'Enabled', expiration: { createdBeforeDate: '2000-01-01T00:00:00.000Z' } },
    ]);
    await bed.oss.put('dated/1', Buffer.from('1'));
    await bed.oss.put('old-rule/1', Buffer.from('1'));
    await waitFor('dated/1 to expire', () => bed.t.emulator.store.head(BUCKET, 'dated/1') === undefined);
    await sleep(200);
    expect(bed.t.emulator.store.head(BUCKET, 'old-rule/1')).toBeDefined();
    await lifecycle(bed.oss).deleteBucketLifecycle(BUCKET);
  });

  it('stops while a restart has the service down, and sweeps again after it', async () => {
    await lifecycle(bed.oss).putBucketLifecycle(BUCKET, [{ id: 'soon', prefix: 'soon/', status: 'Enabled', expiration: { days: 2 } }]);
    await bed.oss.put('soon/x', Buffer.from('x'));
    const linesBefore = bed.t.lines.length;
    await bed.t.emulator.restart(async () => {
      await sleep(800);
      expect(bed.t.lines.slice(linesBefore).filter((l) => l.startsWith('[oss] lifecycle'))).toEqual([]);
    });
    await waitFor('soon/x to expire after the restart', () => bed.t.emulator.store.head(BUCKET, 'soon/x') === undefined);
    await lifecycle(bed.oss).deleteBucketLifecycle(BUCKET);
  });
});

describe('the sweep and the emulator life', () => {
  it('stops on close: an object that would have expired is still on disk afterwards', async () => {
    const t = await startTestOss({ lifecycleDayMs: 200, lifecycleSweepMs: 20, buckets: [{ name: BUCKET, lifecycle: [{ id: 'tmp', prefix: 'tmp/', status: 'Enabled', expiration: { days: 2 } }] }] });
    try {
      await t.client().put('tmp/x', Buffer.from('x'));
      await t.emulator.close();
      const lines = t.lines.length;
      await sleep(1_000);
      expect(t.lines.slice(lines)).toEqual([]);
      const store = await DiskObjectStore.open(t.dataDir, { fsync: false });
      expect(store.head(BUCKET, 'tmp/x')).toBeDefined();
      await store.close();
    } finally {
      await t.close();
    }
  });

  it('skips a bucket emptied and deleted while a sweep is deleting its objects, and goes on with the next bucket', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-oss-sweep-'));
    const store = await DiskObjectStore.open(dataDir, { fsync: false });
    try {
      const rules = [{ id: 'all', prefix: '', status: 'Enabled' as const, expiration: { days: 1 } }];
      await store.createBucket('a-doomed', { lifecycle: rules });
      await store.createBucket('b-after', { lifecycle: rules });
      for (const key of ['old/1', 'old/2']) await store.put('a-doomed', key, Buffer.from(key), { contentType: 'text/plain' });
      await store.put('b-after', 'old/3', Buffer.from('3'), { contentType: 'text/plain' });
      // The real store, with a client's DeleteObject and DeleteBucket landing right after the sweep's first deletion.
      const interleaved: SweptStore = {
        bucketNames: () => store.bucketNames(),
        bucketInfo: (b) => store.bucketInfo(b),
        sortedKeys: (b) => store.sortedKeys(b),
        head: (b, k) => store.head(b, k),
        async deleteIfUnchanged(bucket, record) {
          const deleted = await store.deleteIfUnchanged(bucket, record);
          if (record.key === 'old/1') {
            await store.delete('a-doomed', 'old/2');
            await store.deleteBucket('a-doomed');
          }
          return deleted;
        },
      };
      const lines: string[] = [];
      const expired = await sweepOnce(interleaved, Date.now() + 2 * DAY_MS, { dayMs: DAY_MS, log: (l) => lines.push(l) });
      expect(expired).toBe(2);
      expect(store.hasBucket('a-doomed')).toBe(false);
      expect(store.list('b-after')).toEqual([]);
      expect(lines).toEqual(['[oss] lifecycle: expired 2 object(s): a-doomed 1, b-after 1']);
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('lifecycle operations under RAM', () => {
  const ROLE = `acs:ram::${ACCOUNT}:role/lifecycle-role`;
  let t: TestOss;
  let ram: RamIdentities;
  let role: OSS;

  beforeAll(async () => {
    const keys: Record<string, string> = { [AK]: SK };
    ram = new RamIdentities({ accountId: ACCOUNT, keys });
    const statement = { Effect: 'Allow', Action: ['oss:PutBucketLifecycle', 'oss:GetBucketLifecycle'], Resource: `acs:oss:*:*:${BUCKET}` };
    ram.setPolicies(ROLE, [{ document: { Version: '1', Statement: [statement] }, source: 'test policy' }]);
    const credentials = ram.credentialsFor(ROLE);
    t = await startTestOss({ accessKeys: keys, authorize: ram.authorize });
    role = t.client({ accessKeyId: credentials.accessKeyId, accessKeySecret: credentials.accessKeySecret, stsToken: credentials.securityToken });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks for oss:PutBucketLifecycle, oss:GetBucketLifecycle and oss:DeleteBucketLifecycle on the bucket', async () => {
    await lifecycle(role).putBucketLifecycle(BUCKET, [{ id: 'tmp', prefix: 'tmp/', status: 'Enabled', expiration: { days: 1 } }]);
    expect((await lifecycle(role).getBucketLifecycle(BUCKET)).rules).toHaveLength(1);
    const denied = await rejection(lifecycle(role).deleteBucketLifecycle(BUCKET));
    expect(denied).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(ram.denials.at(-1)).toMatchObject({ action: 'oss:DeleteBucketLifecycle', resources: [`acs:oss:*:${ACCOUNT}:${BUCKET}`] });
    // The lifecycle actions are their own: they do not stand in for PutBucket.
    expect(await rejection(role.putBucket(BUCKET))).toMatchObject({ code: 'AccessDenied' });
    expect(ram.denials.at(-1)).toMatchObject({ action: 'oss:PutBucket' });
  });
});
