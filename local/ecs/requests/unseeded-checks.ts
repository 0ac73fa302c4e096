/**
 * Checks the local Cloud Assistant can make but no seed document gives: each is off unless the local
 * cloud is started with it, and each is listed with its source in docs/cloud-assistant-coverage.md
 * ("Assumptions not in the seeds"). A check the seeds do give is never here.
 */
export interface UnseededChecks {
  /**
   * Refuse a Timeout below this many seconds with InvalidParameter. An older InvokeCommand page said
   * "at least 10 s"; the current one (seed 000) gives neither the minimum nor a code.
   */
  minTimeoutSeconds?: number | undefined;
  /**
   * Refuse a Timeout above this many seconds with InvalidTimeout.ExceedLimit. Seed 001 has the code
   * but not the value (86400 is the figure usually quoted).
   */
  maxTimeoutSeconds?: number | undefined;
  /** StopInvocation InstanceId.N at most this many (the SDK model says 1..50; no seed covers StopInvocation). */
  stopInvocationInstances?: number | undefined;
  /** InvokeCommand ResourceTag.N at most this many (the SDK model says 1..10; seed 000 has no ResourceTag). */
  invokeCommandResourceTags?: number | undefined;
  /** ContainerName must be a Docker container name ([A-Za-z0-9][A-Za-z0-9_.-]*); seed 000's rule text is cut off. */
  dockerContainerNames?: boolean | undefined;
  /** WorkingDir holding NUL, CR or LF is InvalidParameterCharacter.CommandWorkingDir; seed 001 has the code, not the characters. */
  workingDirControlCharacters?: boolean | undefined;
}

/** The local cloud's default: only what the seeds give. */
export const NO_UNSEEDED_CHECKS: Readonly<UnseededChecks> = Object.freeze({});
