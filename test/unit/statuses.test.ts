import { describe, it, expect } from 'vitest';
import {
  INSTANCE_STATUSES,
  OVERALL_STATUSES,
  invokeRecordStatus,
  isFinal,
  legacyInvokeStatus,
  overallStatus,
  statusClass,
  type InstanceStatus,
  type OverallStatus,
} from '../../shared/cloud-assistant/statuses.ts';
import { LEGACY_INVOKE_STATUS } from '../support/legacy-statuses.ts';

// Reference §2.3: the classes of per-instance statuses.
const FAILED: InstanceStatus[] = ['Invalid', 'Aborted', 'Failed', 'Timeout', 'Error'];
const STOPPED: InstanceStatus[] = ['Cancelled', 'Terminated'];
const NON_FINAL: InstanceStatus[] = ['Pending', 'Scheduled', 'Running', 'Stopping'];
const FINAL: InstanceStatus[] = ['Success', ...FAILED, ...STOPPED];

describe('Function: statusClass', () => {
  it('puts every per-instance status in the class reference §2.1 gives it', () => {
    expect(statusClass('Success')).toBe('success');
    for (const s of FAILED) expect(statusClass(s), s).toBe('failed');
    for (const s of STOPPED) expect(statusClass(s), s).toBe('stopped');
    for (const s of NON_FINAL) expect(statusClass(s), s).toBe('running');
    expect(INSTANCE_STATUSES).toHaveLength(1 + FAILED.length + STOPPED.length + NON_FINAL.length);
  });

  it('calls only the running class not final', () => {
    for (const s of NON_FINAL) expect(isFinal(s), s).toBe(false);
    for (const s of FINAL) expect(isFinal(s), s).toBe(true);
  });
});

describe('Function: overallStatus', () => {
  describe('when every instance is final', () => {
    it('is Success when all succeeded', () => {
      expect(overallStatus(['Success'])).toBe('Success');
      expect(overallStatus(['Success', 'Success', 'Success'])).toBe('Success');
    });

    it('is Success when some succeeded and the rest were stopped', () => {
      expect(overallStatus(['Success', 'Cancelled'])).toBe('Success');
      expect(overallStatus(['Terminated', 'Success', 'Cancelled'])).toBe('Success');
    });

    it('is Failed when some failed and the rest were stopped', () => {
      expect(overallStatus(['Failed', 'Cancelled'])).toBe('Failed');
      expect(overallStatus(['Terminated', 'Timeout'])).toBe('Failed');
    });

    it('is Failed when all failed, whatever the kind of failure', () => {
      expect(overallStatus(FAILED)).toBe('Failed');
    });

    it('is PartialFailed when some succeeded and some failed, stopped ones or not', () => {
      expect(overallStatus(['Success', 'Failed'])).toBe('PartialFailed');
      expect(overallStatus(['Success', 'Failed', 'Cancelled'])).toBe('PartialFailed');
      expect(overallStatus(['Terminated', 'Error', 'Success'])).toBe('PartialFailed');
    });

    it('is Stopped when all were stopped', () => {
      expect(overallStatus(['Cancelled'])).toBe('Stopped');
      expect(overallStatus(['Terminated'])).toBe('Stopped');
      expect(overallStatus(['Cancelled', 'Terminated'])).toBe('Stopped');
    });

    it.each(FAILED)('counts %s as failed', (failed) => {
      expect(overallStatus([failed])).toBe('Failed');
      expect(overallStatus([failed, 'Cancelled'])).toBe('Failed');
      expect(overallStatus(['Success', failed])).toBe('PartialFailed');
      expect(overallStatus(['Success', failed, 'Terminated'])).toBe('PartialFailed');
    });

    it('does not depend on the order of instances', () => {
      expect(overallStatus(['Cancelled', 'Failed', 'Success'])).toBe(overallStatus(['Success', 'Failed', 'Cancelled']));
    });

    it('reads any iterable', () => {
      expect(overallStatus(new Set<InstanceStatus>(['Success', 'Timeout']))).toBe('PartialFailed');
    });
  });

  describe('while an instance is not final', () => {
    it.each(NON_FINAL)('is %s when that is the only non-final status, whatever the final ones', (status) => {
      expect(overallStatus([status])).toBe(status);
      for (const final of FINAL) expect(overallStatus([final, status]), `${final} + ${status}`).toBe(status);
      expect(overallStatus(['Success', 'Failed', 'Cancelled', status])).toBe(status);
    });

    it('ranks Pending above Running, Running above Stopping, Stopping above Scheduled', () => {
      expect(overallStatus(['Running', 'Pending'])).toBe('Pending');
      expect(overallStatus(['Scheduled', 'Stopping', 'Running', 'Pending'])).toBe('Pending');
      expect(overallStatus(['Stopping', 'Running'])).toBe('Running');
      expect(overallStatus(['Scheduled', 'Running'])).toBe('Running');
      expect(overallStatus(['Scheduled', 'Stopping'])).toBe('Stopping');
      expect(overallStatus(['Scheduled', 'Success'])).toBe('Scheduled');
    });
  });

  it('only ever answers an overall status', () => {
    const answers = new Set<OverallStatus>();
    for (const a of INSTANCE_STATUSES) for (const b of INSTANCE_STATUSES) answers.add(overallStatus([a, b]));
    for (const s of answers) expect(OVERALL_STATUSES).toContain(s);
  });
});

describe('Function: invokeRecordStatus', () => {
  it('reads Failed for a one-time run that timed out (seed 001, reference §2.1)', () => {
    expect(invokeRecordStatus('Timeout')).toBe('Failed');
  });

  it('reads Failed for runs that could not run or broke off', () => {
    expect(invokeRecordStatus('Invalid')).toBe('Failed');
    expect(invokeRecordStatus('Aborted')).toBe('Failed');
    expect(invokeRecordStatus('Error')).toBe('Failed');
  });

  it('reads Finished for a run that ended, with exit code 0 or not (the old sample: Failed + ExitCodeNonzero → Finished)', () => {
    expect(invokeRecordStatus('Success')).toBe('Finished');
    expect(invokeRecordStatus('Failed')).toBe('Finished');
  });

  it('reads Stopped for cancelled and terminated runs', () => {
    for (const s of STOPPED) expect(invokeRecordStatus(s), s).toBe('Stopped');
  });

  it('reads Running while pending, scheduled or running, and Stopping while stopping', () => {
    expect(invokeRecordStatus('Pending')).toBe('Running');
    expect(invokeRecordStatus('Scheduled')).toBe('Running');
    expect(invokeRecordStatus('Running')).toBe('Running');
    expect(invokeRecordStatus('Stopping')).toBe('Stopping');
  });
});

describe('Function: legacyInvokeStatus', () => {
  it.each(LEGACY_INVOKE_STATUS)('maps the overall %s to %s', (overall, legacy) => {
    expect(legacyInvokeStatus(overall)).toBe(legacy);
  });

  it('reads Finished when some were stopped and the rest finished (reference §2.2)', () => {
    expect(legacyInvokeStatus(overallStatus(['Success', 'Cancelled']))).toBe('Finished');
  });

  it('covers every overall status', () => {
    for (const s of OVERALL_STATUSES) expect(['Running', 'Finished', 'Failed', 'PartialFailed', 'Stopped', 'Stopping']).toContain(legacyInvokeStatus(s));
  });
});
