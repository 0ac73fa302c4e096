import { describe, expect, it } from 'vitest';
import { formatCount, groupHeadline, HEADLINE_CHARS, LINE_GROUPS_SHOWN, outputGroupsLine } from '../../shared/runs/output-groups-line.ts';
import type { OutputGroup } from '../../shared/runs/output-groups.ts';

function group(count: number, output: string, status: OutputGroup['status'] = 'Success', exitCode = 0, errorCode = '', outputChars = output.length): OutputGroup {
  return { key: '0'.repeat(64), status, exitCode, errorCode, output, outputChars, count, instanceIds: [] };
}

describe('Function: formatCount', () => {
  it.each([[0, '0'], [999, '999'], [1000, '1,000'], [9812, '9,812'], [1234567, '1,234,567']])('%i → %s', (n, want) => {
    expect(formatCount(n)).toBe(want);
  });
});

describe('Function: outputGroupsLine', () => {
  it('counts the groups and names each by its first line, with thousands separators and what went wrong', () => {
    expect(outputGroupsLine([group(180, 'disk full\nat /var', 'Failed', 1, 'ExitCodeNonzero'), group(9812, 'ok'), group(8, '', 'Aborted', 0, 'InstanceNotRunning')])).toBe(
      '3 distinct outputs: 180 × `disk full` (Failed, exit 1), 9,812 × `ok`, 8 × no output (Aborted, InstanceNotRunning)',
    );
    expect(outputGroupsLine([group(10_000, 'ok')])).toBe('1 distinct output: 10,000 × `ok`');
    expect(outputGroupsLine([])).toBe('');
  });

  it(`names the first ${LINE_GROUPS_SHOWN} groups and says how many more there are`, () => {
    const groups = Array.from({ length: 1203 }, (_, n) => group(1, `answer ${n}`));
    const line = outputGroupsLine(groups);
    expect(line.startsWith('1,203 distinct outputs: 1 × `answer 0`, ')).toBe(true);
    expect(line.endsWith('1 × `answer 4`, … and 1,198 more')).toBe(true);
    expect(outputGroupsLine(groups.slice(0, 3), 2)).toBe('3 distinct outputs: 1 × `answer 0`, 1 × `answer 1`, … and 1 more');
  });

  it('shows groups that start alike by their last line, so different answers do not read alike', () => {
    const header = 'Filesystem Size Used Avail Use% Mounted on';
    expect(outputGroupsLine([group(2, `${header}\n/dev/vda1 40G 40G 0 100% /`, 'Failed', 1), group(5, `${header}\n/dev/vda1 40G 12G 26G 32% /`), group(1, 'other')])).toBe(
      '3 distinct outputs: 2 × `/dev/vda1 40G 40G 0 100% /` (Failed, exit 1), 5 × `/dev/vda1 40G 12G 26G 32% /`, 1 × `other`',
    );
  });
});

describe('Function: groupHeadline', () => {
  it('is the first non-empty line, trimmed; the last when asked', () => {
    expect(groupHeadline(group(1, '\n\n  first  \nsecond\n\nlast'))).toBe('first');
    expect(groupHeadline(group(1, 'first\nlast'), 'last')).toBe('last');
    expect(groupHeadline(group(1, ''))).toBe('');
  });

  it(`cuts a long line to ${HEADLINE_CHARS} code points ending in …, never inside an emoji`, () => {
    const line = `${'😀'.repeat(HEADLINE_CHARS)}tail`;
    const h = groupHeadline(group(1, line));
    expect(Array.from(h)).toHaveLength(HEADLINE_CHARS);
    expect(h).toBe(`${'😀'.repeat(HEADLINE_CHARS - 1)}…`);
    expect(groupHeadline(group(1, 'x'.repeat(HEADLINE_CHARS)))).toBe('x'.repeat(HEADLINE_CHARS));
  });

  it('skips the partial first line of a cut output, or marks it when it is all there is', () => {
    expect(groupHeadline(group(1, 'ne\nwhole line', 'Success', 0, '', 1000))).toBe('whole line');
    expect(groupHeadline(group(1, 'end of a long line', 'Success', 0, '', 1000))).toBe('…end of a long line');
  });

  it('keeps a backquote or a control character from breaking the chat line', () => {
    expect(groupHeadline(group(1, 'use `rm` \u001b[31mnow\u001b[0m'))).toBe("use 'rm'  [31mnow [0m");
  });
});
