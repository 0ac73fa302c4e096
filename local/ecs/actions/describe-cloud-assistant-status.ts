import { EcsApiError } from '../api-error.ts';
import { PAGING_FIELDS } from '../requests/paging.ts';
import { instanceIds, optional, readFields, required, wireText } from '../requests/wire-values.ts';
import { page, pagingOf } from '../service.ts';
import type { Action } from './types.ts';

const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  InstanceId: optional(instanceIds),
  OSType: optional(wireText),
  ...PAGING_FIELDS,
};

export const describeCloudAssistantStatus: Action = (params, { service }) => {
  const input = readFields(params, FIELDS);
  service.checkRegion(input.RegionId);
  if (input.InstanceId && input.InstanceId.length > 100) throw new EcsApiError('InstanceIds.ExceedLimit', `${input.InstanceId.length} instance ids given; at most 100 are allowed.`);
  if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 50))
    throw new EcsApiError('InvalidParameter.MaxResults', `MaxResults must be 1 to 50 (got ${input.MaxResults}).`);
  const wanted = input.InstanceId && input.InstanceId.length > 0 ? new Set(input.InstanceId) : undefined;
  const matches = [...service.fleet.values()].filter((i) => (!wanted || wanted.has(i.id)) && (!input.OSType || i.osType === input.OSType.toLowerCase()));
  const active = new Map<string, { count: number; active: number; last?: Date }>();
  for (const inv of service.invocations.values()) {
    for (const r of inv.instances.values()) {
      const a = active.get(r.instanceId) ?? { count: 0, active: 0 };
      a.count++;
      if (!r.finished) a.active++;
      if (!a.last || inv.creationTime > a.last) a.last = inv.creationTime;
      active.set(r.instanceId, a);
    }
  }
  const p = page(matches, pagingOf(input, 50));
  return {
    TotalCount: p.totalCount,
    PageNumber: p.pageNumber,
    PageSize: p.pageSize,
    NextToken: p.nextToken,
    InstanceCloudAssistantStatusSet: {
      InstanceCloudAssistantStatus: p.items.map((i) => ({
        InstanceId: i.id,
        // The API answers this as the string "true" / "false" (reference §3.8).
        CloudAssistantStatus: String(i.status === 'Running' && i.agent.online),
        CloudAssistantVersion: i.agent.version,
        LastHeartbeatTime: i.agent.online && i.status === 'Running' ? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') : '',
        LastInvokedTime: active.get(i.id)?.last?.toISOString().replace(/\.\d{3}Z$/, 'Z') ?? '',
        InvocationCount: active.get(i.id)?.count ?? 0,
        ActiveTaskCount: active.get(i.id)?.active ?? 0,
        OSType: i.osType === 'linux' ? 'Linux' : 'Windows',
        SupportSessionManager: false,
      })),
    },
  };
};
