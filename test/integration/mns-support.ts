/**
 * Test bed for the local MNS: the emulator on a free loopback port with a temporary data folder, the
 * UNMODIFIED `@alicloud/mns` client pointed at it, and a raw HTTP helper with its own small signer
 * (written from the protocol description, not shared with the emulator) for requests the SDK cannot
 * be made to send: wrong Content-MD5, stale dates, unescaped bodies, odd query strings.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import MNS from '@alicloud/mns';
import { expect } from 'vitest';
import { startMnsEmulator, type MnsEmulator, type MnsEmulatorOptions } from '../../local/mns/server.ts';

export const ACCOUNT_ID = '1234567890123456';
export const AK = 'LTAI5tMnsTestKey';
export const SK = 'mns-test-secret/+=';

/** The emulator, a client, and a restart that keeps the data folder. */
export interface MnsTestBed {
  emulator: MnsEmulator;
  client: MNS;
  dataDir: string;
  /** Every request line the emulator logged. */
  lines: string[];
  /** Another client against the same emulator, e.g. with other keys. */
  newClient(options?: Partial<MNS.Options>): MNS;
  /** Stops the emulator and starts a new one on the same data folder (and a new port). */
  restart(): Promise<void>;
  /** Stops the emulator and removes the data folder. */
  close(): Promise<void>;
}

export async function makeTempDir(prefix = 'fleetrun-mns-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function startTestBed(options: Partial<MnsEmulatorOptions> = {}): Promise<MnsTestBed> {
  const dataDir = options.dataDir ?? (await makeTempDir());
  const lines: string[] = [];
  const start = () =>
    startMnsEmulator({ accessKeys: { [AK]: SK }, accountId: ACCOUNT_ID, log: (l) => lines.push(l), ...options, dataDir });
  const bed: MnsTestBed = {
    emulator: await start(),
    client: undefined as unknown as MNS,
    dataDir,
    lines,
    newClient: (o = {}) => new MNS(ACCOUNT_ID, { accessKeyId: AK, accessKeySecret: SK, endpoint: bed.emulator.endpoint, readTimeout: 45_000, ...o }),
    async restart() {
      await bed.emulator.close();
      bed.emulator = await start();
      bed.client = bed.newClient();
    },
    async close() {
      await bed.emulator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  bed.client = bed.newClient();
  return bed;
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** Asserts that `promise` rejects the way the SDK reports an MNS error: `name === 'MNS<Code>Error'`. */
export async function expectMnsError(promise: Promise<unknown>, code: string): Promise<Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected MNS${code}Error`).toBeInstanceOf(Error);
  expect((caught as Error).name).toBe(`MNS${code}Error`);
  return caught as Error;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What {@link rawRequest} got back. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RawRequestOptions {
  method: string;
  /** Path and query, sent and signed exactly as given. */
  resource: string;
  body?: string;
  /** Defaults to now, as `toUTCString()`. */
  date?: string;
  /** Extra headers added before signing (e.g. `x-mns-ret-number`). */
  signedHeaders?: Record<string, string>;
  /** Override or add headers after signing (e.g. a wrong content-md5). `null` removes one. */
  headers?: Record<string, string | null>;
  accessKeyId?: string;
  accessKeySecret?: string;
  /** Leave out the Authorization header. */
  unsigned?: boolean;
}

/** Sends one MNS request signed the way the protocol describes, optionally tampered with afterwards. */
export function rawRequest(endpoint: string, o: RawRequestOptions): Promise<RawResponse> {
  const url = new URL(endpoint);
  const body = Buffer.from(o.body ?? '', 'utf8');
  const date = o.date ?? new Date().toUTCString();
  const headers: Record<string, string> = { host: url.host, date, 'x-mns-date': date, 'x-mns-version': '2015-06-06' };
  if (o.method !== 'GET' && o.method !== 'HEAD') {
    headers['content-type'] = 'text/xml';
    headers['content-length'] = String(body.length);
    headers['content-md5'] = Buffer.from(createHash('md5').update(body).digest('hex')).toString('base64');
  }
  Object.assign(headers, o.signedHeaders);
  const mnsHeaders = Object.keys(headers)
    .filter((k) => k.startsWith('x-mns-'))
    .sort()
    .map((k) => `${k}:${headers[k]}\n`)
    .join('');
  const toSign = `${o.method}\n${headers['content-md5'] ?? ''}\n${headers['content-type'] ?? ''}\n${date}\n${mnsHeaders}${o.resource}`;
  const sig = createHmac('sha1', o.accessKeySecret ?? SK).update(toSign).digest('base64');
  if (!o.unsigned) headers.authorization = `MNS ${o.accessKeyId ?? AK}:${sig}`;
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: o.method, path: o.resource, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The `<Code>` of an MNS error document. */
export function errorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
