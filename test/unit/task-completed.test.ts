import { describe, expect, it } from 'vitest';
import { dedupeKey, taskCompletedEnvelope } from '../../shared/events/task-completed.ts';

const parseTaskCompleted = taskCompletedEnvelope.record;

/** The documented sample (reference §1.3), with its six data fields. */
const documented = {
  id: '45ef4dewdwe1-7c35-447a-bd93-fab0000',
  source: 'acs.ecs',
  specversion: '1.0',
  subject: 'acs.ecs:cn-hangzhou:1234567890980000:215672',
  time: '2020-11-19T21:04:41+08:00',
  type: 'ecs:CloudAssistant:TaskCompleted',
  aliyunaccountid: '1234567890980000',
  aliyunpublishtime: '2020-11-19T21:04:42Z',
  aliyuneventbusname: 'default',
  aliyunregionid: 'cn-hangzhou',
  aliyunpublishaddr: '172.25.0.0',
  data: { commandId: 'c-hz045xxxxxxxxxx', commandName: 'hello-linux.sh', exitCode: '0', finishTime: '2023-12-14T07:39:48Z', instanceId: 'i-bp114xxxxxxxxxxxxxxx', invocationStatus: 'Success' },
};

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
