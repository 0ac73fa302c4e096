/**
 * Redaction's rules, case by case (the property over generated secrets is test/faults/fuzz-redaction.test.ts):
 * the two secrets as dash's echo prints them, pieces of 8 characters and not fewer, short
 * secrets whole, merged matches, base64 inside base64, and the log line and the reconciler's result
 * that go through it.
 */
import { describe, expect, it } from 'vitest';
import type { InstanceResult as ServiceResult } from '../../shared/cloud-assistant/port.ts';
import { resultFromService } from '../../shared/pipeline/service-result.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { redact, redactorFor } from '../../shared/runtime/redaction.ts';

describe('Function: redact', () => {
  it('hides a \\t that echo printed as a tab, and what echo printed before a \\c', () => {
    expect(redact('the token is: Pa55\tw0rd-15d55f\nits length is: 17\n', ['Pa55\\tw0rd-15d55f'])).toBe('the token is: ***\nits length is: 17\n');
    expect(redact('the token is: Kq7-Lm2-Xw9-Rt5-Bn3its length is: 42\n', ['Kq7-Lm2-Xw9-Rt5-Bn3\\cVz8-never-printed-Hy4'])).toBe('the token is: ***its length is: 42\n');
    // The \c came 3 characters in: what echo printed is too short to stand for the secret.
    expect(redact('ab and more', ['ab\\cdefghijk'])).toBe('ab and more');
  });

  it('hides octal, \\e and bash\'s \\x escapes as the shells print them', () => {
    expect(redact('x=A-long-secretB', ['\\101-long-secret\\0102'])).toBe('x=***');
    expect(redact('x=A-long-secret\u001b', ['\\x41-long-secret\\e'])).toBe('x=***');
  });

  it('hides any 8 characters in a row of a secret, and no fewer', () => {
    const secret = 'correct-horse-battery-staple';
    expect(redact('a horse-ba b', [secret])).toBe('a *** b');
    expect(redact('a horse-b b', [secret])).toBe('a horse-b b');
  });

  it('hides a secret of 4 to 7 characters whole only, and one shorter than 4 not at all', () => {
    expect(redact('pw=hunter2, hunter', ['hunter2'])).toBe('pw=***, hunter');
    expect(redact('abc abcd', ['abc'])).toBe('abc abcd');
  });

  it('merges overlapping and touching matches into one ***', () => {
    expect(redact('[s3cr3t-value-0001s3cr3t-value-0001 s3cr3t-v]', ['s3cr3t-value-0001'])).toBe('[*** ***]');
    expect(redact('[alpha-secret-1beta-secret-2]', ['alpha-secret-1', 'beta-secret-2'])).toBe('[***]');
  });

  it('hides the JSON, URL, form, HTML and base64 forms, base64 inside a longer base64 text', () => {
    const secret = 'AK+leak/check=9&b4~x.y "q"';
    const forms = [JSON.stringify(secret), encodeURIComponent(secret), new URLSearchParams({ k: secret }).toString(), secret.replace(/&/g, '&amp;').replace(/"/g, '&quot;'), Buffer.from(secret).toString('base64')];
    for (const form of forms) expect(redact(`<${form}>`, [secret]), form).not.toMatch(/leak|check|%2B|QUsr/);
    for (const shift of [0, 1, 2]) {
      const wrapped = Buffer.concat([Buffer.from('prefix-bytes'.slice(0, 9 + shift)), Buffer.from(secret), Buffer.from('-suffix')]).toString('base64');
      const left = Buffer.from(redact(wrapped, [secret]).replace(/\*\*\*/g, ''), 'base64').toString('latin1');
      expect(left, `shift ${shift}`).not.toMatch(/leak\/check/);
    }
  });

  it('never splits a surrogate pair: a match that starts or ends inside one takes the whole character', () => {
    expect(redact('x😀secret-emoji-tail y', ['😀secret-emoji-tail'.slice(1)])).toBe('x*** y');
    expect(redact('a-very-long-😀-secret', ['ng-😀'.slice(0, -1)])).toBe('a-very-lo***-secret');
  });

  it('reads a 24 KB output once for all of its secrets', () => {
    const redactor = redactorFor(['first-secret-value', 'second\\tsecret', 'x'.repeat(500)]);
    const output = `${'line of ordinary output\n'.repeat(1000)}second\tsecret\n`;
    expect(redactor.redact(output)).toBe(`${'line of ordinary output\n'.repeat(1000)}***\n`);
  });
});

describe('where redaction is applied', () => {
  it('a log line hides a transformed secret in values and keys, and stays JSON', () => {
    const lines: string[] = [];
    const secret = 'quote"back\\tslash-secret';
    createLogger({ sink: (l) => lines.push(l), secrets: [secret] }).error('failed', { printed: 'quote"back\tslash-secret', piece: 'back\\tslash', [`key-${secret}`]: 1 });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ message: 'failed', printed: '***', piece: '***', 'key-***': 1 });
  });

  it('the reconciler\'s result from the service hides the output and error text', () => {
    const r: ServiceResult = {
      invokeId: 't-1', commandId: 'c-1', instanceId: 'i-1', status: 'Failed', exitCode: 1, errorCode: 'ExitCodeNonzero',
      errorInfo: 'failed near Pa55\tw0rd', output: 'the token is: Pa55\tw0rd-15d55f\n', dropped: 0,
    } as ServiceResult;
    const result = resultFromService('r-1', r, 'c-1', redactorFor(['Pa55\\tw0rd-15d55f']));
    expect([result.output, result.errorInfo]).toEqual(['the token is: ***\n', 'failed near ***']);
  });
});
