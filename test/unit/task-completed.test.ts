import { describe, expect, it } from 'vitest';
import { dedupeKey, taskCompletedEnvelope } from '../../shared/events/task-completed.ts';
import { documentedTaskCompleted as documented } from '../support/task-completed-samples.ts';

const parseTaskCompleted = taskCompletedEnvelope.record;

describe('Function: taskCompletedEnvelope.record', () => {
  it('accepts the documented sample and turns exitCode into a number', () => {
    const parsed = parseTaskCompleted(documented);
    expect(parsed.ok && parsed.record.data.exitCode).toBe(0);
  });

  it('keeps fields it does not know and accepts a numeric exitCode', () => {
    const parsed = parseTaskCompleted({ ...documented, extra: 1, data: { ...documented.data, exitCode: 2, invokeId: 't-1', future: 'x' } });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect([parsed.record.data.exitCode, parsed.record.data.invokeId, (parsed.record.data as Record<string, unknown>).future]).toEqual([2, 't-1', 'x']);
  });

  it('gives a reason for a malformed event instead of throwing', () => {
    for (const [bad, where] of [
      [{ ...documented, type: 'ecs:Instance:StateChange' }, 'type'],
      [{ ...documented, data: { ...documented.data, invocationStatus: 'Done' } }, 'data.invocationStatus'],
      [{ ...documented, data: { ...documented.data, instanceId: undefined } }, 'data.instanceId'],
      [{ ...documented, data: { ...documented.data, exitCode: 'zero' } }, 'data.exitCode'],
      [null, '(event)'],
      ['{"id":1}', '(event)'],
    ] as const) {
      const parsed = parseTaskCompleted(bad);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason.startsWith(where)).toBe(true);
    }
  });

  it('names a duplicate delivery with the same key', () => {
    const a = parseTaskCompleted(documented);
    const b = parseTaskCompleted({ ...documented, id: 'another-delivery' });
    expect(a.ok && b.ok && dedupeKey(a.record.data) === dedupeKey(b.record.data)).toBe(true);
  });
});
