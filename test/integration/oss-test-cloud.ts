/**
 * A local OSS emulator on a temporary data folder plus ali-oss clients pointed at it, for the
 * `oss-*.test.ts` files.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OSS from 'ali-oss';
import { afterAll, beforeAll } from 'vitest';
import { startOssEmulator, type OssEmulator, type OssEmulatorOptions } from '../../local/oss/server.ts';

export const AK = 'AK';
export const SK = 'SK';
export const BUCKET = 'fleetrun-runs';
export const REGION = 'oss-cn-hangzhou';

export interface TestOss {
  emulator: OssEmulator;
  dataDir: string;
  /** Log lines the emulator wrote. */
  lines: string[];
  /** An ali-oss client on the emulator's IP endpoint; options override the defaults. */
  client(options?: Partial<OSS.Options> & { sldEnable?: boolean; amendTimeSkewed?: number }): OSS;
  /** Stops the emulator and, unless `keepData`, removes the data folder. */
  close(keepData?: boolean): Promise<void>;
}

/** Starts an emulator with bucket {@link BUCKET} and key {@link AK}/{@link SK} on a fresh (or the given) data folder. */
export async function startTestOss(options: Partial<OssEmulatorOptions> = {}): Promise<TestOss> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'fleetrun-oss-test-')));
  const lines: string[] = [];
  const emulator = await startOssEmulator({
    accessKeys: { [AK]: SK, OTHER: 'other-secret' },
    buckets: [BUCKET],
    log: (l) => lines.push(l),
    ...options,
    dataDir,
  });
  return {
    emulator,
    dataDir,
    lines,
    client: (o = {}) =>
      new OSS({ region: REGION, accessKeyId: AK, accessKeySecret: SK, bucket: BUCKET, endpoint: emulator.endpoint, ...o } as OSS.Options),
    async close(keepData = false) {
      await emulator.close();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** ali-oss's two signatures, for a `describe.each` that runs its tests with each. */
export const SIGNATURE_VERSIONS = [
  { mode: 'V1', authorizationV4: false },
  { mode: 'V4', authorizationV4: true },
];

/** The emulator of one describe block and an ali-oss client on it; both are there once its beforeAll has run. */
export interface OssTestBed {
  t: TestOss;
  oss: OSS;
}

/**
 * Starts an emulator (with `options`) before the tests of the describe block it is called in, and
 * stops it after them; `client` configures the block's ali-oss client.
 */
export function ossForDescribe(options: Partial<OssEmulatorOptions> = {}, client: Parameters<TestOss['client']>[0] = {}): OssTestBed {
  const bed = {} as OssTestBed;
  beforeAll(async () => {
    bed.t = await startTestOss(options);
    bed.oss = bed.t.client(client);
  });
  afterAll(async () => {
    await bed.t?.close();
  });
  return bed;
}

/**
 * PutObject options with user metadata. `@types/ali-oss` declares `UserMeta` with required `uid` and
 * `pid` fields that ali-oss does not need, hence the cast.
 */
export function putOptions(options: { mime?: string; meta?: Record<string, string>; headers?: Record<string, string> }): OSS.PutObjectOptions {
  return options as unknown as OSS.PutObjectOptions;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as Error & Record<string, any>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
