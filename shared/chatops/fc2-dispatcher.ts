/**
 * The Dispatcher on `@alicloud/fc2`: an asynchronous InvokeFunction of the dispatch function, so
 * the chat webhook answers within its 3 s while dispatch fans out at its own pace.
 */
import FCClient from '@alicloud/fc2';
import type { Credentials } from '../runtime/context.ts';
import type { Dispatcher, DispatchRequest } from './dispatch-request.ts';

export class DispatchError extends Error {
  override readonly name = 'DispatchError';
}

export function fc2Dispatcher(options: { accountId: string; region: string; functionName: string; credentials: Credentials; endpoint?: string | undefined }): Dispatcher {
  // CommonJS under native ESM: the class may sit on `default`.
  const Client = ((FCClient as unknown as { default?: typeof FCClient }).default ?? FCClient) as typeof FCClient;
  const client = new Client(options.accountId, {
    accessKeyID: options.credentials.accessKeyId,
    accessKeySecret: options.credentials.accessKeySecret,
    ...(options.credentials.securityToken ? { securityToken: options.credentials.securityToken } : {}),
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    timeout: 10_000,
  });
  return {
    async dispatch(request: DispatchRequest): Promise<void> {
      try {
        // FC 3.0 has no services; the FC 2.0 API still wants one in the path.
        await client.invokeFunction('fleetrun', options.functionName, JSON.stringify(request), { 'x-fc-invocation-type': 'Async' });
      } catch (e) {
        throw new DispatchError(`could not hand run ${request.runId} to ${options.functionName}: ${(e as Error).name}`, { cause: e });
      }
    },
  };
}
