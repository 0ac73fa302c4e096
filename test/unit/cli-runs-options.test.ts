/**
 * How `fleetrun runs` and `fleetrun report` find the runs bucket (local/cli/runs-bucket.ts) and
 * read --since (local/cli/runs-command.ts): a deployment's variables and access key, else the local
 * cloud npm start wrote down, else a usage error that says what to set.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../local/cli/access-keys.ts';
import { runsBucketFrom } from '../../local/cli/runs-bucket.ts';
import { parseSince } from '../../local/cli/runs-command.ts';

const LOCAL = { chatUrl: 'http://127.0.0.1:9000', ossEndpoint: 'http://127.0.0.1:9001', bucket: 'fleetrun-runs', region: 'cn-hangzhou' };

describe('Function: runsBucketFrom', () => {
  it('reads a deployment\'s bucket on its public endpoint with the reader\'s access key', () => {
    const b = runsBucketFrom({ FLEETRUN_BUCKET: 'prod-runs', FLEETRUN_REGION: 'cn-shanghai', FLEETRUN_ACCESS_KEY_ID: 'id', FLEETRUN_ACCESS_KEY_SECRET: 'secret' }, LOCAL);
    expect(b.store.bucket).toBe('prod-runs');
    expect(b.where).toBe('prod-runs on https://oss-cn-shanghai.aliyuncs.com');
    // The local cloud's chatops is not the deployment's: no link to it.
    expect(b.publicUrl).toBeUndefined();
    // The Alibaba Cloud SDKs' own variables serve as well; an explicit endpoint wins.
    const sdk = runsBucketFrom({ FLEETRUN_BUCKET: 'prod-runs', ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's', FLEETRUN_OSS_ENDPOINT: 'oss.example.com', FLEETRUN_PUBLIC_URL: 'https://chat.example.com', FLEETRUN_SEAL_KEY: 'k'.repeat(32) }, {});
    expect(sdk.where).toBe('prod-runs on https://oss.example.com');
    expect(sdk).toMatchObject({ publicUrl: 'https://chat.example.com', sealKey: 'k'.repeat(32) });
    expect(() => runsBucketFrom({ FLEETRUN_BUCKET: 'prod-runs' }, LOCAL)).toThrow(new UsageError('reading bucket prod-runs takes an access key: set FLEETRUN_ACCESS_KEY_ID and FLEETRUN_ACCESS_KEY_SECRET (or ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET)'));
  });

  it('reads the local cloud npm start wrote down, its chatops as the report links\' URL', () => {
    const b = runsBucketFrom({}, LOCAL);
    expect(b.store.bucket).toBe('fleetrun-runs');
    expect(b.where).toBe('fleetrun-runs on http://127.0.0.1:9001 (the local cloud)');
    expect(b.publicUrl).toBe('http://127.0.0.1:9000');
    expect(() => runsBucketFrom({}, {})).toThrow(/no runs bucket: start the local cloud with npm start, or set FLEETRUN_BUCKET/);
  });
});

describe('Function: parseSince', () => {
  const now = new Date('2026-11-23T10:00:00.000Z');
  it('reads a span back from now, a date or a time, and nothing else', () => {
    expect(parseSince('30m', now)?.toISOString()).toBe('2026-11-23T09:30:00.000Z');
    expect(parseSince('24h', now)?.toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(parseSince('7d', now)?.toISOString()).toBe('2026-11-16T10:00:00.000Z');
    expect(parseSince('2026-11-20', now)?.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(parseSince('2026-11-20T10:00Z', now)?.toISOString()).toBe('2026-11-20T10:00:00.000Z');
    for (const bad of ['yesterday', '7 days', '2026-13-45', '1w', '']) expect(parseSince(bad, now), bad).toBeUndefined();
  });
});
