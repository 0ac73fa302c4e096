/**
 * DescribeInvocations, DescribeInvocationResults and StopInvocation. Both Describe operations page
 * in two ways: MaxResults + NextToken, or PageSize + PageNumber; when MaxResults or NextToken is
 * given the other pair is ignored.
 * (seed 004, DescribeInvocations)
 */
import { z } from 'zod';
import { COMMAND_TYPES, LIMITS } from '../constants.ts';
import { checkTags, fail, instanceIdList, countingSink, parseApiRequest, tagPair, wireBoolean, wireInteger, type FieldCodes, type IssueSink } from './common.ts';

const paging = {
  PageNumber: wireInteger.optional(),
  PageSize: wireInteger.optional(),
  MaxResults: wireInteger.optional(),
  NextToken: z.string().optional(),
};

export type Paging =
  | { method: 'token'; maxResults: number; nextToken: string | undefined }
  | { method: 'page'; pageNumber: number; pageSize: number };

function checkPaging(v: { PageNumber?: number | undefined; PageSize?: number | undefined; MaxResults?: number | undefined; NextToken?: string | undefined }, ctx: IssueSink): Paging | undefined {
  if (v.MaxResults !== undefined && (v.MaxResults < 1 || v.MaxResults > LIMITS.pageSize)) {
    fail(ctx, 'InvalidParameter.MaxResults', `MaxResults must be 1 to ${LIMITS.pageSize} (got ${v.MaxResults}).`, ['MaxResults']);
    return undefined;
  }
  if (v.MaxResults !== undefined || (v.NextToken !== undefined && v.NextToken !== '')) {
    return { method: 'token', maxResults: v.MaxResults ?? LIMITS.defaultPageSize, nextToken: v.NextToken || undefined };
  }
  if (v.PageNumber !== undefined && v.PageNumber < 1) {
    fail(ctx, 'InvalidParam.PageNumber', `PageNumber starts at 1 (got ${v.PageNumber}).`, ['PageNumber']);
    return undefined;
  }
  if (v.PageSize !== undefined && (v.PageSize < 1 || v.PageSize > LIMITS.pageSize)) {
    fail(ctx, 'InvalidParam.PageSize', `PageSize must be 1 to ${LIMITS.pageSize} (got ${v.PageSize}).`, ['PageSize']);
    return undefined;
  }
  return { method: 'page', pageNumber: v.PageNumber ?? 1, pageSize: v.PageSize ?? LIMITS.defaultPageSize };
}

export const describeInvocationsRequestSchema = z
  .object({
    RegionId: z.string().min(1),
    ResourceGroupId: z.string().optional(),
    InvokeId: z.string().optional(),
    CommandId: z.string().optional(),
    CommandName: z.string().optional(),
    CommandType: z.string().optional(),
    Timed: wireBoolean.optional(),
    InvokeStatus: z.string().optional(),
    InstanceId: z.string().optional(),
    ContentEncoding: z.string().optional(),
    IncludeOutput: wireBoolean.optional(),
    RepeatMode: z.string().optional(),
    Tag: z.array(tagPair).optional(),
    ...paging,
  })
  .transform((v, zctx) => {
    const ctx = countingSink(zctx);
    checkTags(v.Tag, ctx);
    if (v.CommandType !== undefined && !(COMMAND_TYPES as readonly string[]).includes(v.CommandType))
      fail(ctx, 'InvalidCmdType.NotFound', `CommandType "${v.CommandType}" is not one of ${COMMAND_TYPES.join(', ')}.`, ['CommandType']);
    const page = checkPaging(v, ctx);
    if (ctx.count > 0 || !page) return z.NEVER;
    // Output and content come Base64 unless PlainText is asked for (seed 004).
    const encoding = v.ContentEncoding?.toLowerCase() === 'plaintext' ? ('PlainText' as const) : ('Base64' as const);
    return { ...v, ContentEncoding: encoding, IncludeOutput: v.IncludeOutput ?? false, Paging: page };
  });
export type DescribeInvocationsRequest = z.input<typeof describeInvocationsRequestSchema>;
export type DescribeInvocationsInput = z.output<typeof describeInvocationsRequestSchema>;

export const describeInvocationResultsRequestSchema = z
  .object({
    RegionId: z.string().min(1),
    ResourceGroupId: z.string().optional(),
    InvokeId: z.string().optional(),
    InstanceId: z.string().optional(),
    CommandId: z.string().optional(),
    InvokeRecordStatus: z.string().optional(),
    IncludeHistory: wireBoolean.optional(),
    ContentEncoding: z.string().optional(),
    Tag: z.array(tagPair).optional(),
    ...paging,
  })
  .transform((v, zctx) => {
    const ctx = countingSink(zctx);
    checkTags(v.Tag, ctx);
    const page = checkPaging(v, ctx);
    if (ctx.count > 0 || !page) return z.NEVER;
    const encoding = v.ContentEncoding?.toLowerCase() === 'plaintext' ? ('PlainText' as const) : ('Base64' as const);
    return { ...v, ContentEncoding: encoding, IncludeHistory: v.IncludeHistory ?? false, Paging: page };
  });
export type DescribeInvocationResultsRequest = z.input<typeof describeInvocationResultsRequestSchema>;
export type DescribeInvocationResultsInput = z.output<typeof describeInvocationResultsRequestSchema>;

/** No seed covers StopInvocation, so no InstanceId.N count is checked (the SDK model says 50). */
export const stopInvocationRequestSchema = z.object({
  RegionId: z.string().min(1),
  InvokeId: z.string().min(1),
  InstanceId: instanceIdList.optional(),
});
export type StopInvocationRequest = z.input<typeof stopInvocationRequestSchema>;
export type StopInvocationInput = z.output<typeof stopInvocationRequestSchema>;

const CODES: FieldCodes = {
  missing: { RegionId: 'MissingParameter.RegionId' },
  // A paging value that is not a whole number is as invalid as one out of range (seed 004).
  invalid: { MaxResults: 'InvalidParameter.MaxResults', PageSize: 'InvalidParam.PageSize', PageNumber: 'InvalidParam.PageNumber' },
};

export function parseDescribeInvocations(request: unknown): DescribeInvocationsInput {
  return parseApiRequest(describeInvocationsRequestSchema, request, CODES);
}
export function parseDescribeInvocationResults(request: unknown): DescribeInvocationResultsInput {
  return parseApiRequest(describeInvocationResultsRequestSchema, request, CODES);
}
export function parseStopInvocation(request: unknown): StopInvocationInput {
  return parseApiRequest(stopInvocationRequestSchema, request, CODES);
}
