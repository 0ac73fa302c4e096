/** A batch of stored results as one object: its bytes and name, and reading it back (pipeline/result-batch.ts). */
import { describe, expect, it } from 'vitest';
import { countInName, decodeResultBatch, encodeResultBatch } from '../../shared/pipeline/result-batch.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';

const result = (instanceId: string, status: InstanceResult['status'] = 'Success', output = `ok ${instanceId}\n`): InstanceResult => ({
  version: 1, runId: 'r-20261123t120000-rb0001', invokeId: 't-1', commandId: 'c-1', instanceId, status, exitCode: status === 'Success' ? 0 : 1,
  errorCode: status === 'Success' ? '' : 'ExitCodeNonzero', errorInfo: '', output, outputBytes: output.length, source: 'event',
});

describe('encodeResultBatch', () => {
  it('names the same batch the same whatever its order and repeats, and says how many it holds', () => {
    const a = encodeResultBatch([result('i-b'), result('i-a', 'Failed'), result('i-c')]);
    const b = encodeResultBatch([result('i-c'), result('i-a', 'Failed'), result('i-b'), result('i-c')]);
    expect(b.name).toBe(a.name);
    expect(b.body).toBe(a.body);
    expect(a.name).toMatch(/^[0-9a-f]{32}-3$/);
    expect(countInName(a.name)).toBe(3);
    // Another result for one instance is another batch.
    expect(encodeResultBatch([result('i-b'), result('i-a', 'Failed'), result('i-c', 'Success', 'other\n')]).name).not.toBe(a.name);
  });

  it('keeps an instance’s first result when a batch holds two', () => {
    const { batch } = encodeResultBatch([result('i-a', 'Success', 'first\n'), result('i-a', 'Failed', 'second\n')]);
    expect(batch.results!.map((r) => r.output)).toEqual(['first\n']);
    expect(batch.failed.size).toBe(0);
  });
});

describe('decodeResultBatch', () => {
  it('reads back the header, and the results only when asked', () => {
    const { body } = encodeResultBatch([result('i-b', 'Timeout'), result('i-a')]);
    expect(body.split('\n\n')[0]).toBe('i-a\ni-b\tfailed');
    const named = decodeResultBatch(body, false);
    expect([named.instanceIds, [...named.failed], named.results]).toEqual([['i-a', 'i-b'], ['i-b'], undefined]);
    expect(decodeResultBatch(body, true).results).toEqual([result('i-a'), result('i-b', 'Timeout')]);
  });

  it('reads a marker of the earlier layout as names without results, and tells its name apart', () => {
    const marker = decodeResultBatch('i-a\ni-b\tfailed\n', true);
    expect([marker.instanceIds, [...marker.failed], marker.results]).toEqual([['i-a', 'i-b'], ['i-b'], undefined]);
    expect(countInName('0123456789abcdef0123456789abcdef')).toBeUndefined();
    expect(countInName('results.json')).toBeNull();
  });

  it('refuses a stored result that is not one', () => {
    expect(() => decodeResultBatch('i-a\n\n{"version":1,"instanceId":"i-a"}\n', true)).toThrow();
  });
});
