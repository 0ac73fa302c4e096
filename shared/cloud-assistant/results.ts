/** Reading every result of an invocation, whatever the page count. */
import type { CloudAssistant, InstanceResult } from './port.ts';
import { LIMITS } from './constants.ts';

/** All per-instance results of `invokeId`, paging with NextToken (at most 50 per call). */
export async function allInvocationResults(
  assistant: CloudAssistant,
  regionId: string,
  invokeId: string,
  options: { instanceId?: string; includeHistory?: boolean } = {},
): Promise<InstanceResult[]> {
  const out: InstanceResult[] = [];
  let nextToken: string | undefined;
  do {
    const page = await assistant.describeInvocationResults({
      RegionId: regionId,
      InvokeId: invokeId,
      ...(options.instanceId ? { InstanceId: options.instanceId } : {}),
      ...(options.includeHistory ? { IncludeHistory: true } : {}),
      ContentEncoding: 'PlainText',
      MaxResults: LIMITS.pageSize,
      ...(nextToken ? { NextToken: nextToken } : {}),
    });
    out.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}
