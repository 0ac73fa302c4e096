/**
 * The Dispatcher on the FC 2.0 API (`@alicloud/fc2`): an asynchronous InvokeFunction of the
 * dispatch function in its service, for deployments made on the FC 2.0 API (service + function).
 * An fc3 deployment has no services and hands off through fc3-dispatcher.ts instead. The SDK
 * (with its own axios) loads on the first hand-off, not at cold start.
 */
import type FCClient from '@alicloud/fc2';
import type { Credentials } from '../runtime/context.ts';
import type { Dispatcher, DispatchRequest } from './dispatch-request.ts';
import { sentAgainAfterReset } from '../runtime/sent-again-after-reset.ts';

export class DispatchError extends Error {
  override readonly name = 'DispatchError';
}

export function fc2Dispatcher(options: { accountId: string; region: string; service: string; functionName: string; credentials: Credentials; endpoint?: string | undefined }): Dispatcher {
  let client: Promise<FCClient> | undefined;
  const connect = () => {
    client ??= import('@alicloud/fc2').then((mod) => {
      // CommonJS under native ESM: the class may sit on `default`.
      const Client = ((mod as unknown as { default?: typeof FCClient }).default ?? mod) as typeof FCClient;
      return new Client(options.accountId, {
        accessKeyID: options.credentials.accessKeyId,
        accessKeySecret: options.credentials.accessKeySecret,
        ...(options.credentials.securityToken ? { securityToken: options.credentials.securityToken } : {}),
        region: options.region,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        timeout: 10_000,
      });
    });
    client.catch(() => (client = undefined));
    return client;
  };
  return {
    async dispatch(request: DispatchRequest): Promise<void> {
      try {
        const fc = await connect();
        // Safe to repeat, as in fc3-dispatcher.ts: dispatch's effects are create-once.
        await sentAgainAfterReset(() => fc.invokeFunction(options.service, options.functionName, JSON.stringify(request), { 'x-fc-invocation-type': 'Async' }));
      } catch (e) {
        throw new DispatchError(`could not hand run ${request.runId} to ${options.service}/${options.functionName}: ${(e as Error).name}`, { cause: e });
      }
    },
  };
}
