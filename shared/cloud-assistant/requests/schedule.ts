/** RepeatMode and Frequency rules shared by RunCommand and InvokeCommand (seeds 000, 001). */
import { REPEAT_MODES, type RepeatMode } from '../constants.ts';
import { isApiError } from '../errors.ts';
import { parseFrequency } from '../frequency.ts';
import { fail, type IssueSink } from './common.ts';

/**
 * The effective RepeatMode, or undefined after reporting the problem. `timeoutSeconds` undefined
 * means the Timeout is not known here (InvokeCommand without one takes the saved command's), so
 * only the checks that do not depend on it are made.
 */
export function checkSchedule(mode: string | undefined, frequency: string | undefined, timeoutSeconds: number | undefined, ctx: IssueSink): RepeatMode | undefined {
  if (mode !== undefined && !(REPEAT_MODES as readonly string[]).includes(mode)) {
    fail(ctx, 'InvalidRepeatMode.NotFound', `RepeatMode "${mode}" is not one of ${REPEAT_MODES.join(', ')}.`, ['RepeatMode']);
    return undefined;
  }
  const hasFrequency = frequency !== undefined && frequency.trim() !== '';
  // A Frequency makes the run periodic whatever RepeatMode says (reference §3.1).
  const effective: RepeatMode = hasFrequency && mode !== 'DryRun' ? 'Period' : ((mode as RepeatMode | undefined) ?? 'Once');
  if (effective === 'Period' && !hasFrequency) {
    fail(ctx, 'MissingParam.Frequency', 'RepeatMode is Period, so Frequency (a rate, at or cron expression) is required.', ['Frequency']);
    return undefined;
  }
  if (hasFrequency) {
    try {
      parseFrequency(frequency, { timeoutSeconds: timeoutSeconds ?? 0 });
    } catch (e) {
      if (!isApiError(e)) throw e;
      // The sink prefixes the API's own message again, so pass only what was wrong.
      fail(ctx, e.code, e.detail ?? e.message, ['Frequency']);
      return undefined;
    }
  }
  return effective;
}
