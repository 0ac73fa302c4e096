import { describe, it, expect } from 'vitest';
import { ApiError, type ApiErrorCode } from '../../shared/cloud-assistant/errors.ts';
import { parseCreateCommand, type CreateCommandRequest } from '../../shared/cloud-assistant/requests/create-command.ts';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const KB = 1024;

/** The smallest request CreateCommand accepts (reference §3.3): content is Base64 unless told otherwise. */
const minimal = {
  RegionId: 'cn-hangzhou',
  Name: 'greet',
  Type: 'RunShellScript',
  CommandContent: b64('echo hello'),
} satisfies CreateCommandRequest;

function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...minimal, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete out[k];
  return out;
}

function expectRejected(input: unknown, code: ApiErrorCode, httpStatus: number): string {
  try {
    parseCreateCommand(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    const err = e as ApiError;
    expect({ code: err.code, httpStatus: err.httpStatus }).toEqual({ code, httpStatus });
    return err.message;
  }
  throw new Error(`the request was accepted: ${JSON.stringify(input).slice(0, 200)}`);
}

describe('Function: parseCreateCommand', () => {
  describe('content encoding', () => {
    it('reads CommandContent as Base64 by default', () => {
      // Act
      const parsed = parseCreateCommand(request());

      // Assess
      expect(parsed).toMatchObject({ ContentEncoding: 'Base64', Script: 'echo hello', Timeout: 60, EnableParameter: false, ParameterNames: [] });
    });

    it('CmdContent.DecodeError (400) for plain text sent without ContentEncoding', () => {
      expect(expectRejected(request({ CommandContent: 'echo hello!' }), 'CmdContent.DecodeError', 400)).toMatch(/Base64/);
    });

    it('takes plain text when ContentEncoding=PlainText, in any case', () => {
      expect(parseCreateCommand(request({ CommandContent: 'echo hello', ContentEncoding: 'PlainText' })).Script).toBe('echo hello');
      expect(parseCreateCommand(request({ CommandContent: 'echo hello', ContentEncoding: 'plaintext' })).Script).toBe('echo hello');
    });

    it('treats an unknown ContentEncoding as Base64', () => {
      // Act
      const parsed = parseCreateCommand(request({ ContentEncoding: 'utf-8' }));

      // Assess
      expect(parsed.ContentEncoding).toBe('Base64');
      expect(parsed.Script).toBe('echo hello');
    });
  });

  describe('content size: 18 KB in Base64, as for a kept command', () => {
    it('passes 18 KB and rejects one byte more with CmdContent.ExceedLimit (403)', () => {
      // Prepare: 13824 bytes are exactly 18432 Base64 characters
      const atLimit = b64('a'.repeat(13.5 * KB));
      const over = b64('a'.repeat(13.5 * KB + 1));
      expect(atLimit).toHaveLength(18 * KB);

      // Act / Assess
      expect(() => parseCreateCommand(request({ CommandContent: atLimit }))).not.toThrow();
      expect(expectRejected(request({ CommandContent: over }), 'CmdContent.ExceedLimit', 403)).toMatch(/limit is 18432 bytes \(18 KB\)/);
    });

    it('applies the same limit to plain text', () => {
      expect(() => parseCreateCommand(request({ CommandContent: 'a'.repeat(13.5 * KB), ContentEncoding: 'PlainText' }))).not.toThrow();
      expectRejected(request({ CommandContent: 'a'.repeat(13.5 * KB + 1), ContentEncoding: 'PlainText' }), 'CmdContent.ExceedLimit', 403);
    });
  });

  describe('required fields', () => {
    it('MissingParameter (400) without a Name, or with an empty one', () => {
      expect(expectRejected(request({ Name: undefined }), 'MissingParameter', 400)).toMatch(/Name is required/);
      expectRejected(request({ Name: '' }), 'MissingParameter', 400);
    });

    it('CmdName.ExceedLimit (403) for a 129-character Name; 128 pass', () => {
      expectRejected(request({ Name: 'n'.repeat(129) }), 'CmdName.ExceedLimit', 403);
      expect(parseCreateCommand(request({ Name: 'n'.repeat(128) })).Name).toHaveLength(128);
    });

    it('MissingParameter.RegionId (400), InvalidCmdType.NotFound (404) and MissingParameter (400) for the other required fields', () => {
      expectRejected(request({ RegionId: undefined }), 'MissingParameter.RegionId', 400);
      expectRejected(request({ Type: 'RunPythonScript' }), 'InvalidCmdType.NotFound', 404);
      expectRejected(request({ CommandContent: undefined }), 'MissingParameter', 400);
    });

    it('needs no target instances', () => {
      expect(() => parseCreateCommand(request())).not.toThrow();
    });
  });

  describe('the other fields', () => {
    it('accepts wire strings', () => {
      // Prepare
      const content = b64('echo {{name}}');

      // Act
      const fromWire = parseCreateCommand(request({ CommandContent: content, EnableParameter: 'true', Timeout: '120', Tag: [{ Key: 'team', Value: 'ops' }] }));
      const fromTyped = parseCreateCommand(request({ CommandContent: content, EnableParameter: true, Timeout: 120, Tag: [{ Key: 'team', Value: 'ops' }] }));

      // Assess
      expect(fromWire).toEqual(fromTyped);
      expect(fromWire).toMatchObject({ EnableParameter: true, Timeout: 120, ParameterNames: ['name'] });
    });

    it('checks the {{name}} parameters when EnableParameter=true', () => {
      expectRejected(request({ CommandContent: b64('echo {{a.b}}'), EnableParameter: true }), 'CmdParam.InvalidParamName', 400);
      const many = Array.from({ length: 21 }, (_, i) => `{{p${i}}}`).join(' ');
      expectRejected(request({ CommandContent: b64(many), EnableParameter: true }), 'CmdParamCount.ExceedLimit', 403);
    });

    it.each<[string, Record<string, unknown>, ApiErrorCode, number]>([
      ['a 513-character Description', { Description: 'd'.repeat(513) }, 'CmdDesc.ExceedLimit', 403],
      ['a 201-character WorkingDir', { WorkingDir: 'w'.repeat(201) }, 'InvalidParameter.WorkingDir', 400],
      ['a Launcher over 1 KB', { Launcher: 'l'.repeat(1025) }, 'InvalidLauncher.LengthLimitExceeded', 403],
      ['a non-ASCII ClientToken', { ClientToken: 'jeton-é' }, 'InvalidClientToken.Malformed', 400],
      ['21 tags', { Tag: Array.from({ length: 21 }, (_, i) => ({ Key: `k${i}` })) }, 'NumberExceed.Tags', 400],
    ])('rejects %s', (_what, overrides, code, status) => {
      expectRejected(request(overrides), code, status);
    });

    it('accepts any whole-number Timeout: no seed gives a lower or an upper bound', () => {
      for (const timeout of [5, '9', 0, 86_401, '604800']) expect(parseCreateCommand(request({ Timeout: timeout })).Timeout).toBe(Number(timeout));
    });
  });
});
