import { EcsApiError } from '../api-error.ts';
import { PAGING_FIELDS } from '../requests/paging.ts';
import { optional, readFields, required, wireBoolean, wireTags, wireText } from '../requests/wire-values.ts';
import { page, pagingOf } from '../service.ts';
import { apiTime, encodeText, tagList } from '../wire.ts';
import type { Action } from './types.ts';

const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  CommandId: optional(wireText),
  Name: optional(wireText),
  Description: optional(wireText),
  Type: optional(wireText),
  Provider: optional(wireText),
  Latest: optional(wireBoolean),
  ContentEncoding: optional(wireText),
  ResourceGroupId: optional(wireText),
  Tag: optional(wireTags),
  ...PAGING_FIELDS,
};

/** `*` in Name is a wildcard (reference §3.4). */
function nameMatcher(pattern: string | undefined): (name: string) => boolean {
  if (!pattern) return () => true;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (name) => re.test(name);
}

export const describeCommands: Action = (params, { service }) => {
  const input = readFields(params, FIELDS);
  service.checkRegion(input.RegionId);
  if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 50))
    throw new EcsApiError('InvalidParameter.MaxResults', `MaxResults must be 1 to 50 (got ${input.MaxResults}).`);
  const matchName = nameMatcher(input.Name);
  const encoding = input.ContentEncoding?.toLowerCase() === 'plaintext' ? 'PlainText' : 'Base64';
  const all = [...service.commands.values()]
    .filter((c) => c.kept)
    .filter((c) => (!input.CommandId || c.commandId === input.CommandId) && matchName(c.name) && (!input.Type || c.type === input.Type))
    .filter((c) => (!input.Description || c.description === input.Description) && (input.Tag ?? []).every((t) => c.tags.some((h) => h.key === t.Key && (t.Value === undefined || h.value === t.Value))))
    .reverse();
  const p = page(all, pagingOf(input, 50));
  return {
    TotalCount: p.totalCount,
    PageNumber: p.pageNumber,
    PageSize: p.pageSize,
    NextToken: p.nextToken,
    Commands: {
      Command: p.items.map((c) => ({
        CommandId: c.commandId,
        Name: c.name,
        Description: c.description,
        Type: c.type,
        CommandContent: encodeText(c.script, encoding),
        WorkingDir: c.workingDir,
        Timeout: c.timeout,
        EnableParameter: c.enableParameter,
        ParameterNames: { ParameterName: c.parameterNames },
        CreationTime: apiTime(c.creationTime),
        InvokeTimes: c.invokeTimes,
        Version: 1,
        Latest: true,
        Provider: '',
        Category: '',
        Launcher: c.launcher,
        ResourceGroupId: '',
        Tags: tagList(c.tags),
      })),
    },
  };
};
