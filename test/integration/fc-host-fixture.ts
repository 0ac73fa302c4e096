/**
 * Starts the local FC host on the fixture deployment (test/fixtures/fc-host/s.yaml) for the
 * fc-*.test.ts files: real worker processes, real loopback servers, log lines kept for asserts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EventBus } from '../../local/eventbridge/bus.ts';
import { startFcHost, type FcHost, type FcHostOptions } from '../../local/fc/host.ts';
import { loadSYaml } from '../../local/fc/s-yaml.ts';

export const FIXTURE_ROOT = path.resolve(import.meta.dirname, '../fixtures/fc-host');
export const ACCOUNT_ID = '1234567890123456';

export async function startFixtureHost(
  options: { sinkFile?: string; http?: FcHostOptions['http']; invokeApi?: FcHostOptions['invokeApi']; host?: Partial<FcHostOptions> } = {},
): Promise<{ host: FcHost; logs: string[] }> {
  const logs: string[] = [];
  const sYaml = await loadSYaml(path.join(FIXTURE_ROOT, 's.yaml'), { env: { ...(options.sinkFile ? { FC_FIXTURE_SINK_FILE: options.sinkFile } : {}) }, config: { AccountID: ACCOUNT_ID } });
  const host = await startFcHost({
    sYaml,
    projectRoot: FIXTURE_ROOT,
    mode: 'source',
    env: {},
    credentials: { accessKeyId: 'fixture-role-ak', accessKeySecret: 'fixture-role-secret' },
    accountId: ACCOUNT_ID,
    bus: new EventBus(),
    timers: false,
    ...(options.http ? { http: options.http } : {}),
    ...(options.invokeApi ? { invokeApi: options.invokeApi } : {}),
    // A function may write only its own temporary folder; the sink file is the test's, outside it.
    ...(options.sinkFile ? { allowWrite: [options.sinkFile] } : {}),
    log: (line) => logs.push(line),
    ...options.host,
  });
  return { host, logs };
}

/** One line the fixture's sink function wrote per invocation it ran. */
export interface SinkLine {
  id: string;
  attempt: number;
  ok: boolean;
  requestId: string;
}

/** What the fixture's functions wrote to the sink file so far, one line per invocation. */
export async function readSink(sinkFile: string): Promise<SinkLine[]> {
  return (await readFile(sinkFile, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SinkLine);
}
