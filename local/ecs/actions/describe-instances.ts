import { EcsApiError } from '../api-error.ts';
import { PAGING_FIELDS } from '../requests/paging.ts';
import { optional, readFields, required, wireTags, wireText } from '../requests/wire-values.ts';
import { page, pagingOf } from '../service.ts';
import type { Action } from './types.ts';

const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  /** A JSON array string of up to 100 ids (reference §3.9). */
  InstanceIds: optional(wireText),
  Status: optional(wireText),
  InstanceName: optional(wireText),
  Tag: optional(wireTags),
  ...PAGING_FIELDS,
};

function parseIds(text: string | undefined): string[] | undefined {
  if (text === undefined || text === '') return undefined;
  let ids: unknown;
  try {
    ids = JSON.parse(text);
  } catch {
    throw new EcsApiError('InvalidParameter', 'InstanceIds must be a JSON array of instance ids, e.g. ["i-a","i-b"].');
  }
  if (!Array.isArray(ids) || !ids.every((i) => typeof i === 'string')) throw new EcsApiError('InvalidParameter', 'InstanceIds must be a JSON array of strings.');
  if (ids.length > 100) throw new EcsApiError('InvalidParameter', `InstanceIds holds ${ids.length} ids; at most 100 are allowed.`);
  return ids as string[];
}

export const describeInstances: Action = (params, { service, regionId }) => {
  const input = readFields(params, FIELDS);
  service.checkRegion(input.RegionId);
  const ids = parseIds(input.InstanceIds);
  if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 100))
    throw new EcsApiError('InvalidParameter.MaxResults', `MaxResults must be 1 to 100 (got ${input.MaxResults}).`);
  const name = input.InstanceName ? new RegExp(`^${input.InstanceName.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`) : undefined;
  const wanted = new Set(ids);
  const matches = [...service.fleet.values()].filter(
    (i) =>
      (!ids || wanted.has(i.id)) &&
      (!input.Status || i.status === input.Status) &&
      (!name || name.test(i.name)) &&
      (input.Tag ?? []).every((t) => t.Key !== undefined && (t.Value === undefined ? t.Key in i.tags : i.tags[t.Key] === t.Value)),
  );
  const p = page(matches, pagingOf(input, 100));
  return {
    TotalCount: p.totalCount,
    PageNumber: p.pageNumber,
    PageSize: p.pageSize,
    NextToken: p.nextToken,
    Instances: {
      Instance: p.items.map((i) => ({
        InstanceId: i.id,
        InstanceName: i.name,
        HostName: i.name,
        RegionId: regionId,
        ZoneId: `${regionId}-local`,
        Status: i.status,
        OSType: i.osType,
        OSName: i.osType === 'linux' ? 'fleetrun local sandbox' : 'fleetrun local (windows placeholder)',
        Tags: { Tag: Object.entries(i.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
      })),
    },
  };
};
