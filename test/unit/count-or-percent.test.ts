/** One count-or-percent rule (issue 13): the schema every layer parses with, and the reading of chat text that the grammar uses. */
import { describe, expect, it } from 'vitest';
import { resolveCount } from '../../shared/cloud-assistant/dispatch.ts';
import { countOrPercentFromText, countOrPercentSchema } from '../../shared/runs/count-or-percent.ts';

describe('countOrPercentSchema', () => {
  it('takes counts and whole percentages from 0% to 100%, written one way', () => {
    for (const [value, parsed] of [[0, 0], [5, 5], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], ['0%', '0%'], ['10%', '10%'], ['100%', '100%'], ['010%', '10%']] as const)
      expect(countOrPercentSchema.parse(value)).toBe(parsed);
  });

  it('refuses fractions, negatives, over 100% and anything else, saying which', () => {
    const reason = (v: unknown) => countOrPercentSchema.safeParse(v).error?.issues.map((i) => i.message);
    expect(reason('10.5%')).toEqual(['percentage must be a whole number, as SSM takes it (like 10%)']);
    expect(reason('101%')).toEqual(['a percentage is at most 100%']);
    expect(reason(2.5)).toEqual(['a count is a whole number']);
    expect(reason(-1)).toEqual(['a count is 0 or more']);
    expect(reason(Number.MAX_SAFE_INTEGER + 2)).toEqual(['a count is a whole number']);
    for (const v of ['10', '-5%', '1e2%', '%', ' 10%', null, true, {}]) expect(countOrPercentSchema.safeParse(v).success, String(v)).toBe(false);
  });

  it('gives dispatch values resolveCount reads as SSM would', () => {
    expect(resolveCount(countOrPercentSchema.parse('10%'), 50, 0)).toBe(5);
    expect(resolveCount(countOrPercentSchema.parse(3), 50, 0)).toBe(3);
  });
});

describe('countOrPercentFromText', () => {
  it('reads what chat users type, and agrees with the schema', () => {
    expect(countOrPercentFromText('7')).toEqual({ ok: true, value: 7 });
    expect(countOrPercentFromText('25%')).toEqual({ ok: true, value: '25%' });
    expect(countOrPercentFromText('10.5%')).toMatchObject({ ok: false, problem: { rule: 'whole' } });
    expect(countOrPercentFromText('101%')).toMatchObject({ ok: false, problem: { rule: 'at-most-100' } });
    for (const text of ['-1', 'five', '', '1.5', '10 %', '0x10']) expect(countOrPercentFromText(text), text).toMatchObject({ ok: false, problem: { rule: 'form' } });
    for (const text of ['0', '42', '0%', '99%', '100%', '3.0%', '1000%']) {
      const read = countOrPercentFromText(text);
      const schema = countOrPercentSchema.safeParse(/%$/.test(text) ? text : Number(text));
      expect(read.ok, text).toBe(schema.success);
      if (read.ok) expect(read.value).toBe(schema.data);
    }
  });
});
