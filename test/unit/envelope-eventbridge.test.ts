/**
 * The EventBridge envelope as task-events gets it (reference §1.2, §5.5): one CloudEvent per
 * invocation from a rule on the default bus, or an array when the trigger batches; each checked
 * for source, type and the TaskCompleted data, a bad one failed alone with its reason.
 */
import { describe, expect, it } from 'vitest';
import { taskCompletedEnvelope } from '../../shared/events/task-completed.ts';
import { documentedTaskCompleted as documented } from '../support/task-completed-samples.ts';

/** As the local ECS emits it (local/ecs/task-events.ts) with every likely field: datacontenttype, invokeId, times, error fields. */
const localEmulator = {
  id: '0f4ad0f2-5a4c-4a55-9d4e-2a8f0f1c7b11',
  source: 'acs.ecs',
  specversion: '1.0',
  subject: 'acs.ecs:cn-hangzhou:1234567890123456:i-demo000001',
  time: '2026-11-23T10:00:05Z',
  type: 'ecs:CloudAssistant:TaskCompleted',
  datacontenttype: 'application/json;charset=utf-8',
  aliyunaccountid: '1234567890123456',
  aliyunpublishtime: '2026-11-23T10:00:05.123Z',
  aliyuneventbusname: 'default',
  aliyunregionid: 'cn-hangzhou',
  aliyunpublishaddr: '127.0.0.1',
  data: {
    commandId: 'c-hz0demo0001',
    commandName: 'fleetrun:r-20261123t100000-abc123:uptime',
    exitCode: '1',
    finishTime: '2026-11-23T10:00:05Z',
    instanceId: 'i-demo000001',
    invocationStatus: 'Failed',
    invokeId: 't-hz0demo0001',
    startTime: '2026-11-23T10:00:04Z',
    repeatMode: 'Once',
    regionId: 'cn-hangzhou',
    errorCode: 'ExitCodeNonzero',
    errorInfo: 'the command execution exit code is not zero',
  },
};

describe('Envelope: taskCompletedEnvelope', () => {
  it('takes the single CloudEvent of a default-bus rule as one typed record, named by its id', () => {
    const records = taskCompletedEnvelope.records(documented);
    expect(records).toHaveLength(1);
    const [r] = records;
    expect(r).toMatchObject({ ok: true, id: documented.id });
    if (r?.ok) expect([r.record.source, r.record.data.instanceId, r.record.data.exitCode, r.record.aliyuneventbusname]).toEqual(['acs.ecs', 'i-bp114xxxxxxxxxxxxxxx', 0, 'default']);
  });

  it('reads a batch in order and keeps the fields it does not check', () => {
    const records = taskCompletedEnvelope.records([localEmulator, documented]);
    expect(records.map((r) => [r.ok, r.id])).toEqual([
      [true, localEmulator.id],
      [true, documented.id],
    ]);
    const [first] = records;
    if (first?.ok) expect([first.record.data.invokeId, first.record.data.errorCode, first.record.data.exitCode, first.record.datacontenttype]).toEqual(['t-hz0demo0001', 'ExitCodeNonzero', 1, 'application/json;charset=utf-8']);
  });

  it('fails each bad event alone, with where it is wrong, between good ones', () => {
    const records = taskCompletedEnvelope.records([
      documented,
      { ...documented, id: 'other-source', source: 'acs.oss' },
      { ...documented, id: 'other-type', type: 'ecs:Instance:StateChange' },
      { ...documented, id: 'bad-status', data: { ...documented.data, invocationStatus: 'Done' } },
      { ...documented, id: 'no-instance', data: { ...documented.data, instanceId: undefined } },
      { ...documented, id: undefined },
      null,
      'text',
      localEmulator,
    ]);
    expect(records.map((r) => (r.ok ? ['ok', r.id] : [r.id, r.reason.split(':')[0]]))).toEqual([
      ['ok', documented.id],
      ['other-source', 'source'],
      ['other-type', 'type'],
      ['bad-status', 'data.invocationStatus'],
      ['no-instance', 'data.instanceId'],
      ['(no id)', 'id'],
      ['(no id)', '(event)'],
      ['(no id)', '(event)'],
      ['ok', localEmulator.id],
    ]);
  });

  it('an empty batch has no records', () => {
    expect(taskCompletedEnvelope.records([])).toEqual([]);
  });
});
