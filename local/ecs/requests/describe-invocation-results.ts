/** DescribeInvocationResults: no seed of its own; paging, tags and encoding as DescribeInvocations (seed 004). */
import { answeringAs } from '../api-error.ts';
import { checkTags } from './checks.ts';
import { PAGING_FIELDS, pagingOf, type Paging } from './paging.ts';
import { optional, readFields, required, wireBoolean, wireTags, wireText, type WireTag } from './wire-values.ts';

const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  ResourceGroupId: optional(wireText),
  InvokeId: optional(wireText),
  InstanceId: optional(wireText),
  CommandId: optional(wireText),
  InvokeRecordStatus: optional(wireText),
  IncludeHistory: optional(wireBoolean),
  ContentEncoding: optional(wireText),
  ...PAGING_FIELDS,
  Tag: optional(wireTags),
};

export interface DescribeInvocationResultsInput {
  RegionId: string;
  ResourceGroupId?: string | undefined;
  InvokeId?: string | undefined;
  InstanceId?: string | undefined;
  CommandId?: string | undefined;
  InvokeRecordStatus?: string | undefined;
  IncludeHistory: boolean;
  ContentEncoding: 'PlainText' | 'Base64';
  Tag?: WireTag[] | undefined;
  Paging: Paging;
}

export function parseDescribeInvocationResults(params: Record<string, unknown>): DescribeInvocationResultsInput {
  return answeringAs('DescribeInvocationResults', () => {
    const v = readFields(params, FIELDS);
    checkTags(v.Tag);
    return {
      ...v,
      ContentEncoding: v.ContentEncoding?.toLowerCase() === 'plaintext' ? 'PlainText' : 'Base64',
      IncludeHistory: v.IncludeHistory ?? false,
      Paging: pagingOf(v),
    };
  });
}
