import { describe, expect, it } from 'vitest';
import { UsageError } from '../../local/cli/access-keys.ts';
import { parseLocalArgs, type LocalCommandOptions } from '../../local/cli/local-command.ts';
import { describeDelays } from '../../local/delay-env.ts';

const parse = (env: Record<string, string>) => parseLocalArgs([], env) as LocalCommandOptions;

describe('fleetrun local / npm start: delays from the environment', () => {
  it('reads each FLEETRUN_LOCAL_DELAY_* in parseDelay form, with a seed', () => {
    const o = parse({
      FLEETRUN_LOCAL_DELAY_EVENTBRIDGE: 'lognormal:1s,p95=3s',
      FLEETRUN_LOCAL_DELAY_EVENTSTREAMING: '500ms',
      FLEETRUN_LOCAL_DELAY_OUTPUTOBJECT: 'uniform:0-2s',
      FLEETRUN_LOCAL_DELAY_SEED: '7',
    });
    expect(o.delays).toEqual({
      eventBridge: { kind: 'lognormal', medianMs: 1000, p95Ms: 3000 },
      eventStreaming: { kind: 'fixed', ms: 500 },
      outputObject: { kind: 'uniform', minMs: 0, maxMs: 2000 },
      seed: 7,
    });
    expect(describeDelays(o.delays!)).toBe('eventBridge lognormal:1s,p95=3s, eventStreaming 500ms, outputObject uniform:0-2s (seed 7)');
  });

  it('sets nothing when the environment sets nothing (or empty values)', () => {
    const o = parse({ FLEETRUN_LOCAL_DELAY_EVENTBRIDGE: '' });
    expect(o.delays).toBeUndefined();
    expect(o.defaultTriggerBatchWindow).toBeUndefined();
  });

  it('reads FLEETRUN_LOCAL_DEFAULT_TRIGGER_BATCH_WINDOW', () => {
    expect(parse({ FLEETRUN_LOCAL_DEFAULT_TRIGGER_BATCH_WINDOW: 'ignored' }).defaultTriggerBatchWindow).toBe('ignored');
    expect(parse({ FLEETRUN_LOCAL_DEFAULT_TRIGGER_BATCH_WINDOW: 'honoured' }).defaultTriggerBatchWindow).toBe('honoured');
  });

  it.each([
    [{ FLEETRUN_LOCAL_DELAY_EVENTBRIDGE: '3 seconds' }, /^FLEETRUN_LOCAL_DELAY_EVENTBRIDGE: delay "3 seconds": write a duration/],
    [{ FLEETRUN_LOCAL_DELAY_OUTPUTOBJECT: 'uniform:2s-1s' }, /^FLEETRUN_LOCAL_DELAY_OUTPUTOBJECT: .*minimum is above its maximum/],
    [{ FLEETRUN_LOCAL_DELAY_SEED: 'abc' }, /^FLEETRUN_LOCAL_DELAY_SEED: "abc" is not a whole number/],
    [{ FLEETRUN_LOCAL_DEFAULT_TRIGGER_BATCH_WINDOW: 'off' }, /neither honoured nor ignored/],
  ])('refuses %j as a usage error naming the variable', (env, message) => {
    expect(() => parse(env)).toThrow(UsageError);
    expect(() => parse(env)).toThrow(message);
  });
});
