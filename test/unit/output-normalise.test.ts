import { describe, expect, it } from 'vitest';
import { EXACT_GROUPING, outputGroupingSchema, outputNormaliser, type OutputGroupingInput } from '../../shared/runs/output-normalise.ts';

const normalise = (text: string, rules: OutputGroupingInput = {}) => outputNormaliser(outputGroupingSchema.parse(rules)).normalise(text);

describe('Function: outputNormaliser — trailing whitespace, always', () => {
  it('drops spaces, tabs and CRs at the end of every line, and blank lines and whitespace at the end', () => {
    expect(normalise('ok  \r\nsecond\t\r\n\n  \n')).toBe('ok\nsecond');
    expect(normalise('ok')).toBe(normalise('ok\n'));
    expect(outputNormaliser().normalise('a \n b ')).toBe('a\n b');
  });

  it('keeps leading whitespace, inner blank lines and everything else as printed', () => {
    expect(normalise('  indented\n\nafter a blank line: 42 at 10.0.0.1')).toBe('  indented\n\nafter a blank line: 42 at 10.0.0.1');
    expect(EXACT_GROUPING).toEqual(outputGroupingSchema.parse({}));
  });
});

describe('Function: outputNormaliser — numbers', () => {
  it('masks every run of digits, with its decimal fraction', () => {
    expect(normalise('used 42% of 1.5 GB on web017, 3 files', { mask: ['numbers'] })).toBe('used <n>% of <n> GB on web<n>, <n> files');
  });

  it('masks nothing else', () => {
    expect(normalise('deadbeef and abc 10.0.0.1', { mask: ['numbers'] })).toBe('deadbeef and abc <n>.<n>');
  });
});

describe('Function: outputNormaliser — hex ids', () => {
  it.each([
    ['0x1F3A', '<hex>'],
    ['123e4567-e89b-12d3-a456-426614174000', '<hex>'],
    ['commit 3f4e5d6c7b8a9 built', 'commit <hex> built'],
    ['req-9f8e7d6c5b4a', 'req-<hex>'],
    ['sha256:9F8E7D6C5B4A', 'sha256:<hex>'],
    // An id that happens to have no letter, or no digit, groups with those that have.
    ['req-12345678', 'req-<hex>'],
    ['req-deadbeef', 'req-<hex>'],
    ['0xABCDEF', '<hex>'],
  ])('masks %j', (text, want) => {
    expect(normalise(text, { mask: ['hex'] })).toBe(want);
  });

  it.each([
    ['1234567', 'seven digits is a number'],
    ['abc123 and effaced', 'shorter than 8'],
    ['x9f8e7d6c5b4a', 'part of a longer word'],
  ])('leaves %j (%s)', (text) => {
    expect(normalise(text, { mask: ['hex'] })).toBe(text);
  });
});

describe('Function: outputNormaliser — IP addresses', () => {
  it.each([
    ['from 10.0.3.17.', 'from <ip>.'],
    ['inet addr:10.0.3.17 Bcast:10.0.3.255', 'inet addr:<ip> Bcast:<ip>'],
    ['10.0.0.1:8080', '<ip>:8080'],
    ['fe80::216:3eff:fe00:1%eth0', '<ip>'],
    ['[::1]:8080', '[<ip>]:8080'],
    ['2001:db8::8a2e:370:7334 and 2001:0db8:0000:0000:0000:ff00:0042:8329', '<ip> and <ip>'],
    ['::ffff:192.0.2.1', '<ip>'],
    ['ends at fe80::1.', 'ends at <ip>.'],
    ['(2001:db8::1, ::1)', '(<ip>, <ip>)'],
  ])('masks %j', (text, want) => {
    expect(normalise(text, { mask: ['ips'] })).toBe(want);
  });

  it.each([
    ['1.2.3.4.5', 'five parts'],
    ['256.1.1.1', 'an octet over 255'],
    ['std::vector', 'C++ scope, not the address d::'],
    ['a :: b', '"::" alone'],
    ['version 1.2.3', 'three parts'],
    ['g1::2 and 1::2g', 'a word goes on from either end'],
    ['at 10:00:05 and 1:2:3', 'a time of day, not an address'],
    ['fe80::1::2', 'two "::"'],
  ])('leaves %j (%s)', (text) => {
    expect(normalise(text, { mask: ['ips'] })).toBe(text);
  });
});

describe('Function: outputNormaliser — timestamps', () => {
  it.each([
    ['2026-11-23T10:00:05.123Z start', '<time> start'],
    ['2026-11-23 10:00:05+08:00', '<time>'],
    ['on 2026-11-23', 'on <time>'],
    ['127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /"', '127.0.0.1 - - [<time>] "GET /"'],
    ['Date: Thu, 10 Oct 2000 13:55:36 +0000', 'Date: <time>'],
    ['Oct  9 13:55:36 web01 sshd[42]: ok', '<time> web01 sshd[42]: ok'],
    ['Tue Oct 10 13:55:36 UTC 2000', '<time>'],
    [' 10:00:05 up 3 days', ' <time> up 3 days'],
  ])('masks %j', (text, want) => {
    expect(normalise(text, { mask: ['timestamps'] })).toBe(want);
  });

  it('does not take a capitalised word after a syslog stamp for a zone', () => {
    expect(normalise('Oct 10 13:55:36 ERROR disk full', { mask: ['timestamps'] })).toBe('<time> ERROR disk full');
  });

  it('wins over numbers and IPs where both match, whatever order the mask lists them', () => {
    const text = '2026-11-23T10:00:05Z 10.0.0.1 took 12 ms, id 9f8e7d6c5b4a';
    const want = '<time> <ip> took <n> ms, id <hex>';
    expect(normalise(text, { mask: ['numbers', 'hex', 'ips', 'timestamps'] })).toBe(want);
    expect(normalise(text, { mask: ['timestamps', 'ips', 'hex', 'numbers'] })).toBe(want);
  });
});

describe('Function: outputNormaliser — catalog patterns', () => {
  it('replaces a pattern by <masked>, or by what it says, before the built-in masks', () => {
    const rules = { mask: ['numbers' as const], patterns: ['req-[a-z]+', { regex: 'HOST \\S+', as: 'host <host>', ignoreCase: true }] };
    expect(normalise('req-abc from host web7 after 3 tries', rules)).toBe('<masked> from host <host> after <n> tries');
  });

  it('matches by code point', () => {
    expect(normalise('x😀y', { patterns: ['x.y'] })).toBe('<masked>');
  });
});

describe('Schema: outputGroupingSchema', () => {
  it('refuses an unknown mask, an invalid or empty-matching pattern and unknown fields', () => {
    expect(outputGroupingSchema.safeParse({ mask: ['dates'] }).success).toBe(false);
    expect(outputGroupingSchema.safeParse({ patterns: ['(unclosed'] }).error?.issues[0]?.message).toMatch(/not a valid regular expression/);
    expect(outputGroupingSchema.safeParse({ patterns: ['x*'] }).error?.issues[0]?.message).toMatch(/matches the empty text/);
    expect(outputGroupingSchema.safeParse({ mask: [], extra: 1 }).success).toBe(false);
    expect(outputGroupingSchema.safeParse({ patterns: [{ regex: 'a', flags: 'i' }] }).success).toBe(false);
  });

  it('reads its own output back unchanged, as a run manifest that records the rules will', () => {
    const rules = outputGroupingSchema.parse({ mask: ['ips'], patterns: ['x+', { regex: 'y', as: '<y>' }] });
    expect(outputGroupingSchema.parse(JSON.parse(JSON.stringify(rules)))).toEqual(rules);
  });

  it('lists masks once, in one order, so equal rules are equal data', () => {
    expect(outputGroupingSchema.parse({ mask: ['timestamps', 'numbers', 'timestamps'] }).mask).toEqual(['numbers', 'timestamps']);
  });
});
