/**
 * fc3EventHandler: FC's `(event: Buffer, context)` to `handler(records, context)` through a
 * trigger's envelope — typed records and failed ones in delivery order, the payload as a whole
 * rejected only when it is not JSON or not the envelope's.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { taskCompletedEnvelope } from '../../shared/events/task-completed.ts';
import type { FleetrunContext } from '../../shared/runtime/context.ts';
import { EventPayloadError, type ParsedRecord } from '../../shared/runtime/envelopes/envelope.ts';
import { invocationEnvelope } from '../../shared/runtime/envelopes/invocation.ts';
import { timerEnvelope } from '../../shared/runtime/envelopes/timer.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';

const FALLBACK = { functionName: 'fleetrun-task-events', region: 'cn-hangzhou', accountId: '1234567890123456' };
const FC_CONTEXT = { requestId: 'event-req-1', credentials: { accessKeyId: 'ak', accessKeySecret: 'secret-value-01' }, function: { name: 'fleetrun-task-events' }, region: 'cn-hangzhou', accountId: '1234567890123456' };

const event = (id: string, invocationStatus = 'Success') => ({
  id,
  source: 'acs.ecs',
  specversion: '1.0',
  type: 'ecs:CloudAssistant:TaskCompleted',
  data: { commandId: 'c-1', commandName: 'fleetrun:r-20261123t100000-abc123:uptime', exitCode: '0', instanceId: 'i-1', invocationStatus },
});

function recording<T>() {
  const seen: [ParsedRecord<T>[], FleetrunContext][] = [];
  return { seen, handler: async (records: ParsedRecord<T>[], context: FleetrunContext) => (seen.push([records, context]), records.length) };
}

describe('Function: fc3EventHandler', () => {
  it('hands the handler the envelope’s records, good and failed, in order, with the FleetrunContext', async () => {
    const { seen, handler } = recording<unknown>();
    const fn = fc3EventHandler(taskCompletedEnvelope, handler, FALLBACK);
    expect(await fn(Buffer.from(JSON.stringify([event('e-1'), event('e-2', 'Exploded'), event('e-3')])), FC_CONTEXT)).toBe(3);
    const [records, context] = seen[0]!;
    expect(records.map((r) => [r.id, r.ok])).toEqual([
      ['e-1', true],
      ['e-2', false],
      ['e-3', true],
    ]);
    expect(records[1]).toMatchObject({ ok: false, reason: expect.stringMatching(/^data\.invocationStatus: /) });
    expect(context).toMatchObject({ requestId: 'event-req-1', functionName: 'fleetrun-task-events', region: 'cn-hangzhou', credentials: { accessKeyId: 'ak' } });
  });

  it('reads one CloudEvent, as a default-bus rule sends it, as a batch of one', async () => {
    const { seen, handler } = recording<unknown>();
    await fc3EventHandler(taskCompletedEnvelope, handler, FALLBACK)(Buffer.from(JSON.stringify(event('only'))), FC_CONTEXT);
    expect(seen[0]![0]).toMatchObject([{ ok: true, id: 'only' }]);
  });

  it("gives the context a deadline from the function's timeout, since FC's context has no remaining-time method, and none without one", async () => {
    const { seen, handler } = recording<unknown>();
    const fn = fc3EventHandler(taskCompletedEnvelope, handler, FALLBACK);
    const before = Date.now();
    await fn(Buffer.from(JSON.stringify(event('e-1'))), { ...FC_CONTEXT, function: { name: 'fleetrun-schedule', handler: 'index.handler', memory: 256, timeout: 120 } });
    const deadline = seen[0]![1].deadline!.getTime();
    expect(deadline).toBeGreaterThanOrEqual(before + 120_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 120_000);
    await fn(Buffer.from(JSON.stringify(event('e-2'))), FC_CONTEXT);
    expect(seen[1]![1].deadline).toBeUndefined();
  });

  it('rejects a payload that is not JSON, or not the envelope’s at all, before the handler runs', async () => {
    const { seen, handler } = recording<unknown>();
    await expect(fc3EventHandler(taskCompletedEnvelope, handler, FALLBACK)(Buffer.from('{not json'), FC_CONTEXT)).rejects.toBeInstanceOf(EventPayloadError);
    await expect(fc3EventHandler(timerEnvelope, handler, FALLBACK)(Buffer.from(JSON.stringify([event('e-1')])), FC_CONTEXT)).rejects.toBeInstanceOf(EventPayloadError);
    expect(seen).toEqual([]);
  });
});

describe('Envelope: invocationEnvelope', () => {
  const request = z.object({ kind: z.literal('run'), runId: z.string() });

  it('takes a direct invocation’s value, or each of an array, checked and named by its place', () => {
    expect(invocationEnvelope(request).records({ kind: 'run', runId: 'r-1' })).toEqual([{ ok: true, id: '#0', record: { kind: 'run', runId: 'r-1' } }]);
    expect(invocationEnvelope(request).records([{ kind: 'run', runId: 'r-1' }, { kind: 'stop' }])).toEqual([
      { ok: true, id: '#0', record: { kind: 'run', runId: 'r-1' } },
      { ok: false, id: '#1', reason: expect.stringMatching(/^kind: /) },
    ]);
  });
});
