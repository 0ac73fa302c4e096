/** The timer envelope (reference §5.4): one firing, one record; an event that is not a timer's is refused whole. */
import { describe, expect, it } from 'vitest';
import { EventPayloadError } from '../../shared/runtime/envelopes/envelope.ts';
import { timerEnvelope, triggerDate } from '../../shared/runtime/envelopes/timer.ts';

/** The documented sample. */
const documented = { triggerTime: '2023-12-26T07:49:00Z', triggerName: 'timer-trigger', payload: 'awesome-fc' };
/** As the local FC host fires s.yaml's schedule trigger (local/fc/host.ts): whole seconds, the configured JSON payload. */
const localHost = { triggerTime: '2026-11-23T10:01:00Z', triggerName: 'every-minute', payload: '{"task":"reconcile"}' };

describe('Envelope: timerEnvelope', () => {
  it('hands over the firing named by its trigger, the payload parsed when it is JSON', () => {
    expect(timerEnvelope.records(documented)).toEqual([{ ok: true, id: 'timer-trigger', record: documented }]);
    expect(timerEnvelope.records(localHost)).toEqual([{ ok: true, id: 'every-minute', record: { ...localHost, payload: { task: 'reconcile' } } }]);
  });

  it('refuses what is not a timer event as a whole: there is no batch to skip a record of', () => {
    expect(() => timerEnvelope.records([documented])).toThrow(EventPayloadError);
    expect(() => timerEnvelope.records({ triggerName: 't' })).toThrow(/not a timer event: triggerTime/);
    expect(() => timerEnvelope.records({ ...documented, triggerTime: '' })).toThrow(/triggerTime/);
  });

  it('reads the trigger time as the moment it names, and nothing from text that is not a time', () => {
    expect(triggerDate(documented)?.toISOString()).toBe('2023-12-26T07:49:00.000Z');
    expect(triggerDate({ ...documented, triggerTime: '2026-11-23T18:01:00+08:00' })?.toISOString()).toBe('2026-11-23T10:01:00.000Z');
    expect(triggerDate({ ...documented, triggerTime: 'soon' })).toBeUndefined();
  });
});
