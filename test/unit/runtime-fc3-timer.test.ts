/** fc3TimerHandler: FC 3.0 timer events (reference §5.4) to a TimerEvent with its payload parsed when JSON. */
import { describe, expect, it } from 'vitest';
import type { FleetrunContext } from '../../shared/runtime/context.ts';
import { EventPayloadError } from '../../shared/runtime/envelopes/envelope.ts';
import { parseTimerEvent as parseTimerPayload, type TimerEvent } from '../../shared/runtime/envelopes/timer.ts';
import { fc3TimerHandler } from '../../shared/runtime/fc3-timer.ts';

const FALLBACK = { functionName: 'fleetrun-schedule', region: 'cn-hangzhou', accountId: '1234567890123456' };
const FC_CONTEXT = { requestId: 'timer-req-1', function: { name: 'fleetrun-schedule' }, region: 'cn-hangzhou', accountId: '1234567890123456' };

/** The envelope reads the payload once FC's bytes are JSON-parsed. */
const parseTimerEvent = (event: Buffer): TimerEvent => parseTimerPayload(JSON.parse(event.toString('utf8')));

function timerEvent(payload?: string): Buffer {
  return Buffer.from(JSON.stringify({ triggerTime: '2023-12-26T07:49:00Z', triggerName: 'timer-trigger', ...(payload !== undefined ? { payload } : {}) }));
}

describe('Function: fc3TimerHandler', () => {
  it('hands the handler the §5.4 sample with its plain-string payload as the string', async () => {
    const seen: [TimerEvent, FleetrunContext][] = [];
    const handler = fc3TimerHandler(async (event, ctx) => {
      seen.push([event, ctx]);
      return 'done';
    }, FALLBACK);
    expect(await handler(timerEvent('awesome-fc'), FC_CONTEXT)).toBe('done');
    expect(seen[0]![0]).toEqual({ triggerTime: '2023-12-26T07:49:00Z', triggerName: 'timer-trigger', payload: 'awesome-fc' });
    expect(seen[0]![1]).toMatchObject({ requestId: 'timer-req-1', functionName: 'fleetrun-schedule' });
  });

  it('parses a JSON payload', async () => {
    const handler = fc3TimerHandler(async (event) => event.payload, FALLBACK);
    expect(await handler(timerEvent('{"job":"disk-check","maxErrors":"5%"}'), FC_CONTEXT)).toEqual({ job: 'disk-check', maxErrors: '5%' });
    expect(await handler(timerEvent('[1,2]'), FC_CONTEXT)).toEqual([1, 2]);
  });

  it('gives an empty string for a missing or empty payload, and keeps text that only looks like JSON', () => {
    expect(parseTimerEvent(timerEvent()).payload).toBe('');
    expect(parseTimerEvent(timerEvent('')).payload).toBe('');
    expect(parseTimerEvent(timerEvent('{not json')).payload).toBe('{not json');
  });

  it('throws EventPayloadError for an event that is not a timer event', async () => {
    const handler = fc3TimerHandler(async () => 'never', FALLBACK);
    await expect(handler(Buffer.from('[{"id":"x"}]'), FC_CONTEXT)).rejects.toBeInstanceOf(EventPayloadError);
    await expect(handler(Buffer.from('{"triggerName":"t"}'), FC_CONTEXT)).rejects.toThrow(/triggerTime/);
    await expect(handler(Buffer.from('not json'), FC_CONTEXT)).rejects.toBeInstanceOf(EventPayloadError);
  });
});
