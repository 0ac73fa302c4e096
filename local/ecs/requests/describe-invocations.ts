/** DescribeInvocations (seed 004). */
import { answeringAs, EcsApiError } from '../api-error.ts';
import { checkTags, COMMAND_TYPES, isOneOf } from './checks.ts';
import { PAGING_FIELDS, pagingOf, type Paging } from './paging.ts';
import { optional, readFields, required, wireBoolean, wireTags, wireText, type WireTag } from './wire-values.ts';

const FIELDS = {
  RegionId: required(wireText, 'MissingParameter.RegionId'),
  ResourceGroupId: optional(wireText),
  InvokeId: optional(wireText),
  CommandId: optional(wireText),
  CommandName: optional(wireText),
  CommandType: optional(wireText),
  /** Only tasks that are (true) or are not (false) run automatically; see service.findInvocations. */
  Timed: optional(wireBoolean),
  InvokeStatus: optional(wireText),
  InstanceId: optional(wireText),
  ContentEncoding: optional(wireText),
  IncludeOutput: optional(wireBoolean),
  ...PAGING_FIELDS,
  RepeatMode: optional(wireText),
  Tag: optional(wireTags),
};

export interface DescribeInvocationsInput {
  RegionId: string;
  ResourceGroupId?: string | undefined;
  InvokeId?: string | undefined;
  CommandId?: string | undefined;
  CommandName?: string | undefined;
  CommandType?: string | undefined;
  Timed?: boolean | undefined;
  InvokeStatus?: string | undefined;
  InstanceId?: string | undefined;
  /** Seed 004: CommandContent and Output are Base64 unless PlainText is asked for. */
  ContentEncoding: 'PlainText' | 'Base64';
  IncludeOutput: boolean;
  RepeatMode?: string | undefined;
  Tag?: WireTag[] | undefined;
  Paging: Paging;
}

export function parseDescribeInvocations(params: Record<string, unknown>): DescribeInvocationsInput {
  return answeringAs('DescribeInvocations', () => {
    const v = readFields(params, FIELDS);
    checkTags(v.Tag);
    if (v.CommandType !== undefined && !isOneOf(COMMAND_TYPES, v.CommandType))
      throw new EcsApiError('InvalidCmdType.NotFound', `CommandType ${v.CommandType} is not one of ${COMMAND_TYPES.join(', ')}.`);
    return {
      ...v,
      ContentEncoding: v.ContentEncoding?.toLowerCase() === 'plaintext' ? 'PlainText' : 'Base64',
      IncludeOutput: v.IncludeOutput ?? false,
      Paging: pagingOf(v),
    };
  });
}
