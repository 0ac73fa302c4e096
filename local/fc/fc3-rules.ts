/**
 * What Function Compute 3.0 refuses in a function's configuration and the local host refuses with
 * it, so a deployment that FC would not run does not pass locally either.
 *
 * Instance concurrency: Alibaba's "Comparison and compatibility between Function Compute 3.0 and
 * Function Compute 2.0" page: "Standard runtimes of Function Compute no longer support the
 * instance concurrency feature. Instances that run in custom runtimes still support it."
 * EventBridge triggers' batch windows: the ranges FC documents (below).
 */
import { z } from 'zod';
import type { FunctionProps } from './s-yaml.ts';

/** The runtimes FC 3.0 still lets set instanceConcurrency above 1. */
export const CUSTOM_RUNTIMES: readonly string[] = ['custom', 'custom.debian10', 'custom.debian11', 'custom.debian12', 'custom-container'];

export class Fc3RuleError extends Error {
  override readonly name = 'Fc3RuleError';
}

export function isCustomRuntime(runtime: string): boolean {
  return CUSTOM_RUNTIMES.includes(runtime);
}

/** Throws, naming the function, the key and the reason, when FC 3.0 would refuse the function. */
export function checkFc3Function(props: Pick<FunctionProps, 'functionName' | 'runtime' | 'instanceConcurrency'>): void {
  if (props.instanceConcurrency > 1 && !isCustomRuntime(props.runtime)) {
    throw new Fc3RuleError(
      `function ${props.functionName}: instanceConcurrency ${props.instanceConcurrency} on runtime ${props.runtime}: Function Compute 3.0's standard (built-in) runtimes no longer support instance concurrency; only custom runtimes (${CUSTOM_RUNTIMES.join(', ')}) do. Remove instanceConcurrency: FC starts another instance for each concurrent invocation.`,
    );
  }
}

/**
 * runOptions.batchWindow of an EventBridge trigger, as FC documents its ranges ("Advanced features
 * of triggers", push configuration: Batch Push Messages [1, 10000], Batch Push Interval [0, 15] s)
 * and its fields (FC 3.0 API struct BatchWindow: "the batch window configurations for the
 * EventBridge trigger"). docs/platform-facts.md §5.5, §7.
 */
export const BATCH_WINDOW_RANGES = { CountBasedWindow: [1, 10_000], TimeBasedWindow: [0, 15] } as const;

/** The invocation body limits ("Advanced features of triggers", invocation methods): a batch is split rather than pass them. */
export const INVOCATION_BODY_LIMIT_BYTES = { sync: 32 * 1024 * 1024, async: 128 * 1024 } as const;

export interface TriggerBatchWindow {
  countWindow: number;
  timeWindowSeconds: number;
}

function windowField(functionName: string, triggerName: string, field: keyof typeof BATCH_WINDOW_RANGES, value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const [min, max] = BATCH_WINDOW_RANGES[field];
  // s.yaml's ${env(…)} gives strings; the component hands numbers on as written.
  const parsed = z
    .union([z.number(), z.string().regex(/^\s*-?\d+\s*$/).transform(Number)])
    .pipe(z.number().int().min(min).max(max))
    .safeParse(value);
  if (!parsed.success) {
    throw new Fc3RuleError(
      `function ${functionName}: trigger ${triggerName}: runOptions.batchWindow.${field} ${JSON.stringify(value)}: must be a whole number from ${min} to ${max}${field === 'TimeBasedWindow' ? ' (seconds)' : ''}, as Function Compute's "Advanced features of triggers" gives its range; the deploy would refuse it.`,
    );
  }
  return parsed.data;
}

/** The trigger's batch window, or undefined when it has none; throws naming the function, trigger and field when FC would refuse it. */
export function triggerBatchWindow(functionName: string, trigger: { triggerName: string; triggerConfig: Record<string, unknown> }): TriggerBatchWindow | undefined {
  const runOptions = trigger.triggerConfig.runOptions;
  if (runOptions === null || typeof runOptions !== 'object') return undefined;
  const window = (runOptions as { batchWindow?: unknown }).batchWindow;
  if (window === undefined || window === null) return undefined;
  if (typeof window !== 'object' || Array.isArray(window)) {
    throw new Fc3RuleError(`function ${functionName}: trigger ${trigger.triggerName}: runOptions.batchWindow must be an object {CountBasedWindow, TimeBasedWindow}; the deploy would refuse it.`);
  }
  const w = window as { CountBasedWindow?: unknown; TimeBasedWindow?: unknown };
  const count = windowField(functionName, trigger.triggerName, 'CountBasedWindow', w.CountBasedWindow);
  const time = windowField(functionName, trigger.triggerName, 'TimeBasedWindow', w.TimeBasedWindow);
  // A window without a count pushes each event; without a time, at once (TimeBasedWindow 0).
  return { countWindow: count ?? 1, timeWindowSeconds: time ?? 0 };
}

/** Throws, naming the function, the trigger and the field, when FC would refuse a trigger's settings. */
export function checkFc3Triggers(props: Pick<FunctionProps, 'functionName' | 'triggers'>): void {
  for (const t of props.triggers) if (t.triggerType === 'eventbridge') triggerBatchWindow(props.functionName, t);
}

/** The body limit of the trigger's invocation type: asyncInvocationType true is an async invocation. */
export function invocationBodyLimit(trigger: { triggerConfig: Record<string, unknown> }): number {
  return trigger.triggerConfig.asyncInvocationType === true ? INVOCATION_BODY_LIMIT_BYTES.async : INVOCATION_BODY_LIMIT_BYTES.sync;
}
