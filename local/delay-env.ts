/**
 * The local cloud's modelled delays and Default-trigger batching from the environment, so
 * `npm start` and `fleetrun local` take them without new flags (README, "The local cloud"):
 *   FLEETRUN_LOCAL_DELAY_EVENTBRIDGE=lognormal:1s,p95=3s   (parseDelay's forms)
 *   FLEETRUN_LOCAL_DELAY_EVENTSTREAMING=500ms
 *   FLEETRUN_LOCAL_DELAY_OUTPUTOBJECT=uniform:0-2s
 *   FLEETRUN_LOCAL_DELAY_SEED=7
 *   FLEETRUN_LOCAL_DEFAULT_TRIGGER_BATCH_WINDOW=ignored    (or honoured, the default)
 */
import { describeDelay, parseDelay } from './delay-distribution.ts';
import type { LocalCloudOptions } from './local-cloud.ts';

export const DELAY_ENV = {
  eventBridge: 'FLEETRUN_LOCAL_DELAY_EVENTBRIDGE',
  eventStreaming: 'FLEETRUN_LOCAL_DELAY_EVENTSTREAMING',
  outputObject: 'FLEETRUN_LOCAL_DELAY_OUTPUTOBJECT',
} as const;
export const DELAY_SEED_ENV = 'FLEETRUN_LOCAL_DELAY_SEED';
export const DEFAULT_TRIGGER_BATCH_WINDOW_ENV = 'FLEETRUN_LOCAL_DEFAULT_TRIGGER_BATCH_WINDOW';

type Delays = NonNullable<LocalCloudOptions['delays']>;

/** The delays the environment sets, or undefined when it sets none; an Error naming the variable on a bad value. */
export function delaysFromEnv(env: Record<string, string | undefined>): Delays | undefined {
  const delays: Delays = {};
  for (const [field, name] of Object.entries(DELAY_ENV) as [keyof typeof DELAY_ENV, string][]) {
    const text = env[name];
    if (text === undefined || text.trim() === '') continue;
    try {
      delays[field] = parseDelay(text);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`, { cause: e });
    }
  }
  const seed = env[DELAY_SEED_ENV];
  if (seed !== undefined && seed.trim() !== '') {
    if (!/^\d{1,10}$/.test(seed.trim())) throw new Error(`${DELAY_SEED_ENV}: "${seed}" is not a whole number`);
    delays.seed = Number(seed.trim());
  }
  return Object.keys(delays).length > 0 ? delays : undefined;
}

export function defaultTriggerBatchWindowFromEnv(env: Record<string, string | undefined>): 'honoured' | 'ignored' | undefined {
  const value = env[DEFAULT_TRIGGER_BATCH_WINDOW_ENV]?.trim();
  if (value === undefined || value === '') return undefined;
  if (value !== 'honoured' && value !== 'ignored') throw new Error(`${DEFAULT_TRIGGER_BATCH_WINDOW_ENV}: "${value}" is neither honoured nor ignored`);
  return value;
}

/** One line for the start-up output: the delays in effect. */
export function describeDelays(delays: Delays): string {
  const parts = (Object.keys(DELAY_ENV) as (keyof typeof DELAY_ENV)[]).flatMap((k) => (delays[k] ? [`${k} ${describeDelay(delays[k])}`] : []));
  return `${parts.join(', ')}${delays.seed !== undefined ? ` (seed ${delays.seed})` : ''}`;
}
