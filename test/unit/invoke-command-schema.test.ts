import { describe, it, expect } from 'vitest';
import { ApiError, type ApiErrorCode } from '../../shared/cloud-assistant/errors.ts';
import {
  checkInvocationOfCommand,
  parseInvokeCommand,
  type InvokeCommandRequest,
  type SavedCommandShape,
} from '../../shared/cloud-assistant/requests/invoke-command.ts';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** The smallest request InvokeCommand accepts (seed 000). */
const minimal = {
  RegionId: 'cn-hangzhou',
  CommandId: 'c-e996287206324975b5fbe1d0001',
  InstanceId: ['i-bp185dy2o3o6n0001'],
} satisfies InvokeCommandRequest;

function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...minimal, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete out[k];
  return out;
}

/** Runs `act` and returns the ApiError it threw; fails the test when nothing was thrown. */
function thrown(act: () => unknown): ApiError {
  try {
    act();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('nothing was thrown');
}

/** Asserts the API's code and HTTP status; returns the message. */
function expectApiError(act: () => unknown, code: ApiErrorCode, httpStatus: number): string {
  const e = thrown(act);
  expect({ code: e.code, httpStatus: e.httpStatus }).toEqual({ code, httpStatus });
  return e.message;
}

const expectRejected = (input: unknown, code: ApiErrorCode, httpStatus: number): string =>
  expectApiError(() => parseInvokeCommand(input), code, httpStatus);

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `i-bp${String(i).padStart(16, '0')}`);
const tags = (n: number): { Key: string; Value: string }[] => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
const values = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 'v']));

const KB = 1024;

// ---------------------------------------------------------------------------------------------
// parseInvokeCommand
// ---------------------------------------------------------------------------------------------

describe('Function: parseInvokeCommand', () => {
  describe('a valid request', () => {
    it('passes the minimal request: a one-time run whose other settings come from the saved command', () => {
      // Act
      const parsed = parseInvokeCommand(request());

      // Assess
      expect(parsed).toMatchObject({ RegionId: 'cn-hangzhou', CommandId: minimal.CommandId, InstanceId: minimal.InstanceId, RepeatMode: 'Once' });
      expect(parsed.Timeout).toBeUndefined();
      expect(parsed.TerminationMode).toBeUndefined();
      expect(parsed.Parameters).toBeUndefined();
    });

    it('accepts the same request as wire strings and gives the same result', () => {
      // Prepare: the documented sample request, as typed values and as the wire sends them
      const typed = request({ Timeout: 600, Parameters: { name: 'Jack', accessKey: 'LTAIdyv******aRY' }, Username: 'root', Frequency: '0 */20 * * * ?', Timed: true });
      const wire = request({ Timeout: '600', Parameters: '{"name":"Jack", "accessKey":"LTAIdyv******aRY"}', Username: 'root', Frequency: '0 */20 * * * ?', Timed: 'true' });

      // Act
      const fromTyped = parseInvokeCommand(typed);
      const fromWire = parseInvokeCommand(wire);

      // Assess
      expect(fromWire).toEqual(fromTyped);
      expect(fromWire).toMatchObject({ Timeout: 600, Parameters: { name: 'Jack', accessKey: 'LTAIdyv******aRY' }, RepeatMode: 'Period' });
    });

    it('accepts ResourceTag instead of InstanceId', () => {
      expect(parseInvokeCommand(request({ InstanceId: undefined, ResourceTag: [{ Key: 'env', Value: 'prod' }] })).ResourceTag).toEqual([{ Key: 'env', Value: 'prod' }]);
    });
  });

  describe('required fields and targets', () => {
    it('MissingParameter.CommandId (400) without a CommandId, or with an empty one', () => {
      expect(expectRejected(request({ CommandId: undefined }), 'MissingParameter.CommandId', 400)).toMatch(/CommandId/);
      expectRejected(request({ CommandId: '' }), 'MissingParameter.CommandId', 400);
    });

    it('MissingParameter.RegionId (400) without a RegionId', () => {
      expectRejected(request({ RegionId: undefined }), 'MissingParameter.RegionId', 400);
    });

    it('MissingParam.InstanceId (400) with neither InstanceId nor ResourceTag', () => {
      expectRejected(request({ InstanceId: undefined }), 'MissingParam.InstanceId', 400);
      expectRejected(request({ InstanceId: [] }), 'MissingParam.InstanceId', 400);
    });

    it('InvalidResourceTag.ConflictWithInstanceIds (400) with both', () => {
      expectRejected(request({ ResourceTag: [{ Key: 'env', Value: 'prod' }] }), 'InvalidResourceTag.ConflictWithInstanceIds', 400);
    });

    it('InstanceIds.ExceedLimit (403) for 51 instance ids; 50 pass (seed 000: N is 1 to 50)', () => {
      expect(expectRejected(request({ InstanceId: ids(51) }), 'InstanceIds.ExceedLimit', 403)).toMatch(/51 .*at most 50/);
      expect(parseInvokeCommand(request({ InstanceId: ids(50) })).InstanceId).toHaveLength(50);
    });

    it('counts no ResourceTag pairs: seed 000 has no ResourceTag (the SDK model says 10)', () => {
      const byTags = (n: number): Record<string, unknown> => request({ InstanceId: undefined, ResourceTag: tags(n) });
      expect(parseInvokeCommand(byTags(11)).ResourceTag).toHaveLength(11);
      expect(parseInvokeCommand(byTags(10)).ResourceTag).toHaveLength(10);
    });

    it('checks ResourceTag keys and values', () => {
      const byTags = (t: unknown): Record<string, unknown> => request({ InstanceId: undefined, ResourceTag: t });
      expectRejected(byTags([{ Value: 'x' }]), 'MissingParameter.ResourceTagKey', 400);
      expectRejected(byTags([{ Key: 'a' }, { Key: 'a' }]), 'Duplicate.ResourceTagKey', 400);
      expectRejected(byTags([{ Key: 'k'.repeat(65) }]), 'InvalidResourceTagKey.Malformed', 400);
      expectRejected(byTags([{ Key: 'k', Value: 'v'.repeat(129) }]), 'InvalidResourceTagValue.Malformed', 400);
    });
  });

  describe('Parameters', () => {
    it('ParameterCount.ExceedLimit (403) for 11 pairs; 10 pass', () => {
      expect(expectRejected(request({ Parameters: values(11) }), 'ParameterCount.ExceedLimit', 403)).toMatch(/11 pairs; at most 10/);
      expect(parseInvokeCommand(request({ Parameters: values(10) })).Parameters).toEqual(values(10));
      expect(parseInvokeCommand(request({ Parameters: JSON.stringify(values(10)) })).Parameters).toEqual(values(10));
    });

    it('ParameterKey.ExceedLimit (403) for a key over 64 characters; 64 pass', () => {
      expectRejected(request({ Parameters: { ['k'.repeat(65)]: 'v' } }), 'ParameterKey.ExceedLimit', 403);
      expect(() => parseInvokeCommand(request({ Parameters: { ['k'.repeat(64)]: 'v' } }))).not.toThrow();
    });

    it('ParameterKey.Duplicate (403, as seed 000 answers for InvokeCommand) for a name given twice, ignoring case', () => {
      expect(expectRejected(request({ Parameters: { name: 'a', NAME: 'b' } }), 'ParameterKey.Duplicate', 403)).toMatch(/ignore case/);
      expectRejected(request({ Parameters: '{"Name":"a","name":"b"}' }), 'ParameterKey.Duplicate', 403);
      expectRejected(request({ Parameters: '{"name":"a","name":"b"}' }), 'ParameterKey.Duplicate', 403);
    });

    it('ParameterType.NotSupported (403) for a value that is not a string, number or boolean', () => {
      expectRejected(request({ Parameters: { name: ['a'] } }), 'ParameterType.NotSupported', 403);
      expectRejected(request({ Parameters: '{"name":{"first":"Jack"}}' }), 'ParameterType.NotSupported', 403);
      expect(parseInvokeCommand(request({ Parameters: '{"n":1,"b":false,"s":""}' })).Parameters).toEqual({ n: 1, b: false, s: '' });
    });

    it('InvalidParameter.Parameters (400) for text that is not a JSON object, or a value that is not a map', () => {
      expect(expectRejected(request({ Parameters: '{name: Jack}' }), 'InvalidParameter.Parameters', 400)).toMatch(/JSON object/);
      expectRejected(request({ Parameters: '"Jack"' }), 'InvalidParameter.Parameters', 400);
      expectRejected(request({ Parameters: ['Jack'] }), 'InvalidParameter.Parameters', 400);
    });

    it('CmdParam.EmptyKey (400) for an empty key', () => {
      expectRejected(request({ Parameters: { '': 'v' } }), 'CmdParam.EmptyKey', 400);
    });

    it('treats empty Parameters text as no parameters', () => {
      expect(parseInvokeCommand(request({ Parameters: '' })).Parameters).toBeUndefined();
      expect(parseInvokeCommand(request({ Parameters: '   ' })).Parameters).toBeUndefined();
    });
  });

  describe('schedule and Timeout', () => {
    it('InvalidRepeatMode.NotFound (404) for an unknown RepeatMode', () => {
      expectRejected(request({ RepeatMode: 'Hourly' }), 'InvalidRepeatMode.NotFound', 404);
    });

    it('MissingParam.Frequency (400) for RepeatMode=Period without a Frequency', () => {
      expectRejected(request({ RepeatMode: 'Period' }), 'MissingParam.Frequency', 400);
    });

    it('InvalidParam.Frequency (400) for an expired at time, a year after 2099 and a rate under a minute', () => {
      expectRejected(request({ Frequency: 'at(2022-06-06 13:15:30 Asia/Shanghai)' }), 'InvalidParam.Frequency', 400);
      expectRejected(request({ Frequency: '0 15 10 ? * * 2100' }), 'InvalidParam.Frequency', 400);
      expectRejected(request({ Frequency: 'rate(30s)', Timeout: 10 }), 'InvalidParam.Frequency', 400);
    });

    it('checks a rate against this invocation\'s Timeout', () => {
      expectRejected(request({ Frequency: 'rate(10m)', Timeout: '600' }), 'InvalidParam.Frequency', 400);
      expect(parseInvokeCommand(request({ Frequency: 'rate(10m)', Timeout: '599' })).RepeatMode).toBe('Period');
    });

    it('makes the run Period whenever a Frequency is given', () => {
      expect(parseInvokeCommand(request({ Frequency: 'rate(5m)' })).RepeatMode).toBe('Period');
      expect(parseInvokeCommand(request({ RepeatMode: 'Once', Frequency: '0 */20 * * * ?' })).RepeatMode).toBe('Period');
      expect(parseInvokeCommand(request({ RepeatMode: 'EveryReboot' })).RepeatMode).toBe('EveryReboot');
    });

    it('accepts a Timeout of 5 s or 86401 s: no seed gives a lower or an upper bound', () => {
      expect(parseInvokeCommand(request({ Timeout: 5 })).Timeout).toBe(5);
      expect(parseInvokeCommand(request({ Timeout: '86401' })).Timeout).toBe(86_401);
      expect(parseInvokeCommand(request({ Timeout: '10' })).Timeout).toBe(10);
    });
  });

  describe('the other fields', () => {
    it.each<[string, Record<string, unknown>, ApiErrorCode, number]>([
      ['21 tags', { Tag: tags(21) }, 'NumberExceed.Tags', 400],
      ['a tag without a key', { Tag: [{ Value: 'v' }] }, 'MissingParameter.TagKey', 400],
      ['a repeated tag key', { Tag: [{ Key: 'a' }, { Key: 'a' }] }, 'Duplicate.TagKey', 400],
      ['a 65-character tag key', { Tag: [{ Key: 'k'.repeat(65) }] }, 'InvalidTagKey.Malformed', 400],
      ['a 129-character tag value', { Tag: [{ Key: 'k', Value: 'v'.repeat(129) }] }, 'InvalidTagValue.Malformed', 400],
      ['a malformed ContainerId', { ContainerId: 'xyz' }, 'InvalidContainerId.Malformed', 400],
      ['a 65-character ClientToken', { ClientToken: 'c'.repeat(65) }, 'InvalidClientToken.Malformed', 400],
      ['a 201-character WorkingDir', { WorkingDir: 'd'.repeat(201) }, 'InvalidParameter.WorkingDir', 400],
      ['a 256-character Username', { Username: 'u'.repeat(256) }, 'Username.ExceedLimit', 403],
      ['a 256-character WindowsPasswordName', { WindowsPasswordName: 'p'.repeat(256) }, 'WindowsPasswordName.ExceedLimit', 403],
      ['a Launcher over 1 KB', { Launcher: 'l'.repeat(1025) }, 'InvalidLauncher.LengthLimitExceeded', 403],
      ['an unknown TerminationMode', { TerminationMode: 'Kill' }, 'InvalidTerminationMode.NotFound', 404],
      ['an OssOutputDelivery that is no oss:// address', { OssOutputDelivery: 's3://bucket/x' }, 'InvalidParameter.OssOutputDelivery', 400],
      ['an OSS key prefix with //', { OssOutputDelivery: 'oss://bucket//x' }, 'InvalidOssOutputDelivery.KeyPrefixMalformed', 400],
    ])('rejects %s', (_what, overrides, code, status) => {
      expectRejected(request(overrides), code, status);
    });

    it('keeps a valid TerminationMode', () => {
      expect(parseInvokeCommand(request({ TerminationMode: 'ProcessTree' })).TerminationMode).toBe('ProcessTree');
    });
  });
});

// ---------------------------------------------------------------------------------------------
// checkInvocationOfCommand
// ---------------------------------------------------------------------------------------------

describe('Function: checkInvocationOfCommand', () => {
  const withParameters: SavedCommandShape = { script: 'echo {{name}} {{Greeting}}', enableParameter: true, parameterNames: ['name', 'Greeting'], type: 'RunShellScript' };
  const withoutParameters: SavedCommandShape = { script: 'echo hello', enableParameter: false, parameterNames: [], type: 'RunShellScript' };

  it('accepts parameters the command defines, in any case, and fewer than it defines', () => {
    expect(() => checkInvocationOfCommand(withParameters, { name: 'Jack' })).not.toThrow();
    expect(() => checkInvocationOfCommand(withParameters, { NAME: 'Jack', greeting: 'hi' })).not.toThrow();
    expect(() => checkInvocationOfCommand(withParameters, undefined)).not.toThrow();
    expect(() => checkInvocationOfCommand(withoutParameters, undefined)).not.toThrow();
    expect(() => checkInvocationOfCommand(withoutParameters, {})).not.toThrow();
  });

  it('Parameter.Disabled (400) for parameters to a command created with EnableParameter=false', () => {
    expect(expectApiError(() => checkInvocationOfCommand(withoutParameters, { name: 'Jack' }), 'Parameter.Disabled', 400)).toMatch(/EnableParameter=false/);
  });

  it('Parameter.NotMatched (403, as seed 000 answers for InvokeCommand) for a parameter the command does not define', () => {
    expect(expectApiError(() => checkInvocationOfCommand(withParameters, { name: 'Jack', age: 3 }), 'Parameter.NotMatched', 403)).toMatch(/"age"/);
  });

  it('CmdContent.ExceedLimit (403) when script and parameters exceed 18 KB in Base64', () => {
    // Prepare: 13824 script bytes are exactly 18432 in Base64; {"name":"v"} is 12 bytes, 16 in Base64
    const atLimit: SavedCommandShape = { ...withoutParameters, script: 'a'.repeat(13.5 * KB) };
    const over: SavedCommandShape = { ...withoutParameters, script: 'a'.repeat(13.5 * KB + 1) };
    const shortByParams: SavedCommandShape = { script: `echo {{name}}${'a'.repeat(13.5 * KB - 12 - 13)}`, enableParameter: true, parameterNames: ['name'], type: 'RunShellScript' };

    // Act / Assess
    expect(() => checkInvocationOfCommand(atLimit, undefined)).not.toThrow();
    expect(expectApiError(() => checkInvocationOfCommand(over, undefined), 'CmdContent.ExceedLimit', 403)).toMatch(/limit is 18432 bytes \(18 KB\)/);
    expect(() => checkInvocationOfCommand(shortByParams, undefined)).not.toThrow();
    expect(() => checkInvocationOfCommand(shortByParams, { name: 'v' })).not.toThrow();
    expectApiError(() => checkInvocationOfCommand(shortByParams, { name: 'vv' }), 'CmdContent.ExceedLimit', 403);
  });
  it('WindowsPasswordName.Missed (403, seed 000) for a Windows command run as a user other than System without a password name', () => {
    const bat: SavedCommandShape = { ...withoutParameters, type: 'RunBatScript' };
    const powershell: SavedCommandShape = { ...withoutParameters, type: 'RunPowerShellScript' };
    expect(expectApiError(() => checkInvocationOfCommand(bat, undefined, undefined, { username: 'admin' }), 'WindowsPasswordName.Missed', 403)).toMatch(/WindowsPasswordName/);
    expectApiError(() => checkInvocationOfCommand(powershell, undefined, undefined, { username: 'admin' }), 'WindowsPasswordName.Missed', 403);
    expect(() => checkInvocationOfCommand(bat, undefined, undefined, { username: 'admin', windowsPasswordName: 'axtSecretPassword' })).not.toThrow();
    expect(() => checkInvocationOfCommand(bat, undefined, undefined, { username: 'System' })).not.toThrow();
    expect(() => checkInvocationOfCommand(withoutParameters, undefined, undefined, { username: 'admin' })).not.toThrow();
  });
});
