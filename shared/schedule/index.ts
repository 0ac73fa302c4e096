/** Scheduled jobs: the jobs file, when timer-mode jobs are due, the timer tick, and native (Cloud Assistant Period) jobs. */
export {
  JOB_MODES, JOB_NAME, JobsFileError, jobSchema, jobsFileSchema, loadJobsFile, parseJobsFile,
  type Job, type JobMode, type JobsFileIssue, type ParseJobsOptions,
} from './jobs-file.ts';
export { MAX_FIRES_PER_CHECK, MAX_SCANNED_FIRES, RATE_EPOCH, dueFires, fireWindow, scheduleAnchor, type FireWindow } from './due.ts';
export {
  DEFAULT_LOOKBACK_SECONDS, MAX_LOOKBACK_SECONDS, fireKeys, readFireMarker, runTimerJobs, scheduledRunId,
  type FireMarker, type TimerJobsDeps, type TimerJobsOutcome, type FireSkipReason,
} from './timer-jobs.ts';
export {
  STALE_CLAIM_SECONDS, commandFingerprint, invocationFingerprint, nativeKeys, readNativeState, syncNativeJobs,
  type NativeCommandSpec, type NativeJobState, type NativeSyncAction, type NativeSyncDeps, type NativeSyncOutcome, type NativeSyncReport,
} from './native.ts';
