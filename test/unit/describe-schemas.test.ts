import { describe, it, expect } from 'vitest';
import { ApiError, type ApiErrorCode } from '../../shared/cloud-assistant/errors.ts';
import {
  parseDescribeInvocationResults,
  parseDescribeInvocations,
  parseStopInvocation,
} from '../../shared/cloud-assistant/requests/describe.ts';

function expectApiError(act: () => unknown, code: ApiErrorCode, httpStatus: number): string {
  try {
    act();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    const err = e as ApiError;
    expect({ code: err.code, httpStatus: err.httpStatus }).toEqual({ code, httpStatus });
    return err.message;
  }
  throw new Error('the request was accepted');
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `i-bp${String(i).padStart(16, '0')}`);

/** Both Describe operations page the same way (seed 004). */
const operations = [
  ['DescribeInvocations', parseDescribeInvocations],
  ['DescribeInvocationResults', parseDescribeInvocationResults],
] as const;

describe.each(operations)('Function: parse%s', (_name, parse) => {
  const region = { RegionId: 'cn-hangzhou' };

  describe('paging', () => {
    it('pages by number, 10 a page from page 1, when nothing is given', () => {
      expect(parse(region).Paging).toEqual({ method: 'page', pageNumber: 1, pageSize: 10 });
    });

    it('pages by PageSize and PageNumber, typed or as wire strings', () => {
      expect(parse({ ...region, PageNumber: 3, PageSize: 50 }).Paging).toEqual({ method: 'page', pageNumber: 3, pageSize: 50 });
      expect(parse({ ...region, PageNumber: '3', PageSize: '50' }).Paging).toEqual({ method: 'page', pageNumber: 3, pageSize: 50 });
    });

    it('pages by token when MaxResults or NextToken is given', () => {
      expect(parse({ ...region, MaxResults: 20 }).Paging).toEqual({ method: 'token', maxResults: 20, nextToken: undefined });
      expect(parse({ ...region, NextToken: 'AAAAAdDWBF2' }).Paging).toEqual({ method: 'token', maxResults: 10, nextToken: 'AAAAAdDWBF2' });
      expect(parse({ ...region, MaxResults: '50', NextToken: 'AAAAAdDWBF2' }).Paging).toEqual({ method: 'token', maxResults: 50, nextToken: 'AAAAAdDWBF2' });
    });

    it('lets MaxResults / NextToken win over PageSize / PageNumber, which are then not even checked', () => {
      // Act
      const both = parse({ ...region, MaxResults: 5, PageSize: 30, PageNumber: 2 });
      const tokenWithBadPage = parse({ ...region, NextToken: 'AAAAAdDWBF2', PageSize: 0, PageNumber: 0 });

      // Assess
      expect(both.Paging).toEqual({ method: 'token', maxResults: 5, nextToken: undefined });
      expect(tokenWithBadPage.Paging).toEqual({ method: 'token', maxResults: 10, nextToken: 'AAAAAdDWBF2' });
    });

    it('treats an empty NextToken as none', () => {
      expect(parse({ ...region, NextToken: '', PageNumber: 2 }).Paging).toEqual({ method: 'page', pageNumber: 2, pageSize: 10 });
    });

    it('InvalidParameter.MaxResults (400) for 0, 51 and a value that is no number; 1 and 50 pass', () => {
      expect(expectApiError(() => parse({ ...region, MaxResults: 0 }), 'InvalidParameter.MaxResults', 400)).toMatch(/1 to 50 \(got 0\)/);
      expect(expectApiError(() => parse({ ...region, MaxResults: '51' }), 'InvalidParameter.MaxResults', 400)).toMatch(/got 51/);
      expectApiError(() => parse({ ...region, MaxResults: 'ten' }), 'InvalidParameter.MaxResults', 400);
      expect(parse({ ...region, MaxResults: 1 }).Paging).toMatchObject({ maxResults: 1 });
      expect(parse({ ...region, MaxResults: 50 }).Paging).toMatchObject({ maxResults: 50 });
    });

    it('InvalidParam.PageSize (400) for 0, 51 and a value that is no number', () => {
      expect(expectApiError(() => parse({ ...region, PageSize: 0 }), 'InvalidParam.PageSize', 400)).toMatch(/PageSize must be 1 to 50/);
      expectApiError(() => parse({ ...region, PageSize: '51' }), 'InvalidParam.PageSize', 400);
      expectApiError(() => parse({ ...region, PageSize: '1.5' }), 'InvalidParam.PageSize', 400);
    });

    it('InvalidParam.PageNumber (400) for 0, a negative page and a value that is no number', () => {
      expect(expectApiError(() => parse({ ...region, PageNumber: 0 }), 'InvalidParam.PageNumber', 400)).toMatch(/PageNumber starts at 1/);
      expectApiError(() => parse({ ...region, PageNumber: '-1' }), 'InvalidParam.PageNumber', 400);
      expectApiError(() => parse({ ...region, PageNumber: 'first' }), 'InvalidParam.PageNumber', 400);
    });
  });

  describe('the other fields', () => {
    it('MissingParameter.RegionId (400) without a RegionId', () => {
      expectApiError(() => parse({}), 'MissingParameter.RegionId', 400);
    });

    it('returns content and output in Base64 unless PlainText is asked for, in any case', () => {
      expect(parse(region).ContentEncoding).toBe('Base64');
      expect(parse({ ...region, ContentEncoding: 'PlainText' }).ContentEncoding).toBe('PlainText');
      expect(parse({ ...region, ContentEncoding: 'plaintext' }).ContentEncoding).toBe('PlainText');
      expect(parse({ ...region, ContentEncoding: 'Hex' }).ContentEncoding).toBe('Base64');
    });

    it('checks Tag like every other operation', () => {
      expectApiError(() => parse({ ...region, Tag: Array.from({ length: 21 }, (_, i) => ({ Key: `k${i}` })) }), 'NumberExceed.Tags', 400);
      expectApiError(() => parse({ ...region, Tag: [{ Key: 'a' }, { Key: 'a' }] }), 'Duplicate.TagKey', 400);
      expectApiError(() => parse({ ...region, Tag: [{ Value: 'v' }] }), 'MissingParameter.TagKey', 400);
    });
  });
});

describe('Function: parseDescribeInvocations', () => {
  it('defaults IncludeOutput to false and reads the wire "true"', () => {
    expect(parseDescribeInvocations({ RegionId: 'cn-hangzhou' }).IncludeOutput).toBe(false);
    expect(parseDescribeInvocations({ RegionId: 'cn-hangzhou', IncludeOutput: 'true' }).IncludeOutput).toBe(true);
  });

  it('InvalidCmdType.NotFound (404) for an unknown CommandType', () => {
    expectApiError(() => parseDescribeInvocations({ RegionId: 'cn-hangzhou', CommandType: 'RunPython' }), 'InvalidCmdType.NotFound', 404);
  });
});

describe('Function: parseDescribeInvocationResults', () => {
  it('defaults IncludeHistory to false and reads the wire "true"', () => {
    expect(parseDescribeInvocationResults({ RegionId: 'cn-hangzhou' }).IncludeHistory).toBe(false);
    expect(parseDescribeInvocationResults({ RegionId: 'cn-hangzhou', IncludeHistory: 'true' }).IncludeHistory).toBe(true);
  });
});

describe('Function: parseStopInvocation', () => {
  it('stops every instance when no InstanceId is given', () => {
    expect(parseStopInvocation({ RegionId: 'cn-hangzhou', InvokeId: 't-1' })).toEqual({ RegionId: 'cn-hangzhou', InvokeId: 't-1' });
  });

  it('takes any number of instance ids: no seed covers StopInvocation, so no count is checked', () => {
    expect(parseStopInvocation({ RegionId: 'cn-hangzhou', InvokeId: 't-1', InstanceId: ids(51) }).InstanceId).toHaveLength(51);
    expect(parseStopInvocation({ RegionId: 'cn-hangzhou', InvokeId: 't-1', InstanceId: ids(50) }).InstanceId).toHaveLength(50);
  });

  it('MissingParameter (400) without an InvokeId, or with an empty one', () => {
    expect(expectApiError(() => parseStopInvocation({ RegionId: 'cn-hangzhou' }), 'MissingParameter', 400)).toMatch(/InvokeId is required/);
    expectApiError(() => parseStopInvocation({ RegionId: 'cn-hangzhou', InvokeId: '' }), 'MissingParameter', 400);
    expectApiError(() => parseStopInvocation({ RegionId: 'cn-hangzhou', InvokeId: '', InstanceId: ids(51) }), 'MissingParameter', 400);
  });

  it('MissingParameter.RegionId (400) without a RegionId', () => {
    expectApiError(() => parseStopInvocation({ InvokeId: 't-1' }), 'MissingParameter.RegionId', 400);
  });
});
