/** RepeatMode and Frequency (seeds 000, 001): how often a task runs. */
import { EcsApiError } from '../api-error.ts';
import { FrequencyError, parseFrequency } from '../recurrence.ts';
import { isOneOf, REPEAT_MODES, type RepeatMode } from './checks.ts';

/** Checks a Frequency against the Timeout the runs will have; throws InvalidParam.Frequency. */
export function checkFrequency(frequency: string, timeoutSeconds: number | undefined): void {
  try {
    parseFrequency(frequency, timeoutSeconds === undefined ? {} : { timeoutSeconds });
  } catch (e) {
    if (e instanceof FrequencyError) throw new EcsApiError('InvalidParam.Frequency', e.message, { cause: e });
    throw e;
  }
}

/**
 * The RepeatMode a task really has. A Frequency makes it Period unless it is a DryRun (the reference's
 * reading of the RepeatMode notes that seed 001 cuts off); Period without a Frequency is
 * MissingParam.Frequency. `timeoutSeconds` undefined: the Timeout is not known yet (InvokeCommand
 * takes the saved command's), so the Frequency is checked against none here and again later.
 */
export function checkSchedule(mode: string | undefined, frequency: string | undefined, timeoutSeconds: number | undefined): RepeatMode {
  if (mode !== undefined && !isOneOf(REPEAT_MODES, mode)) throw new EcsApiError('InvalidRepeatMode.NotFound', `RepeatMode ${mode} is not one of ${REPEAT_MODES.join(', ')}.`);
  const scheduled = frequency !== undefined && frequency.trim() !== '';
  const effective: RepeatMode = scheduled && mode !== 'DryRun' ? 'Period' : (mode ?? 'Once');
  if (effective === 'Period' && !scheduled) throw new EcsApiError('MissingParam.Frequency', 'RepeatMode Period needs a Frequency.');
  if (scheduled) checkFrequency(frequency, timeoutSeconds);
  return effective;
}
