import { describe, it, expect } from 'vitest';
import { ApiError, type ApiErrorCode } from '../../shared/cloud-assistant/errors.ts';
import { parseRunCommand, type RunCommandRequest } from '../../shared/cloud-assistant/requests/run-command.ts';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** The smallest request RunCommand accepts (seed 001): region, type, content and one target. */
const minimal = {
  RegionId: 'cn-hangzhou',
  Type: 'RunShellScript',
  CommandContent: 'echo hello',
  InstanceId: ['i-bp185dy2o3o6neg0001'],
} satisfies RunCommandRequest;

/** The minimal request with some fields replaced; `undefined` removes a field. */
function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...minimal, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete out[k];
  return out;
}

/** Runs the parser and returns what it threw; fails the test when the request was accepted. */
function rejection(input: unknown): ApiError {
  try {
    parseRunCommand(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error(`the request was accepted: ${JSON.stringify(input).slice(0, 200)}`);
}

/** Asserts the API's error code and HTTP status, and returns the message so a test can check it explains the problem. */
function expectRejected(input: unknown, code: ApiErrorCode, httpStatus: number): string {
  const e = rejection(input);
  expect({ code: e.code, httpStatus: e.httpStatus }).toEqual({ code, httpStatus });
  return e.message;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `i-bp${String(i).padStart(16, '0')}`);
const tags = (n: number): { Key: string; Value: string }[] => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
/** A content defining `n` distinct custom parameters p0 … p(n-1), and Parameters giving each a value. */
const placeholders = (n: number): string => Array.from({ length: n }, (_, i) => `echo {{p${i}}}`).join('\n');
const values = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 'v']));

const KB = 1024;

// ---------------------------------------------------------------------------------------------
// Valid requests and defaults
// ---------------------------------------------------------------------------------------------

describe('Function: parseRunCommand', () => {
  describe('a valid request', () => {
    it('passes the minimal request and fills in the documented defaults', () => {
      // Prepare
      const input = request();

      // Act
      const parsed = parseRunCommand(input);

      // Assess
      expect(parsed).toMatchObject({
        RegionId: 'cn-hangzhou',
        Type: 'RunShellScript',
        InstanceId: ['i-bp185dy2o3o6neg0001'],
        Timeout: 60,
        RepeatMode: 'Once',
        TerminationMode: 'Process',
        ContentEncoding: 'PlainText',
        EnableParameter: false,
        Script: 'echo hello',
        ParameterNames: [],
      });
    });

    it('decodes the script from Base64 when ContentEncoding=Base64', () => {
      // Prepare
      const input = request({ CommandContent: 'ZWNobyAxMjM=', ContentEncoding: 'Base64' });

      // Act
      const parsed = parseRunCommand(input);

      // Assess: the documented example content "ZWNobyAxMjM=" is "echo 123"
      expect(parsed.ContentEncoding).toBe('Base64');
      expect(parsed.Script).toBe('echo 123');
      expect(parsed.CommandContent).toBe('ZWNobyAxMjM=');
    });

    it('reads ContentEncoding in any case', () => {
      // Prepare
      const script = 'echo "größer als" ✓';
      const inputs = ['base64', 'BASE64', 'bAsE64'].map((enc) => request({ CommandContent: b64(script), ContentEncoding: enc }));

      // Act
      const parsed = inputs.map((i) => parseRunCommand(i));

      // Assess
      for (const p of parsed) {
        expect(p.ContentEncoding).toBe('Base64');
        expect(p.Script).toBe(script);
      }
      expect(parseRunCommand(request({ ContentEncoding: 'plaintext' })).ContentEncoding).toBe('PlainText');
    });

    it('treats an unknown ContentEncoding as PlainText and does not decode', () => {
      // Prepare: Base64-looking text, so decoding it by mistake would change the script
      const input = request({ CommandContent: 'ZWNobyAxMjM=', ContentEncoding: 'Hex' });

      // Act
      const parsed = parseRunCommand(input);

      // Assess
      expect(parsed.ContentEncoding).toBe('PlainText');
      expect(parsed.Script).toBe('ZWNobyAxMjM=');
    });

    it('accepts the same request as wire strings and gives the same result', () => {
      // Prepare: what the SDK puts on the wire and the emulator decodes (reference §3)
      const typed = request({
        CommandContent: b64('echo {{name}} {{ACS::InstanceId}}'),
        ContentEncoding: 'Base64',
        InstanceId: ['i-aaa', 'i-bbb'],
        Timeout: 600,
        EnableParameter: true,
        KeepCommand: false,
        Parameters: { name: 'Jack' },
        Tag: [{ Key: 'team', Value: 'ops' }],
        Name: 'greet',
        Frequency: 'rate(15m)',
      });
      const wire = request({
        CommandContent: b64('echo {{name}} {{ACS::InstanceId}}'),
        ContentEncoding: 'Base64',
        InstanceId: ['i-aaa', 'i-bbb'],
        Timeout: '600',
        EnableParameter: 'true',
        KeepCommand: 'false',
        Parameters: '{"name":"Jack"}',
        Tag: [{ Key: 'team', Value: 'ops' }],
        Name: 'greet',
        Frequency: 'rate(15m)',
      });

      // Act
      const fromTyped = parseRunCommand(typed);
      const fromWire = parseRunCommand(wire);

      // Assess
      expect(fromWire).toEqual(fromTyped);
      expect(fromWire).toMatchObject({
        Timeout: 600,
        EnableParameter: true,
        KeepCommand: false,
        Parameters: { name: 'Jack' },
        RepeatMode: 'Period',
        Script: 'echo {{name}} {{ACS::InstanceId}}',
        ParameterNames: ['name'],
      });
    });

    it('accepts wire ResourceTag pairs instead of InstanceId', () => {
      // Prepare: ResourceTag.1.Key=env&ResourceTag.1.Value=prod decoded into an array
      const input = request({ InstanceId: undefined, ResourceTag: [{ Key: 'env', Value: 'prod' }, { Key: 'role' }] });

      // Act
      const parsed = parseRunCommand(input);

      // Assess
      expect(parsed.ResourceTag).toEqual([{ Key: 'env', Value: 'prod' }, { Key: 'role' }]);
      expect(parsed.InstanceId).toBeUndefined();
    });

    it('takes the boolean wire spellings True and False', () => {
      expect(parseRunCommand(request({ EnableParameter: 'True', KeepCommand: 'False' }))).toMatchObject({ EnableParameter: true, KeepCommand: false });
    });
  });

  // -------------------------------------------------------------------------------------------
  // Required fields and targets
  // -------------------------------------------------------------------------------------------

  describe('required fields and targets', () => {
    it('MissingParameter.RegionId (400) without a RegionId, or with an empty one', () => {
      expect(expectRejected(request({ RegionId: undefined }), 'MissingParameter.RegionId', 400)).toMatch(/RegionId/);
      expectRejected(request({ RegionId: '' }), 'MissingParameter.RegionId', 400);
    });

    it('InvalidCmdType.NotFound (404) for a Type that is not a Cloud Assistant type', () => {
      // Prepare
      const input = request({ Type: 'RunPythonScript' });

      // Act
      const message = expectRejected(input, 'InvalidCmdType.NotFound', 404);

      // Assess
      expect(message).toMatch(/RunPythonScript.*RunShellScript, RunBatScript, RunPowerShellScript/);
      for (const type of ['RunShellScript', 'RunBatScript', 'RunPowerShellScript']) expect(parseRunCommand(request({ Type: type })).Type).toBe(type);
    });

    it('MissingParameter (400) without CommandContent', () => {
      expect(expectRejected(request({ CommandContent: undefined }), 'MissingParameter', 400)).toMatch(/CommandContent/);
    });

    it('MissingParam.InstanceId (400) with neither InstanceId nor ResourceTag', () => {
      expect(expectRejected(request({ InstanceId: undefined }), 'MissingParam.InstanceId', 400)).toMatch(/InstanceId.*ResourceTag/);
      expectRejected(request({ InstanceId: [] }), 'MissingParam.InstanceId', 400);
      expectRejected(request({ InstanceId: [], ResourceTag: [] }), 'MissingParam.InstanceId', 400);
    });

    it('InvalidResourceTag.ConflictWithInstanceIds (400) with both InstanceId and ResourceTag', () => {
      // Prepare
      const input = request({ ResourceTag: [{ Key: 'env', Value: 'prod' }] });

      // Act / Assess
      expect(expectRejected(input, 'InvalidResourceTag.ConflictWithInstanceIds', 400)).toMatch(/either InstanceId or ResourceTag/);
    });

    it('InstanceIds.ExceedLimit (403) for 101 instance ids; 100 pass (seed 001: 1 to 100)', () => {
      // Prepare
      const over = request({ InstanceId: ids(101) });
      const atLimit = request({ InstanceId: ids(100) });

      // Act / Assess
      expect(expectRejected(over, 'InstanceIds.ExceedLimit', 403)).toMatch(/101 .*at most 100/);
      expect(parseRunCommand(atLimit).InstanceId).toHaveLength(100);
    });
  });

  // -------------------------------------------------------------------------------------------
  // ResourceTag.N
  // -------------------------------------------------------------------------------------------

  describe('ResourceTag', () => {
    const byTags = (resourceTags: unknown): Record<string, unknown> => request({ InstanceId: undefined, ResourceTag: resourceTags });

    it('NumberExceed.ResourceTags (400) for 21 pairs; 20 pass', () => {
      expect(expectRejected(byTags(tags(21)), 'NumberExceed.ResourceTags', 400)).toMatch(/21 pairs; at most 20/);
      expect(parseRunCommand(byTags(tags(20))).ResourceTag).toHaveLength(20);
    });

    it('MissingParameter.ResourceTagKey (400) for a pair without a key or with an empty one', () => {
      expect(expectRejected(byTags([{ Value: 'prod' }]), 'MissingParameter.ResourceTagKey', 400)).toMatch(/ResourceTag\.1\.Key/);
      expect(expectRejected(byTags([{ Key: 'a', Value: '1' }, { Key: '', Value: '2' }]), 'MissingParameter.ResourceTagKey', 400)).toMatch(/ResourceTag\.2\.Key/);
    });

    it('Duplicate.ResourceTagKey (400) for a key given twice', () => {
      expect(expectRejected(byTags([{ Key: 'env', Value: 'a' }, { Key: 'env', Value: 'b' }]), 'Duplicate.ResourceTagKey', 400)).toMatch(/"env"/);
    });

    it('InvalidResourceTagKey.Malformed (400) for a key over 64 characters; 64 pass', () => {
      expectRejected(byTags([{ Key: 'k'.repeat(65), Value: 'v' }]), 'InvalidResourceTagKey.Malformed', 400);
      expect(() => parseRunCommand(byTags([{ Key: 'k'.repeat(64), Value: 'v' }]))).not.toThrow();
    });

    it('InvalidResourceTagValue.Malformed (400) for a value over 128 characters; 128 and empty pass', () => {
      expectRejected(byTags([{ Key: 'k', Value: 'v'.repeat(129) }]), 'InvalidResourceTagValue.Malformed', 400);
      expect(() => parseRunCommand(byTags([{ Key: 'k', Value: 'v'.repeat(128) }]))).not.toThrow();
      expect(() => parseRunCommand(byTags([{ Key: 'k', Value: '' }]))).not.toThrow();
    });
  });

  // -------------------------------------------------------------------------------------------
  // Tag.N
  // -------------------------------------------------------------------------------------------

  describe('Tag', () => {
    it('NumberExceed.Tags (400) for 21 tags; 20 pass', () => {
      expect(expectRejected(request({ Tag: tags(21) }), 'NumberExceed.Tags', 400)).toMatch(/21 pairs; at most 20/);
      expect(parseRunCommand(request({ Tag: tags(20) })).Tag).toHaveLength(20);
    });

    it('MissingParameter.TagKey (400) for a tag without a key', () => {
      expectRejected(request({ Tag: [{ Value: 'v' }] }), 'MissingParameter.TagKey', 400);
      expectRejected(request({ Tag: [{ Key: '', Value: 'v' }] }), 'MissingParameter.TagKey', 400);
    });

    it('Duplicate.TagKey (400) for a key given twice', () => {
      expect(expectRejected(request({ Tag: [{ Key: 'team', Value: 'a' }, { Key: 'team', Value: 'b' }] }), 'Duplicate.TagKey', 400)).toMatch(/"team"/);
    });

    it('InvalidTagKey.Malformed (400) for a key over 64 characters or with a reserved prefix', () => {
      expectRejected(request({ Tag: [{ Key: 't'.repeat(65), Value: 'v' }] }), 'InvalidTagKey.Malformed', 400);
      expectRejected(request({ Tag: [{ Key: 'aliyun-owner', Value: 'v' }] }), 'InvalidTagKey.Malformed', 400);
      expectRejected(request({ Tag: [{ Key: 'acs:owner', Value: 'v' }] }), 'InvalidTagKey.Malformed', 400);
      expect(() => parseRunCommand(request({ Tag: [{ Key: 't'.repeat(64), Value: 'v' }] }))).not.toThrow();
    });

    it('InvalidTagValue.Malformed (400) for a value over 128 characters; 128 and empty pass', () => {
      expectRejected(request({ Tag: [{ Key: 'k', Value: 'v'.repeat(129) }] }), 'InvalidTagValue.Malformed', 400);
      expect(() => parseRunCommand(request({ Tag: [{ Key: 'k', Value: 'v'.repeat(128) }] }))).not.toThrow();
      expect(() => parseRunCommand(request({ Tag: [{ Key: 'k', Value: '' }] }))).not.toThrow();
    });
  });

  // -------------------------------------------------------------------------------------------
  // Name, Description, container, ClientToken
  // -------------------------------------------------------------------------------------------

  describe('Name, Description, container and ClientToken', () => {
    it('CmdName.ExceedLimit (403) for a 129-character Name; 128 pass', () => {
      expect(expectRejected(request({ Name: 'n'.repeat(129) }), 'CmdName.ExceedLimit', 403)).toMatch(/Name is 129 characters; at most 128/);
      expect(parseRunCommand(request({ Name: 'n'.repeat(128) })).Name).toHaveLength(128);
    });

    it('CmdDesc.ExceedLimit (403) for a 513-character Description; 512 pass', () => {
      expect(expectRejected(request({ Description: 'd'.repeat(513) }), 'CmdDesc.ExceedLimit', 403)).toMatch(/Description is 513 characters; at most 512/);
      expect(() => parseRunCommand(request({ Description: 'd'.repeat(512) }))).not.toThrow();
    });

    it('InvalidContainerId.Malformed (400) for an id that is not 64 hexadecimal characters', () => {
      // Prepare
      const hex64 = 'ab141ddfbacfe02d9dbc25966ed971536124527097398d419a6746873fea0000';

      // Act / Assess
      expect(expectRejected(request({ ContainerId: 'not-a-container' }), 'InvalidContainerId.Malformed', 400)).toMatch(/64 hexadecimal/);
      expectRejected(request({ ContainerId: hex64.slice(1) }), 'InvalidContainerId.Malformed', 400);
      expect(() => parseRunCommand(request({ ContainerId: hex64 }))).not.toThrow();
      expect(() => parseRunCommand(request({ ContainerId: `docker://${hex64}` }))).not.toThrow();
    });

    it('checks no ContainerName form: no seed gives one', () => {
      for (const name of ['my container', '-test', 'test-container']) expect(parseRunCommand(request({ ContainerName: name })).ContainerName).toBe(name);
    });

    it('InvalidClientToken.Malformed (400) for a 65-character or non-ASCII token; 64 ASCII pass', () => {
      expect(expectRejected(request({ ClientToken: 'x'.repeat(65) }), 'InvalidClientToken.Malformed', 400)).toMatch(/64 ASCII/);
      expectRejected(request({ ClientToken: 'tökén-123' }), 'InvalidClientToken.Malformed', 400);
      expectRejected(request({ ClientToken: '令牌' }), 'InvalidClientToken.Malformed', 400);
      expect(() => parseRunCommand(request({ ClientToken: 'x'.repeat(64) }))).not.toThrow();
      expect(() => parseRunCommand(request({ ClientToken: '123e4567-e89b-12d3-a456-426655440000' }))).not.toThrow();
      // Seed 000 says ASCII, not printable ASCII; an empty token is no token.
      expect(() => parseRunCommand(request({ ClientToken: 'with\ttab' }))).not.toThrow();
      expect(() => parseRunCommand(request({ ClientToken: '' }))).not.toThrow();
    });
  });

  // -------------------------------------------------------------------------------------------
  // Content and custom parameters
  // -------------------------------------------------------------------------------------------

  describe('content and custom parameters', () => {
    it('CmdContent.DecodeError (400) for content that is not Base64 when ContentEncoding=Base64', () => {
      expect(expectRejected(request({ ContentEncoding: 'Base64', CommandContent: 'echo hello!' }), 'CmdContent.DecodeError', 400)).toMatch(/not valid Base64/);
      expectRejected(request({ ContentEncoding: 'base64', CommandContent: 'ZWNobyAxMjM' }), 'CmdContent.DecodeError', 400);
    });

    it('Parameter.Disabled (400) for Parameters without EnableParameter=true', () => {
      // Prepare
      const content = 'echo {{name}}';

      // Act / Assess
      expect(expectRejected(request({ CommandContent: content, Parameters: { name: 'Jack' } }), 'Parameter.Disabled', 400)).toMatch(/EnableParameter/);
      expectRejected(request({ CommandContent: content, EnableParameter: 'false', Parameters: '{"name":"Jack"}' }), 'Parameter.Disabled', 400);
      // An empty map is no parameter at all.
      expect(() => parseRunCommand(request({ CommandContent: content, Parameters: {} }))).not.toThrow();
      expect(() => parseRunCommand(request({ CommandContent: content, Parameters: '' }))).not.toThrow();
    });

    it('ParameterCount.ExceedLimit (403) for 11 pairs; 10 pass', () => {
      expect(
        expectRejected(request({ CommandContent: placeholders(11), EnableParameter: true, Parameters: values(11) }), 'ParameterCount.ExceedLimit', 403),
      ).toMatch(/11 pairs; at most 10/);
      expect(parseRunCommand(request({ CommandContent: placeholders(10), EnableParameter: true, Parameters: values(10) })).Parameters).toEqual(values(10));
    });

    it('CmdParam.EmptyKey (400) for an empty key in Parameters', () => {
      expectRejected(request({ CommandContent: 'echo {{a}}', EnableParameter: true, Parameters: { '': 'x' } }), 'CmdParam.EmptyKey', 400);
      expectRejected(request({ CommandContent: 'echo {{a}}', EnableParameter: true, Parameters: '{"":"x"}' }), 'CmdParam.EmptyKey', 400);
    });

    it('ParameterKey.ExceedLimit (403) for a key over 64 characters; 64 pass', () => {
      // Prepare
      const long = 'k'.repeat(65);
      const max = 'k'.repeat(64);

      // Act / Assess
      expectRejected(request({ CommandContent: `echo {{${long}}}`, EnableParameter: true, Parameters: { [long]: 'v' } }), 'ParameterKey.ExceedLimit', 403);
      expect(parseRunCommand(request({ CommandContent: `echo {{${max}}}`, EnableParameter: true, Parameters: { [max]: 'v' } })).ParameterNames).toEqual([max]);
    });

    it('ParameterKey.Duplicate (400) for a name given twice, ignoring case, typed or as JSON text', () => {
      // Prepare
      const base = { CommandContent: 'echo {{name}}', EnableParameter: true };

      // Act / Assess
      expect(expectRejected(request({ ...base, Parameters: { name: 'a', Name: 'b' } }), 'ParameterKey.Duplicate', 400)).toMatch(/ignore case/);
      expectRejected(request({ ...base, Parameters: '{"name":"a","NAME":"b"}' }), 'ParameterKey.Duplicate', 400);
      // JSON.parse would keep only the last value; the repeat must still be seen.
      expect(expectRejected(request({ ...base, Parameters: '{"name":"a", "name":"b"}' }), 'ParameterKey.Duplicate', 400)).toMatch(/"name" is given twice/);
      // The same text inside a value or a nested structure is no repeat.
      expect(() => parseRunCommand(request({ ...base, Parameters: '{"name":"{\\"name\\":1}"}' }))).not.toThrow();
    });

    it('ParameterType.NotSupported (403) for a value that is not a string, number or boolean', () => {
      // Prepare
      const base = { CommandContent: 'echo {{name}}', EnableParameter: true };

      // Act / Assess
      expectRejected(request({ ...base, Parameters: { name: { first: 'Jack' } } }), 'ParameterType.NotSupported', 403);
      expectRejected(request({ ...base, Parameters: '{"name":["Jack"]}' }), 'ParameterType.NotSupported', 403);
      expectRejected(request({ ...base, Parameters: '{"name":null}' }), 'ParameterType.NotSupported', 403);
      expect(parseRunCommand(request({ ...base, Parameters: '{"name":42}' })).Parameters).toEqual({ name: 42 });
      expect(parseRunCommand(request({ ...base, Parameters: { name: true } })).Parameters).toEqual({ name: true });
    });

    it('InvalidParameter.Parameters (400) for Parameters that are not a JSON object', () => {
      // Prepare
      const base = { CommandContent: 'echo {{name}}', EnableParameter: true };

      // Act / Assess
      expect(expectRejected(request({ ...base, Parameters: '{"name": "Jack"' }), 'InvalidParameter.Parameters', 400)).toMatch(/JSON object/);
      expectRejected(request({ ...base, Parameters: '["Jack"]' }), 'InvalidParameter.Parameters', 400);
      expectRejected(request({ ...base, Parameters: 'null' }), 'InvalidParameter.Parameters', 400);
      expectRejected(request({ ...base, Parameters: ['Jack'] }), 'InvalidParameter.Parameters', 400);
      expectRejected(request({ ...base, Parameters: 7 }), 'InvalidParameter.Parameters', 400);
    });

    it('CmdParam.InvalidParamName (400) for a {{name}} with characters other than letters, digits, _ and -', () => {
      // Prepare
      const bad = request({ CommandContent: 'echo {{user.name}}', EnableParameter: true });

      // Act / Assess
      expect(expectRejected(bad, 'CmdParam.InvalidParamName', 400)).toMatch(/user\.name/);
      expectRejected(request({ CommandContent: 'echo {{first name}}', EnableParameter: true }), 'CmdParam.InvalidParamName', 400);
      expect(parseRunCommand(request({ CommandContent: 'echo {{a_B-9}}', EnableParameter: true })).ParameterNames).toEqual(['a_B-9']);
      // Without the custom parameter feature braces are plain text.
      expect(() => parseRunCommand(request({ CommandContent: 'echo {{user.name}}' }))).not.toThrow();
    });

    it('CmdParamName.ExceedLimit (403) for a {{name}} over 64 bytes', () => {
      expectRejected(request({ CommandContent: `echo {{${'p'.repeat(65)}}}`, EnableParameter: true }), 'CmdParamName.ExceedLimit', 403);
    });

    it('CmdParamCount.ExceedLimit (403) for 21 distinct {{names}}; 20 pass', () => {
      expect(expectRejected(request({ CommandContent: placeholders(21), EnableParameter: true }), 'CmdParamCount.ExceedLimit', 403)).toMatch(/21 parameters; at most 20/);
      expect(parseRunCommand(request({ CommandContent: placeholders(20), EnableParameter: true })).ParameterNames).toHaveLength(20);
    });

    it('counts a name once whatever its case', () => {
      // Prepare: 20 names, one of them also written in upper case
      const content = `${placeholders(20)}\necho {{P0}}`;

      // Act
      const parsed = parseRunCommand(request({ CommandContent: content, EnableParameter: true, Parameters: { P0: 'x' } }));

      // Assess
      expect(parsed.ParameterNames).toHaveLength(20);
    });

    it('Parameter.NotMatched (400) for a parameter the content does not define', () => {
      // Prepare
      const input = request({ CommandContent: 'echo {{name}}', EnableParameter: true, Parameters: { other: 'x' } });

      // Act / Assess
      expect(expectRejected(input, 'Parameter.NotMatched', 400)).toMatch(/"other"/);
      // A subset is fine, and names ignore case.
      expect(() => parseRunCommand(request({ CommandContent: 'echo {{a}} {{b}}', EnableParameter: true, Parameters: { a: '1' } }))).not.toThrow();
      expect(() => parseRunCommand(request({ CommandContent: 'echo {{Name}}', EnableParameter: true, Parameters: { name: '1' } }))).not.toThrow();
    });

    it('does not count {{ACS::…}} built-ins as custom parameters', () => {
      // Prepare: 20 custom names plus built-ins, in several spellings
      const content = `${placeholders(20)}\necho {{ACS::InstanceId}} {{ acs::RegionId }} {{ACS :: InvokeId}}`;

      // Act
      const parsed = parseRunCommand(request({ CommandContent: content, EnableParameter: true }));

      // Assess
      expect(parsed.ParameterNames).toHaveLength(20);
      expect(parsed.ParameterNames).not.toContain('ACS::InstanceId');
      expect(parseRunCommand(request({ CommandContent: 'hostname; echo {{ACS::InstanceId}}', EnableParameter: true })).ParameterNames).toEqual([]);
    });

    it('ignores spaces and line breaks around a name inside {{ }}', () => {
      // Prepare
      const content = 'echo {{ name }} {{\n  other\n}} {{\tthird}}';

      // Act
      const parsed = parseRunCommand(request({ CommandContent: content, EnableParameter: true, Parameters: { name: 'a', other: 'b', third: 'c' } }));

      // Assess
      expect(parsed.ParameterNames).toEqual(['name', 'other', 'third']);
    });
  });

  // -------------------------------------------------------------------------------------------
  // Content size
  // -------------------------------------------------------------------------------------------

  describe('CmdContent.ExceedLimit (content and parameters in Base64)', () => {
    it('passes content exactly at 24 KB in Base64 when the command is not kept, and rejects one byte more (403)', () => {
      // Prepare: 18432 bytes encode to exactly 24576 Base64 characters
      const atLimit = 'a'.repeat(18 * KB);
      const over = 'a'.repeat(18 * KB + 1);
      expect(b64(atLimit)).toHaveLength(24 * KB);

      // Act / Assess
      expect(() => parseRunCommand(request({ CommandContent: atLimit }))).not.toThrow();
      expect(() => parseRunCommand(request({ CommandContent: atLimit, KeepCommand: false }))).not.toThrow();
      expect(expectRejected(request({ CommandContent: over }), 'CmdContent.ExceedLimit', 403)).toMatch(/24580 bytes .*limit is 24576 bytes \(24 KB\)/);
    });

    it('measures Base64 content the same way', () => {
      expect(() => parseRunCommand(request({ CommandContent: b64('a'.repeat(18 * KB)), ContentEncoding: 'Base64' }))).not.toThrow();
      expectRejected(request({ CommandContent: b64('a'.repeat(18 * KB + 1)), ContentEncoding: 'Base64' }), 'CmdContent.ExceedLimit', 403);
    });

    it('counts bytes, not characters', () => {
      // Prepare: "€" is three bytes in UTF-8
      const atLimit = '€'.repeat(6 * KB);
      const over = '€'.repeat(6 * KB + 1);

      // Act / Assess
      expect(() => parseRunCommand(request({ CommandContent: atLimit }))).not.toThrow();
      expectRejected(request({ CommandContent: over }), 'CmdContent.ExceedLimit', 403);
    });

    it('allows 18 KB in Base64 when KeepCommand=true', () => {
      // Prepare: 13824 bytes encode to exactly 18432 Base64 characters
      const atLimit = 'a'.repeat(13.5 * KB);
      const over = 'a'.repeat(13.5 * KB + 1);
      expect(b64(atLimit)).toHaveLength(18 * KB);

      // Act / Assess
      expect(() => parseRunCommand(request({ CommandContent: atLimit, KeepCommand: true }))).not.toThrow();
      expect(expectRejected(request({ CommandContent: over, KeepCommand: true }), 'CmdContent.ExceedLimit', 403)).toMatch(/limit is 18432 bytes \(18 KB\)/);
      expectRejected(request({ CommandContent: over, KeepCommand: 'true' }), 'CmdContent.ExceedLimit', 403);
    });

    it('counts the parameters together with the content', () => {
      // Prepare: {"a":"v"} is 9 bytes, 12 in Base64; 18423 content bytes are 24564 in Base64, 12 short of the limit
      const fits = `echo {{a}}${'x'.repeat(18_423 - 10)}`;
      const tooBig = `${fits}x`;
      expect(b64(fits).length + b64('{"a":"v"}').length).toBe(24 * KB);

      // Act / Assess
      expect(() => parseRunCommand(request({ CommandContent: fits, EnableParameter: true, Parameters: { a: 'v' } }))).not.toThrow();
      expect(() => parseRunCommand(request({ CommandContent: tooBig, EnableParameter: true }))).not.toThrow();
      expectRejected(request({ CommandContent: tooBig, EnableParameter: true, Parameters: { a: 'v' } }), 'CmdContent.ExceedLimit', 403);
      expectRejected(request({ CommandContent: tooBig, EnableParameter: true, Parameters: '{"a":"v"}' }), 'CmdContent.ExceedLimit', 403);
    });
  });

  // -------------------------------------------------------------------------------------------
  // WorkingDir, Timeout, schedule
  // -------------------------------------------------------------------------------------------

  describe('WorkingDir, Timeout and schedule', () => {
    it('InvalidParameter.WorkingDir (400) for a path over 200 characters; 200 pass', () => {
      expect(expectRejected(request({ WorkingDir: `/${'d'.repeat(200)}` }), 'InvalidParameter.WorkingDir', 400)).toMatch(/201 characters; at most 200/);
      expect(() => parseRunCommand(request({ WorkingDir: `/${'d'.repeat(199)}` }))).not.toThrow();
    });

    it('accepts any whole-number Timeout: no seed gives a lower or an upper bound (seed 001 names InvalidTimeout.ExceedLimit, no figure)', () => {
      for (const timeout of [5, 9, '0', 86_400, 86_401, '86401']) expect(parseRunCommand(request({ Timeout: timeout })).Timeout).toBe(Number(timeout));
    });

    it('InvalidParameter (400) for a Timeout that is not a whole number', () => {
      expect(expectRejected(request({ Timeout: 'soon' }), 'InvalidParameter', 400)).toMatch(/Timeout: must be a whole number/);
      expectRejected(request({ Timeout: 60.5 }), 'InvalidParameter', 400);
    });

    it('InvalidRepeatMode.NotFound (404) for an unknown RepeatMode', () => {
      expect(expectRejected(request({ RepeatMode: 'Daily' }), 'InvalidRepeatMode.NotFound', 404)).toMatch(/"Daily"/);
      for (const mode of ['Once', 'NextRebootOnly', 'EveryReboot', 'DryRun']) expect(parseRunCommand(request({ RepeatMode: mode })).RepeatMode).toBe(mode);
    });

    it('MissingParam.Frequency (400) for RepeatMode=Period without a Frequency', () => {
      expect(expectRejected(request({ RepeatMode: 'Period' }), 'MissingParam.Frequency', 400)).toMatch(/Frequency .* is required/);
      expectRejected(request({ RepeatMode: 'Period', Frequency: '  ' }), 'MissingParam.Frequency', 400);
    });

    it('InvalidParam.Frequency (400) for an expired at time, a year after 2099 and nonsense', () => {
      // Act
      const past = expectRejected(request({ Frequency: 'at(2020-01-01 00:00:00 UTC)' }), 'InvalidParam.Frequency', 400);
      const farFuture = expectRejected(request({ Frequency: '0 0 0 1 1 ? 2300' }), 'InvalidParam.Frequency', 400);
      expectRejected(request({ RepeatMode: 'Period', Frequency: 'every day' }), 'InvalidParam.Frequency', 400);

      // Assess: the reason is given once, after the API's message, which is not repeated
      expect(past).toMatch(/^The specified frequency is invalid\. "at\(2020-01-01 00:00:00 UTC\)" has expired/);
      expect(past.match(/The specified frequency is invalid\./g)).toHaveLength(1);
      expect(farFuture).toMatch(/2300/);
    });

    it('InvalidParam.Frequency (400) for a rate not longer than the Timeout', () => {
      expectRejected(request({ Frequency: 'rate(5m)', Timeout: 600 }), 'InvalidParam.Frequency', 400);
      expectRejected(request({ Frequency: 'rate(1m)' }), 'InvalidParam.Frequency', 400);
      expect(() => parseRunCommand(request({ Frequency: 'rate(15m)', Timeout: '600' }))).not.toThrow();
    });

    it('makes the run Period whenever a Frequency is given', () => {
      expect(parseRunCommand(request({ Frequency: 'rate(5m)' })).RepeatMode).toBe('Period');
      expect(parseRunCommand(request({ RepeatMode: 'Once', Frequency: 'rate(5m)' })).RepeatMode).toBe('Period');
      expect(parseRunCommand(request({ RepeatMode: 'Period', Frequency: '0 */20 * * * ?' })).RepeatMode).toBe('Period');
      expect(parseRunCommand(request({ Frequency: 'at(2099-06-06 13:15:30 Asia/Shanghai)' })).RepeatMode).toBe('Period');
    });

    it('ignores the deprecated Timed', () => {
      expect(parseRunCommand(request({ Timed: 'true' })).RepeatMode).toBe('Once');
    });
  });

  // -------------------------------------------------------------------------------------------
  // User, Launcher, TerminationMode, OssOutputDelivery
  // -------------------------------------------------------------------------------------------

  describe('user, launcher, termination and output delivery', () => {
    it('Username.ExceedLimit (403) for a 256-character Username; 255 pass', () => {
      expect(expectRejected(request({ Username: 'u'.repeat(256) }), 'Username.ExceedLimit', 403)).toMatch(/Username is 256 characters; at most 255/);
      expect(() => parseRunCommand(request({ Username: 'u'.repeat(255) }))).not.toThrow();
    });

    it('WindowsPasswordName.ExceedLimit (403) for a 256-character WindowsPasswordName; 255 pass', () => {
      expectRejected(request({ WindowsPasswordName: 'p'.repeat(256) }), 'WindowsPasswordName.ExceedLimit', 403);
      expect(() => parseRunCommand(request({ WindowsPasswordName: 'p'.repeat(255) }))).not.toThrow();
    });

    it('WindowsPasswordName.Missed (400) for a Windows command run as another user than System without a password name', () => {
      // Prepare
      const windows = { Type: 'RunPowerShellScript', CommandContent: 'Get-Date' };

      // Act / Assess
      expect(expectRejected(request({ ...windows, Username: 'deploy' }), 'WindowsPasswordName.Missed', 400)).toMatch(/WindowsPasswordName is required/);
      expectRejected(request({ Type: 'RunBatScript', CommandContent: 'dir', Username: 'deploy' }), 'WindowsPasswordName.Missed', 400);
      expect(() => parseRunCommand(request({ ...windows, Username: 'deploy', WindowsPasswordName: 'axtSecretPassword' }))).not.toThrow();
      expect(() => parseRunCommand(request({ ...windows, Username: 'System' }))).not.toThrow();
      expect(() => parseRunCommand(request({ ...windows }))).not.toThrow();
      expect(() => parseRunCommand(request({ Username: 'deploy' }))).not.toThrow();
    });

    it('InvalidLauncher.LengthLimitExceeded (403) for a Launcher over 1 KB; 1024 bytes pass', () => {
      expect(expectRejected(request({ Launcher: 'l'.repeat(1025) }), 'InvalidLauncher.LengthLimitExceeded', 403)).toMatch(/1025 bytes; at most 1024/);
      // 342 three-byte characters are 1026 bytes
      expectRejected(request({ Launcher: '€'.repeat(342) }), 'InvalidLauncher.LengthLimitExceeded', 403);
      expect(() => parseRunCommand(request({ Launcher: 'l'.repeat(1024) }))).not.toThrow();
      expect(() => parseRunCommand(request({ Launcher: 'python3 -u {{ACS::ScriptFileName|Ext(".py")}}' }))).not.toThrow();
    });

    it('InvalidTerminationMode.NotFound (404) for an unknown TerminationMode', () => {
      expect(expectRejected(request({ TerminationMode: 'Group' }), 'InvalidTerminationMode.NotFound', 404)).toMatch(/"Group"/);
      expect(parseRunCommand(request({ TerminationMode: 'ProcessTree' })).TerminationMode).toBe('ProcessTree');
    });

    it('InvalidParameter.OssOutputDelivery (400) for a value that is not oss://bucket/prefix', () => {
      expect(expectRejected(request({ OssOutputDelivery: 'https://testbucket/prefix' }), 'InvalidParameter.OssOutputDelivery', 400)).toMatch(/oss:\/\/bucket\/prefix/);
      expectRejected(request({ OssOutputDelivery: 'oss://Test_Bucket/prefix' }), 'InvalidParameter.OssOutputDelivery', 400);
      expect(() => parseRunCommand(request({ OssOutputDelivery: 'oss://testbucket/testPrefix' }))).not.toThrow();
      expect(() => parseRunCommand(request({ OssOutputDelivery: 'oss://testbucket' }))).not.toThrow();
    });

    it('InvalidOssOutputDelivery.KeyPrefixMalformed (400) for a prefix starting with / or holding //', () => {
      expectRejected(request({ OssOutputDelivery: 'oss://testbucket//prefix' }), 'InvalidOssOutputDelivery.KeyPrefixMalformed', 400);
      expectRejected(request({ OssOutputDelivery: 'oss://testbucket/a//b' }), 'InvalidOssOutputDelivery.KeyPrefixMalformed', 400);
    });
  });
});
