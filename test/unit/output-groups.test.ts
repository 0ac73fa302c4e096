import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INSTANCE_STATUSES } from '../../shared/cloud-assistant/statuses.ts';
import { GROUP_INSTANCE_IDS, OutputGrouper, type GroupedResult, type OutputGroup, type OutputGrouperOptions } from '../../shared/runs/output-groups.ts';
import { outputGroupingSchema } from '../../shared/runs/output-normalise.ts';
import { tailCharsFor } from '../../shared/runs/summary.ts';

const NUMBERS = outputGroupingSchema.parse({ mask: ['numbers', 'timestamps'] });

function r(instanceId: string, output: string, status: GroupedResult['status'] = 'Success', exitCode = 0, errorCode = ''): GroupedResult {
  return { instanceId, status, exitCode, errorCode, output };
}

const id = (n: number) => `i-${String(n).padStart(6, '0')}`;

describe('Class: OutputGrouper — grouping', () => {
  it('puts results with the same status, exit code, error code and normalised output together', () => {
    const g = new OutputGrouper({ outputChars: 100 });
    g.add(r('i-a', 'ok\n'));
    g.add(r('i-b', 'ok  \r\n'));
    g.add(r('i-c', 'ok', 'Failed', 1, 'ExitCodeNonzero'));
    g.add(r('i-d', 'ok', 'Failed', 2, 'ExitCodeNonzero'));
    g.add(r('i-e', '', 'Aborted', 0, 'InstanceNotRunning'));
    g.add(r('i-f', '', 'Aborted', 0, 'ClientNotRunning'));
    g.add(r('i-g', 'OK'));
    const groups = g.build();
    expect(groups.map((x) => [x.status, x.exitCode, x.errorCode, x.output, x.count, x.instanceIds])).toEqual([
      ['Failed', 1, 'ExitCodeNonzero', 'ok', 1, ['i-c']],
      ['Failed', 2, 'ExitCodeNonzero', 'ok', 1, ['i-d']],
      ['Aborted', 0, 'ClientNotRunning', '', 1, ['i-f']],
      ['Aborted', 0, 'InstanceNotRunning', '', 1, ['i-e']],
      ['Success', 0, '', 'ok', 2, ['i-a', 'i-b']],
      ['Success', 0, '', 'OK', 1, ['i-g']],
    ]);
    expect(groups.every((x) => /^[0-9a-f]{64}$/.test(x.key))).toBe(true);
    expect(new Set(groups.map((x) => x.key)).size).toBe(groups.length);
    expect([g.groupCount, g.instanceCount]).toEqual([6, 7]);
  });

  it('groups by the rules: masked numbers and timestamps make one group, and its output shows the placeholders', () => {
    const g = new OutputGrouper({ rules: NUMBERS, outputChars: 100 });
    g.add(r('i-a', '2026-11-23T10:00:05Z disk at 91%\n'));
    g.add(r('i-b', '2026-11-23T10:00:07Z disk at 93%\n'));
    g.add(r('i-c', '2026-11-23T10:00:07Z disk full\n', 'Failed', 1));
    expect(g.build().map((x) => [x.output, x.count])).toEqual([['<time> disk full', 1], ['<time> disk at <n>%', 2]]);
    const exact = new OutputGrouper({ outputChars: 100 });
    exact.add(r('i-a', '2026-11-23T10:00:05Z disk at 91%\n'));
    exact.add(r('i-b', '2026-11-23T10:00:07Z disk at 93%\n'));
    expect(exact.groupCount).toBe(2);
  });

  it('keeps the last outputChars of the normalised output and its whole length, without splitting a surrogate pair', () => {
    const g = new OutputGrouper({ outputChars: 5 });
    g.add(r('i-a', 'head\nlast line\n\n'));
    g.add(r('i-b', 'ab😀cd'));
    const [a, b] = g.build().sort((x, y) => x.outputChars - y.outputChars);
    expect([a!.output, a!.outputChars]).toEqual(['b😀cd', 6]);
    expect([b!.output, b!.outputChars]).toEqual([' line', 14]);
    const cut = new OutputGrouper({ outputChars: 3 });
    cut.add(r('i-a', 'ab😀cd'));
    expect(cut.build()[0]!.output).toBe('cd');
  });

  it('takes the first result of an instance and ignores a second, as the summary does', () => {
    const g = new OutputGrouper({ outputChars: 10 });
    const key = g.add(r('i-a', 'first'));
    expect(g.add(r('i-a', 'second', 'Failed', 1))).toBeUndefined();
    expect(g.build().map((x) => [x.key, x.output, x.count])).toEqual([[key, 'first', 1]]);
    // The key names the group an instance went to, for linking one to the other.
    expect(g.add(r('i-b', 'first\n'))).toBe(key);
  });

  it('refuses bounds that are not whole numbers', () => {
    expect(() => new OutputGrouper({ outputChars: -1 })).toThrow(/outputChars/);
    expect(() => new OutputGrouper({ outputChars: 10, instanceIdsKept: 1.5 })).toThrow(/instanceIdsKept/);
  });
});

describe('Class: OutputGrouper — order', () => {
  it('lists failed groups first, then stopped, then the rest, each by size; ties by status, exit code, error code, output', () => {
    const g = new OutputGrouper({ outputChars: 100 });
    let n = 0;
    const add = (count: number, output: string, status: GroupedResult['status'] = 'Success', exitCode = 0, errorCode = '') => {
      for (let i = 0; i < count; i++) g.add(r(id(n++), output, status, exitCode, errorCode));
    };
    add(50, 'ok');
    add(3, 'zzz');
    add(3, 'aaa');
    add(1, 'disk full', 'Failed', 1);
    add(2, 'slow', 'Timeout');
    add(2, '', 'Aborted', 0, 'InstanceNotRunning');
    add(7, 'stopped', 'Terminated');
    add(1, 'cancelled', 'Cancelled');
    add(2, 'bad', 'Error');
    add(2, 'also bad', 'Error');
    expect(g.build().map((x) => `${x.count} ${x.status} ${x.output}`)).toEqual([
      '2 Aborted ', '2 Timeout slow', '2 Error also bad', '2 Error bad', '1 Failed disk full',
      '7 Terminated stopped', '1 Cancelled cancelled',
      '50 Success ok', '3 Success aaa', '3 Success zzz',
    ]);
  });

  it('treats every documented failure status as a failure, ahead of any larger stopped or successful group', () => {
    for (const failure of ['Failed', 'Invalid', 'Aborted', 'Timeout', 'Error'] as const) {
      const g = new OutputGrouper({ outputChars: 10 });
      for (let i = 0; i < 5; i++) g.add(r(id(i), 'ok'));
      for (let i = 5; i < 8; i++) g.add(r(id(i), 'x', 'Terminated'));
      g.add(r(id(9), 'x', failure));
      expect(g.build().map((x) => x.status)).toEqual([failure, 'Terminated', 'Success']);
    }
  });
});

describe('Class: OutputGrouper — bounded instance ids, exact totals', () => {
  it(`lists the first ${GROUP_INSTANCE_IDS} ids of a big group by id, and counts all of them`, () => {
    const g = new OutputGrouper({ outputChars: 10 });
    const ids = Array.from({ length: 1234 }, (_, i) => id(i));
    // Added in a scrambled order: which ids are kept does not depend on it.
    for (let i = 0; i < ids.length; i++) g.add(r(ids[(i * 7919) % ids.length]!, 'same'));
    const [group] = g.build();
    expect(group!.count).toBe(1234);
    expect(group!.instanceIds).toEqual(ids.slice(0, GROUP_INSTANCE_IDS));
  });

  it('keeps as many ids as it is told, none included', () => {
    for (const kept of [0, 1, 3]) {
      const g = new OutputGrouper({ outputChars: 10, instanceIdsKept: kept });
      for (let i = 9; i >= 0; i--) g.add(r(id(i), 'same'));
      expect(g.build()[0]).toMatchObject({ count: 10, instanceIds: Array.from({ length: kept }, (_, i) => id(i)) });
    }
  });
});

const statusArb = fc.constantFrom('Success', 'Success', 'Failed', 'Timeout', 'Terminated' as const);
const outputArb = fc.tuple(fc.constantFrom('ok', 'disk at ', 'disk full', '', 'line\nline '), fc.nat(3)).map(([t, n]) => `${t}${t.endsWith(' ') ? n : ''}\n`);
const resultsArb = fc
  .array(fc.record({ status: statusArb, exitCode: fc.constantFrom(0, 1), output: outputArb, part: fc.nat(4) }), { maxLength: 80 })
  .map((rows) => rows.map((row, n) => ({ ...r(id(n), row.output, row.status, row.exitCode), part: row.part })));
const optionsArb = fc.record({ rules: fc.constantFrom(undefined, NUMBERS), outputChars: fc.constantFrom(0, 4, 100), instanceIdsKept: fc.constantFrom(0, 2, 50) });

function grouped(results: readonly GroupedResult[], options: OutputGrouperOptions): OutputGrouper {
  const g = new OutputGrouper(options);
  for (const x of results) g.add(x);
  return g;
}

describe('Class: OutputGrouper — merging partial groupings (property)', () => {
  it('merging the groupings of any partition, in any order, by grouper or by its stored state, gives the grouping of all', () => {
    fc.assert(
      fc.property(resultsArb, optionsArb, fc.func(fc.integer()), fc.boolean(), (results, options, orderKey, viaState) => {
        const whole = grouped(results, options).build();
        const parts = [0, 1, 2, 3, 4].map((p) => grouped(results.filter((x) => x.part === p), options));
        const order = [0, 1, 2, 3, 4].sort((a, b) => orderKey(a) - orderKey(b) || a - b);
        const merged = new OutputGrouper(options);
        for (const p of order) merged.merge(viaState ? JSON.parse(JSON.stringify(parts[p]!.state())) : parts[p]!);
        expect(merged.build()).toEqual(whole);
        expect(merged.instanceCount).toBe(results.length);
      }),
      { numRuns: 300, seed: 20_261_203 },
    );
  });

  it('is commutative and associative', () => {
    fc.assert(
      fc.property(resultsArb, optionsArb, (results, options) => {
        const of = (p: number) => grouped(results.filter((x) => x.part % 3 === p), options);
        const ab = of(0);
        ab.merge(of(1));
        const ba = of(1);
        ba.merge(of(0));
        expect(ab.build()).toEqual(ba.build());
        // (a·b)·c = a·(b·c)
        ab.merge(of(2));
        const bc = of(1);
        bc.merge(of(2));
        const a_bc = of(0);
        a_bc.merge(bc);
        expect(ab.build()).toEqual(a_bc.build());
      }),
      { numRuns: 200, seed: 20_261_204 },
    );
  });

  it('does not depend on the order results are added in', () => {
    fc.assert(
      fc.property(resultsArb, optionsArb, fc.func(fc.integer()), (results, options, orderKey) => {
        const shuffled = [...results].sort((a, b) => orderKey(a.instanceId) - orderKey(b.instanceId) || (a.instanceId < b.instanceId ? -1 : 1));
        expect(grouped(shuffled, options).build()).toEqual(grouped(results, options).build());
      }),
      { numRuns: 200, seed: 20_261_205 },
    );
  });

  it('refuses groupings over the same instance, or made with other rules, and changes nothing', () => {
    const a = new OutputGrouper({ outputChars: 10 });
    a.add(r('i-a', 'ok'));
    const b = new OutputGrouper({ outputChars: 10 });
    b.add(r('i-b', 'ok'));
    b.add(r('i-a', 'ok'));
    expect(() => a.merge(b)).toThrow(/i-a is in both/);
    expect(() => a.merge(b.state())).toThrow(/i-a is in both/);
    expect(() => a.merge(new OutputGrouper({ outputChars: 11 }))).toThrow(/same rules/);
    expect(() => a.merge(new OutputGrouper({ outputChars: 10, rules: NUMBERS }))).toThrow(/same rules/);
    expect(a.build()).toEqual([expect.objectContaining({ count: 1, instanceIds: ['i-a'] })]);
  });
});

/** V8's collector, for measuring what stays reachable (vitest does not start node with --expose-gc). */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const OUTPUT_BYTES = 24 * 1024;
const INSTANCES = 10_000;

/** A fresh 24 KB output of its own (not a slice or concatenation sharing another's characters), distinct when `distinct`. */
function output(n: number, distinct: boolean): string {
  const b = Buffer.alloc(OUTPUT_BYTES, 'disk /dev/vda1 at 42% on web, all fine\n');
  if (distinct) for (let at = 0; at < OUTPUT_BYTES; at += 4096) b.write(String(n).padStart(8, '0'), at);
  return b.toString('utf8');
}

describe('Class: OutputGrouper — bounded memory at 10,000 instances with 24 KB outputs', () => {
  const heapGrowthFolding = (distinct: boolean): { growth: number; groups: OutputGroup[] } => {
    const gc = collector();
    gc();
    const before = process.memoryUsage().heapUsed;
    const g = new OutputGrouper({ outputChars: tailCharsFor(INSTANCES) });
    for (let n = 0; n < INSTANCES; n++) g.add(r(id(n), output(n, distinct), n % 50 === 0 ? 'Failed' : 'Success', n % 50 === 0 ? 1 : 0));
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    return { growth, groups: g.build() };
  };

  it('keeps one short tail per group, not the outputs: every output different', () => {
    const { growth, groups } = heapGrowthFolding(true);
    expect(groups).toHaveLength(INSTANCES);
    expect(groups.every((x) => x.output.length === tailCharsFor(INSTANCES) && x.outputChars === OUTPUT_BYTES)).toBe(true);
    // The outputs are 240 MB; 10,000 tails of 200 characters, keys and ids are a few MB.
    expect(growth).toBeLessThan((INSTANCES * OUTPUT_BYTES) / 20);
  }, 60_000);

  it('keeps next to nothing when the outputs are alike', () => {
    const { growth, groups } = heapGrowthFolding(false);
    expect(groups.map((x) => x.count)).toEqual([INSTANCES / 50, INSTANCES - INSTANCES / 50]);
    // Two groups and the 10,000 instance ids the grouper has seen.
    expect(growth).toBeLessThan(4 * 1024 * 1024);
  }, 60_000);
});

it('lists every status the statuses module knows in its order', () => {
  // compareGroups ranks every status: a new one would have no rank and sort arbitrarily.
  const g = new OutputGrouper({ outputChars: 10 });
  INSTANCE_STATUSES.forEach((s, n) => g.add(r(id(n), 'x', s)));
  expect(g.build()).toHaveLength(INSTANCE_STATUSES.length);
  expect(g.build().map((x) => x.status)).toEqual(['Failed', 'Invalid', 'Aborted', 'Timeout', 'Error', 'Cancelled', 'Terminated', 'Pending', 'Scheduled', 'Running', 'Stopping', 'Success']);
});
