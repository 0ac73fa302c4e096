import { describe, expect, it } from 'vitest';
import { fc3EndpointOf } from '../../shared/chatops/fc3-dispatcher.ts';
import { ecsEndpoint, fcEndpoint, mnsEndpoint, ossEndpoints, type TransportEnv } from '../../shared/config/endpoints.ts';
import { parseScheduleEnv, parseTaskEventsEnv } from '../../shared/config/function-envs.ts';
import { queueFor } from '../../shared/queue/queue-client.ts';
import { storeFor } from '../../shared/store/store-client.ts';

const CLOUD: TransportEnv = { FLEETRUN_REGION: 'cn-shanghai', FLEETRUN_ACCOUNT_ID: '5555666677778888' };
const credentials = { accessKeyId: 'AKID', accessKeySecret: 'secret-value', securityToken: 'sts-token' };

describe('Function: ossEndpoints', () => {
  it('defaults to HTTPS on the region internal endpoint, signing links for the public one', () => {
    expect(ossEndpoints(CLOUD)).toEqual({ endpoint: 'https://oss-cn-shanghai-internal.aliyuncs.com', publicEndpoint: 'https://oss-cn-shanghai.aliyuncs.com' });
  });

  it('FLEETRUN_OSS_INTERNAL=false: the public endpoint for both, still HTTPS', () => {
    expect(ossEndpoints({ ...CLOUD, FLEETRUN_OSS_INTERNAL: false })).toEqual({ endpoint: 'https://oss-cn-shanghai.aliyuncs.com', publicEndpoint: 'https://oss-cn-shanghai.aliyuncs.com' });
  });

  it('an explicit endpoint wins, its scheme kept (the local cloud), a bare host getting HTTPS', () => {
    expect(ossEndpoints({ ...CLOUD, FLEETRUN_OSS_ENDPOINT: 'http://127.0.0.1:40371' })).toEqual({ endpoint: 'http://127.0.0.1:40371', publicEndpoint: 'http://127.0.0.1:40371' });
    expect(ossEndpoints({ ...CLOUD, FLEETRUN_OSS_ENDPOINT: 'oss-accelerate.aliyuncs.com' }).endpoint).toBe('https://oss-accelerate.aliyuncs.com');
  });
});

describe('Function: mnsEndpoint', () => {
  it('defaults to HTTPS on the account internal endpoint of the region', () => {
    expect(mnsEndpoint(CLOUD)).toBe('https://5555666677778888.mns.cn-shanghai-internal.aliyuncs.com');
  });
  it('FLEETRUN_MNS_INTERNAL=false: the public one; an explicit endpoint wins', () => {
    expect(mnsEndpoint({ ...CLOUD, FLEETRUN_MNS_INTERNAL: false })).toBe('https://5555666677778888.mns.cn-shanghai.aliyuncs.com');
    expect(mnsEndpoint({ ...CLOUD, FLEETRUN_MNS_ENDPOINT: 'http://127.0.0.1:38957' })).toBe('http://127.0.0.1:38957');
  });
});

describe('Function: ecsEndpoint', () => {
  it("defaults to the SDK's regional endpoint over HTTPS", () => {
    expect(ecsEndpoint(CLOUD)).toEqual({ endpoint: undefined, protocol: 'https' });
  });
  it('the local cloud: a host and FLEETRUN_ECS_PROTOCOL=http, or a URL whose scheme says it', () => {
    expect(ecsEndpoint({ ...CLOUD, FLEETRUN_ECS_ENDPOINT: '127.0.0.1:18080', FLEETRUN_ECS_PROTOCOL: 'http' })).toEqual({ endpoint: '127.0.0.1:18080', protocol: 'http' });
    expect(ecsEndpoint({ ...CLOUD, FLEETRUN_ECS_ENDPOINT: 'http://127.0.0.1:18080' })).toEqual({ endpoint: '127.0.0.1:18080', protocol: 'http' });
    expect(ecsEndpoint({ ...CLOUD, FLEETRUN_ECS_ENDPOINT: 'ecs-vpc.cn-shanghai.aliyuncs.com' })).toEqual({ endpoint: 'ecs-vpc.cn-shanghai.aliyuncs.com', protocol: 'https' });
  });
});

describe('Function: fcEndpoint', () => {
  it("defaults to the account's regional FC endpoint over HTTPS, for the FC 3.0 client too", () => {
    expect(fcEndpoint(CLOUD)).toBe('https://5555666677778888.cn-shanghai.fc.aliyuncs.com');
    expect(fc3EndpointOf({ endpoint: fcEndpoint(CLOUD), accountId: CLOUD.FLEETRUN_ACCOUNT_ID, region: CLOUD.FLEETRUN_REGION })).toEqual({ endpoint: '5555666677778888.cn-shanghai.fc.aliyuncs.com', protocol: 'https' });
  });
  it('an explicit endpoint wins (the local FC host)', () => {
    expect(fcEndpoint({ ...CLOUD, FLEETRUN_FC_ENDPOINT: 'http://127.0.0.1:9000' })).toBe('http://127.0.0.1:9000');
  });
});

describe('the clients built from a function environment', () => {
  const env = parseScheduleEnv({ FLEETRUN_REGION: 'cn-shanghai', FLEETRUN_ACCOUNT_ID: '5555666677778888', FLEETRUN_BUCKET: 'fleetrun-runs', FLEETRUN_RESULT_QUEUE: 'fleetrun-results' });

  it('the flags parse from the environment: unset and empty are internal, false and 0 public', () => {
    expect([env.FLEETRUN_OSS_INTERNAL, env.FLEETRUN_MNS_INTERNAL]).toEqual([true, true]);
    const pub = parseTaskEventsEnv({ FLEETRUN_BUCKET: 'b-1', FLEETRUN_RESULT_QUEUE: 'q', FLEETRUN_OSS_INTERNAL: 'false', FLEETRUN_MNS_INTERNAL: '0' });
    expect([pub.FLEETRUN_OSS_INTERNAL, pub.FLEETRUN_MNS_INTERNAL]).toEqual([false, false]);
    expect(parseTaskEventsEnv({ FLEETRUN_BUCKET: 'b-1', FLEETRUN_RESULT_QUEUE: 'q', FLEETRUN_OSS_INTERNAL: '' }).FLEETRUN_OSS_INTERNAL).toBe(true);
    expect(() => parseTaskEventsEnv({ FLEETRUN_BUCKET: 'b-1', FLEETRUN_RESULT_QUEUE: 'q', FLEETRUN_OSS_INTERNAL: 'no' })).toThrow(/FLEETRUN_OSS_INTERNAL/);
  });

  it("the region and account default to FC's own (FC_REGION, FC_ACCOUNT_ID), and an explicit one wins", () => {
    const fc = { FLEETRUN_BUCKET: 'b-1', FLEETRUN_RESULT_QUEUE: 'q', FC_REGION: 'cn-beijing', FC_ACCOUNT_ID: '1111222233334444' };
    const fromFc = parseTaskEventsEnv(fc);
    expect([fromFc.FLEETRUN_REGION, fromFc.FLEETRUN_ACCOUNT_ID]).toEqual(['cn-beijing', '1111222233334444']);
    expect(mnsEndpoint(fromFc)).toBe('https://1111222233334444.mns.cn-beijing-internal.aliyuncs.com');
    const given = parseTaskEventsEnv({ ...fc, FLEETRUN_REGION: 'cn-shanghai', FLEETRUN_ACCOUNT_ID: '5555666677778888' });
    expect([given.FLEETRUN_REGION, given.FLEETRUN_ACCOUNT_ID]).toEqual(['cn-shanghai', '5555666677778888']);
  });

  it('task-events without its queue is a configuration error naming it', () => {
    expect(() => parseTaskEventsEnv({ FLEETRUN_BUCKET: 'b-1' })).toThrow(/fleetrun-task-events configuration is invalid: FLEETRUN_RESULT_QUEUE/);
  });

  it('a report link from the store that talks to the internal endpoint is signed for the public one, over HTTPS', () => {
    const url = new URL(storeFor(env, credentials).signedUrl('runs/r-1/report.html', 600));
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('fleetrun-runs.oss-cn-shanghai.aliyuncs.com');
  });

  it('the local cloud: links signed for the IP endpoint it gave', () => {
    const local = parseScheduleEnv({ FLEETRUN_BUCKET: 'fleetrun-runs', FLEETRUN_RESULT_QUEUE: 'q', FLEETRUN_OSS_ENDPOINT: 'http://127.0.0.1:40371' });
    const url = new URL(storeFor(local, credentials).signedUrl('runs/r-1/report.html', 600));
    expect(`${url.protocol}//${url.host}`).toBe('http://127.0.0.1:40371');
  });

  it('the queue client speaks HTTPS to the internal MNS endpoint (the SDK itself would use plain HTTP)', () => {
    const client = (queueFor(env, credentials) as unknown as { client: { endpoint: string } }).client;
    expect(client.endpoint).toBe('https://5555666677778888.mns.cn-shanghai-internal.aliyuncs.com');
  });
});
