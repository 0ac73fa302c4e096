/**
 * How many instances, as a count or as a percentage of the run's targets: a run's maxConcurrency
 * and maxErrors. One rule for every way a run is asked for — the chat grammar, the jobs file, the
 * dispatch request and startRun — so that nothing one of them accepts is refused by the next.
 *
 * A percentage is a whole number from 0% to 100%. `resolveCount` (cloud-assistant/dispatch.ts)
 * could compute with 10.5% (it floors 10.5% of the targets), but fleetrun documents these as SSM's
 * MaxConcurrency and MaxErrors ("a count or '10%'", README; "a percentage like 10%", USAGE), and
 * SSM takes whole percentages only (SendCommand's MaxErrors pattern is
 * `^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$`). Someone who writes 10.5% expects it to mean
 * something other than 10%; refusing it at once says so, where flooring it would not.
 */
import { z } from 'zod';
import type { CountOrPercent } from '../cloud-assistant/dispatch.ts';

export type { CountOrPercent };

/** Why a value is not a count or percentage; the messages read on their own and after a field name. */
export interface CountOrPercentProblem {
  /** `form`: neither a count nor a percentage; `whole`: a fractional percentage; `at-most-100`: over 100%. */
  rule: 'form' | 'whole' | 'at-most-100';
  message: string;
}

const PERCENT_FORM = /^(\d+)(\.\d+)?%$/;

/** What is wrong with a percentage written as text, or undefined when it is one. */
export function percentProblem(text: string): CountOrPercentProblem | undefined {
  const m = PERCENT_FORM.exec(text);
  if (!m) return { rule: 'form', message: 'write a whole number or a percentage such as 20%' };
  if (m[2] !== undefined) return { rule: 'whole', message: 'percentage must be a whole number, as SSM takes it (like 10%)' };
  if (Number(m[1]) > 100) return { rule: 'at-most-100', message: 'a percentage is at most 100%' };
  return undefined;
}

/** What is wrong with a count, or undefined when it is one. */
function countProblem(n: number): CountOrPercentProblem | undefined {
  if (!Number.isSafeInteger(n)) return { rule: 'form', message: 'a count is a whole number' };
  if (n < 0) return { rule: 'form', message: 'a count is 0 or more' };
  return undefined;
}

/**
 * A count (a whole number, 0 or more) or a whole percentage from 0% to 100%. One refinement over
 * both forms, not a union of two refined schemas, so that a refusal says what is wrong with the
 * value rather than that it matched neither.
 */
export const countOrPercentSchema = z
  .union([z.number(), z.string()], { error: 'write a whole number or a percentage such as 20%' })
  .superRefine((value, ctx) => {
    const problem = typeof value === 'number' ? countProblem(value) : percentProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem.message });
  })
  // `010%` and `10%` are one value: written the one way, so a value parsed twice stays the same.
  .transform((value): CountOrPercent => (typeof value === 'number' ? value : `${Number(value.slice(0, -1))}%`));

/**
 * A count or percentage as typed in chat (`5`, `10%`): the value, or what is wrong with it. The
 * problem's rule lets the grammar word it; `form` means the text is neither a number nor a percentage.
 */
export function countOrPercentFromText(text: string): { ok: true; value: CountOrPercent } | { ok: false; problem: CountOrPercentProblem } {
  const problem = /^\d{1,15}$/.test(text) ? undefined : percentProblem(text);
  if (problem) return { ok: false, problem };
  return { ok: true, value: countOrPercentSchema.parse(/%$/.test(text) ? text : Number(text)) };
}
