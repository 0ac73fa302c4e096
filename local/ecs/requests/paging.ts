/**
 * Seed 004's two ways of paging: MaxResults (1 to 50, default 10) with NextToken, or PageNumber (from 1)
 * with PageSize (at most 50, default 10). MaxResults or NextToken given: PageNumber/PageSize are ignored.
 */
import { EcsApiError } from '../api-error.ts';
import { optional, wireInteger, wireText } from './wire-values.ts';

export type Paging =
  | { method: 'token'; maxResults: number; nextToken: string | undefined }
  | { method: 'page'; pageNumber: number; pageSize: number };

export const PAGING_FIELDS = {
  PageNumber: optional(wireInteger, 'InvalidParam.PageNumber'),
  PageSize: optional(wireInteger, 'InvalidParam.PageSize'),
  MaxResults: optional(wireInteger, 'InvalidParameter.MaxResults'),
  NextToken: optional(wireText),
};

export function pagingOf(v: { PageNumber?: number | undefined; PageSize?: number | undefined; MaxResults?: number | undefined; NextToken?: string | undefined }, largest = 50): Paging {
  if (v.MaxResults !== undefined && (v.MaxResults < 1 || v.MaxResults > largest))
    throw new EcsApiError('InvalidParameter.MaxResults', `MaxResults is 1 to ${largest}; got ${v.MaxResults}.`);
  if (v.MaxResults !== undefined || v.NextToken) return { method: 'token', maxResults: v.MaxResults ?? 10, nextToken: v.NextToken || undefined };
  if (v.PageNumber !== undefined && v.PageNumber < 1) throw new EcsApiError('InvalidParam.PageNumber', `PageNumber starts at 1; got ${v.PageNumber}.`);
  if (v.PageSize !== undefined && (v.PageSize < 1 || v.PageSize > largest)) throw new EcsApiError('InvalidParam.PageSize', `PageSize is 1 to ${largest}; got ${v.PageSize}.`);
  return { method: 'page', pageNumber: v.PageNumber ?? 1, pageSize: v.PageSize ?? 10 };
}
