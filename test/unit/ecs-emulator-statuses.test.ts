/** The local Cloud Assistant's status rules, case by case from seed 004 and the platform reference §2.1–2.3. */
import { describe, expect, it } from 'vitest';
import {
  INSTANCE_STATUSES,
  invokeRecordStatus,
  isFinal,
  legacyInvokeStatus,
  NON_FINAL_PRECEDENCE,
  overallStatus,
  type InstanceStatus,
} from '../../local/ecs/statuses.ts';
import { LEGACY_INVOKE_STATUS } from '../support/legacy-statuses.ts';

describe('per-instance statuses', () => {
  it('Pending, Scheduled, Running and Stopping are not final; the eight others are', () => {
    expect(INSTANCE_STATUSES.filter((s) => !isFinal(s))).toEqual(['Pending', 'Scheduled', 'Running', 'Stopping']);
    expect(INSTANCE_STATUSES.filter(isFinal)).toEqual(['Success', 'Failed', 'Invalid', 'Aborted', 'Timeout', 'Error', 'Cancelled', 'Terminated']);
  });
});

describe('overall InvocationStatus from the instances', () => {
  const cases: [InstanceStatus[], string][] = [
    [['Success'], 'Success'],
    [['Success', 'Success', 'Success'], 'Success'],
    [['Failed'], 'Failed'],
    [['Timeout', 'Invalid', 'Aborted', 'Error'], 'Failed'],
    [['Success', 'Failed'], 'PartialFailed'],
    [['Success', 'Timeout', 'Cancelled'], 'PartialFailed'],
    // stopped instances do not spoil the others' outcome
    [['Success', 'Cancelled'], 'Success'],
    [['Success', 'Terminated'], 'Success'],
    [['Error', 'Terminated'], 'Failed'],
    [['Cancelled', 'Terminated'], 'Stopped'],
    [['Cancelled'], 'Stopped'],
    // any unfinished instance decides
    [['Success', 'Success', 'Running'], 'Running'],
    [['Failed', 'Pending'], 'Pending'],
    [['Success', 'Scheduled'], 'Scheduled'],
    [['Cancelled', 'Stopping'], 'Stopping'],
    // the emulator's precedence between unfinished statuses ([U] in the reference)
    [['Running', 'Pending'], 'Pending'],
    [['Scheduled', 'Pending'], 'Pending'],
    [['Stopping', 'Pending'], 'Pending'],
    [['Scheduled', 'Running'], 'Running'],
    [['Stopping', 'Running'], 'Running'],
    [['Scheduled', 'Stopping'], 'Stopping'],
  ];
  it.each(cases)('%j → %s', (statuses, overall) => {
    expect(overallStatus(statuses)).toBe(overall);
    expect(overallStatus([...statuses].reverse())).toBe(overall);
  });

  it('the precedence lists every unfinished status exactly once', () => {
    expect([...NON_FINAL_PRECEDENCE].sort()).toEqual(INSTANCE_STATUSES.filter((s) => !isFinal(s)).sort());
  });

  it('refuses a task without instances rather than invent a status for it', () => {
    expect(() => overallStatus([])).toThrow(RangeError);
  });
});

describe('legacy InvokeStatus', () => {
  it.each(LEGACY_INVOKE_STATUS)('%s → %s', (overall, legacy) => {
    expect(legacyInvokeStatus(overall)).toBe(legacy);
  });
});

describe('InvokeRecordStatus of one record', () => {
  it.each([
    ['Pending', 'Running'],
    ['Scheduled', 'Running'],
    ['Running', 'Running'],
    ['Stopping', 'Stopping'],
    ['Success', 'Finished'],
    ['Failed', 'Finished'], // the old sample: exit code 1 → InvocationStatus Failed, InvokeRecordStatus Finished
    ['Timeout', 'Failed'], // SDK doc comment: a one-time execution that times out has InvokeRecordStatus Failed
    ['Invalid', 'Failed'],
    ['Aborted', 'Failed'],
    ['Error', 'Failed'],
    ['Cancelled', 'Stopped'],
    ['Terminated', 'Stopped'],
  ] as const)('%s → %s', (status, record) => {
    expect(invokeRecordStatus(status)).toBe(record);
  });
});
