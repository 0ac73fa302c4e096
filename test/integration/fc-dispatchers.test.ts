/**
 * chatops's hand-off to dispatch, chosen by configuration: over the FC 3.0 API by function name
 * (the default, `@alicloud/fc20230330`) or over the FC 2.0 API to a declared service
 * (FLEETRUN_FC_API_VERSION=2.0 with FLEETRUN_FC_SERVICE, `@alicloud/fc2`) — each through the local
 * host's InvokeFunction API, asynchronously, with the function really run; a hand-off whose
 * connection is closed without an answer is sent once more.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherFor } from '../../shared/chatops/dispatcher-for.ts';
import type { DispatchRequest } from '../../shared/chatops/dispatch-request.ts';
import { parseChatEnv } from '../../shared/config/chat-env.ts';
import type { FcHost } from '../../local/fc/host.ts';
import { ACCOUNT_ID, startFixtureHost } from './fc-host-fixture.ts';

const AK = 'dispatch-ak';
const SECRET = 'dispatch-secret';
const env = { FLEETRUN_ACCOUNT_ID: ACCOUNT_ID, FLEETRUN_REGION: 'cn-hangzhou' };
const credentials = { accessKeyId: AK, accessKeySecret: SECRET };
// The fixture function reads { id }; the dispatcher sends whatever request it is given, as JSON.
const request = (id: string) => ({ id, runId: id }) as unknown as DispatchRequest;

describe('chatops → dispatch: the FC API chosen by configuration', () => {
  let host: FcHost;
  let logs: string[];
  let dir: string;
  let sinkFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-fc-dispatch-'));
    sinkFile = path.join(dir, 'sink.jsonl');
    ({ host, logs } = await startFixtureHost({ sinkFile, invokeApi: { accessKeys: { [AK]: SECRET }, fc2Services: { legacy: ['async-sink'] } } }));
  });
  afterAll(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The ids the dispatch function really ran with, once every accepted invocation has ended. */
  const ran = async (): Promise<string[]> => {
    await host.asyncInvocations.idle(15_000);
    return (await readFile(sinkFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
  };

  it('FC 3.0 by default: an async InvokeFunction by function name', async () => {
    const chatEnv = parseChatEnv({ FLEETRUN_DISPATCH_FUNCTION: 'async-sink', FLEETRUN_FC_ENDPOINT: host.invokeEndpoint });
    expect(chatEnv.FLEETRUN_FC_API_VERSION).toBe('3.0');
    await dispatcherFor(env, chatEnv, credentials).dispatch(request('via-fc3'));
    expect(logs.some((l) => l.includes('POST /2023-03-30/functions/async-sink/invocations Async async-sink 202'))).toBe(true);
    expect(await ran()).toContain('via-fc3');
  });

  it('FC 2.0 when configured: an async InvokeFunction in the named service', async () => {
    const chatEnv = parseChatEnv({ FLEETRUN_DISPATCH_FUNCTION: 'async-sink', FLEETRUN_FC_ENDPOINT: host.invokeEndpoint, FLEETRUN_FC_API_VERSION: '2.0', FLEETRUN_FC_SERVICE: 'legacy' });
    await dispatcherFor(env, chatEnv, credentials).dispatch(request('via-fc2'));
    expect(logs.some((l) => l.includes('POST /2016-08-15/services/legacy/functions/async-sink/invocations Async legacy/async-sink 202'))).toBe(true);
    expect(await ran()).toContain('via-fc2');
  });

  it('FC 2.0 against a service the deployment does not have: the hand-off fails with ServiceNotFound', async () => {
    const chatEnv = parseChatEnv({ FLEETRUN_DISPATCH_FUNCTION: 'async-sink', FLEETRUN_FC_ENDPOINT: host.invokeEndpoint, FLEETRUN_FC_API_VERSION: '2.0', FLEETRUN_FC_SERVICE: 'fleetrun' });
    const error = await dispatcherFor(env, chatEnv, credentials).dispatch(request('nowhere')).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toMatchObject({ name: 'DispatchError' });
    expect((error!.cause as Error).name).toBe('FCServiceNotFoundError');
  });

  it('FC 3.0 to a function that does not exist: the hand-off fails with FunctionNotFound', async () => {
    const chatEnv = parseChatEnv({ FLEETRUN_DISPATCH_FUNCTION: 'no-such-fn', FLEETRUN_FC_ENDPOINT: host.invokeEndpoint });
    const error = await dispatcherFor(env, chatEnv, credentials).dispatch(request('nothing')).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toMatchObject({ name: 'DispatchError' });
    expect(error!.message).toContain('FunctionNotFound');
  });

  describe('a hand-off whose connection is closed without an answer (the FC API closing a connection chatops kept while frozen)', () => {
    /** Closes the next `count` hand-offs' connections; counts every hand-off. */
    function resetNext(count: number): { seen: number } {
      const tally = { seen: 0 };
      let left = count;
      host.invokeFaults.reset = () => {
        tally.seen++;
        return left-- > 0;
      };
      return tally;
    }
    afterEach(() => {
      host.invokeFaults.reset = undefined;
    });

    it.each([
      ['FC 3.0', {}],
      ['FC 2.0', { FLEETRUN_FC_API_VERSION: '2.0', FLEETRUN_FC_SERVICE: 'legacy' }],
    ] as const)('%s: is sent once more, and dispatch runs once', async (api, more) => {
      const id = `after-reset-${api.replace(/\W/g, '')}`;
      const calls = resetNext(1);
      await dispatcherFor(env, parseChatEnv({ FLEETRUN_DISPATCH_FUNCTION: 'async-sink', FLEETRUN_FC_ENDPOINT: host.invokeEndpoint, ...more }), credentials).dispatch(request(id));
      expect(calls.seen).toBe(2);
      expect((await ran()).filter((r) => r === id)).toEqual([id]);
    });

    it('closed twice in a row: the hand-off fails with the reset named, and nothing runs', async () => {
      const calls = resetNext(2);
      const error = await dispatcherFor(env, parseChatEnv({ FLEETRUN_DISPATCH_FUNCTION: 'async-sink', FLEETRUN_FC_ENDPOINT: host.invokeEndpoint }), credentials).dispatch(request('reset-twice')).then(() => undefined, (e: unknown) => e as Error);
      expect(calls.seen).toBe(2);
      expect(error).toMatchObject({ name: 'DispatchError' });
      expect(error!.message).toContain('ECONNRESET');
      expect(await ran()).not.toContain('reset-twice');
    });
  });

  it('FLEETRUN_FC_API_VERSION=2.0 without FLEETRUN_FC_SERVICE is a configuration error', () => {
    expect(() => parseChatEnv({ FLEETRUN_FC_API_VERSION: '2.0' })).toThrow(/FLEETRUN_FC_SERVICE: the FC 2\.0 API needs the service/);
    expect(() => parseChatEnv({ FLEETRUN_FC_API_VERSION: '1.0' })).toThrow(/FLEETRUN_FC_API_VERSION/);
  });
});
