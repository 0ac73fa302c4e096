/**
 * The Cloud Assistant agents of the local fleet: deliver an invocation to each instance, check it
 * the way the real agent does, run it (really, or synthetically for scale), and move each
 * per-instance record through Pending → Running → a final status.
 * Statuses and error codes: the platform reference §2.1, §2.4, §2.5 (statuses.ts holds the status rules).
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FleetInstance } from './fleet.ts';
import type { InstanceInvocation, Invocation, RunRecord } from './model.ts';
import { DEFAULT_OUTPUT_KEY_TEMPLATE, OutputDeliveryError, outputObjectKey, parseOssOutputDelivery, type OutputDelivery } from './output-delivery.ts';
import { nextRun } from './recurrence.ts';
import { renderScript, UnknownBuiltInError } from './render-script.ts';
import { runScript, OUTPUT_TAIL_BYTES, type ScriptResult } from './script-runner.ts';
import { isFinal, type InstanceStatus } from './statuses.ts';

/** ErrorInfo texts as the API documents them (reference §2.4). */
const ERROR_INFO = {
  InstanceNotExists: 'the specified instance does not exists',
  InstanceNotRunning: 'the instance is not running when create task',
  CommandNotApplicable: 'the command is not applicable',
  AccountNotExists: 'the specified account does not exists',
  DirectoryNotExists: 'the specified directory does not exists',
  ClientNotRunning: 'the aliyun service is not running on the instance',
  ExecutionTimeout: 'the command execution has been timeout',
  ExecutionException: 'the command execution got an exception',
  ExecutionInterrupted: 'the command execution has been interrupted',
  ExitCodeNonzero: 'the command execution exit code is not zero',
  InvalidEnvironmentParameter: 'the built-in environment parameter is invalid',
} as const;
type AgentErrorCode = keyof typeof ERROR_INFO;

/** What a synthetic run does instead of spawning a process. */
export interface SyntheticOutcome {
  durationMs: number;
  exitCode: number;
  output: string;
}
export type SyntheticExecutor = (run: { invokeId: string; instanceId: string; repeat: number }) => SyntheticOutcome;

export interface ExecutionLogEntry {
  invokeId: string;
  instanceId: string;
  repeat: number;
  startedAt: Date;
  /** When the script (or synthetic run) ended, before any output delivery: set once it has. */
  finishedAt?: Date;
  synthetic: boolean;
}

export interface AgentOptions {
  regionId: string;
  accountId: string;
  /** Each instance gets `<sandboxRoot>/<instanceId>/` as the root of its file system. */
  sandboxRoot: string;
  /** Time from the API call to the agent picking the task up. */
  deliveryDelayMs: number;
  /** When set, scripts are not spawned: each run takes the returned duration and exit code. */
  synthetic?: SyntheticExecutor | undefined;
  /** Divides every Timeout, so time-scaled synthetic runs time out in scale (1 = real time). */
  timeScale: number;
  /** Called when a run of an instance reaches a final status (one call per run of a periodic task). */
  onRunFinished: (invocation: Invocation, record: InstanceInvocation, run: RunRecord) => void;
  /** Whether each run of a periodic task emits, or only the record's final status (unconfirmed, reference §1.2). */
  eventPerPeriodicRun: boolean;
  /** Where OssOutputDelivery writes; without it, a delivery asked for fails with the record's error fields. */
  outputDelivery?: OutputDelivery | undefined;
  outputKeyTemplate?: string | undefined;
  /**
   * Draws how long after a run's TaskCompleted event its output object lands in OSS (undocumented:
   * docs/platform-facts.md §1.1). Absent: the object is written before the event goes out. Present:
   * the event goes out on time with OssOutputStatus InProgress, and the record turns Finished (or
   * Failed) once the object is written.
   */
  outputObjectDelay?: (() => number) | undefined;
}

interface Activity {
  timer?: NodeJS.Timeout;
  stop?: () => void;
}

export class FleetAgents {
  readonly executionLog: ExecutionLogEntry[] = [];
  private readonly activity = new Map<string, Activity>();
  private readonly running = new Set<Promise<unknown>>();
  /** Output objects still to be written after their events (outputObjectDelay). */
  private readonly lateOutputs = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly fleet: Map<string, FleetInstance>,
    private readonly options: AgentOptions,
  ) {}

  /** Hands a new invocation to the agents of its instances. */
  start(invocation: Invocation): void {
    for (const record of invocation.instances.values()) {
      const mode = invocation.repeatMode;
      if (mode === 'Once' || mode === 'DryRun') this.later(invocation, record, this.options.deliveryDelayMs, () => this.execute(invocation, record));
      else if (mode === 'Period') this.later(invocation, record, this.options.deliveryDelayMs, () => this.deliverPeriodic(invocation, record));
      else this.later(invocation, record, this.options.deliveryDelayMs, () => this.awaitReboot(invocation, record));
    }
  }

  /** StopInvocation: not started → Cancelled, running → Stopping then Terminated. */
  stop(invocation: Invocation, instanceIds?: string[]): void {
    const ids = instanceIds && instanceIds.length > 0 ? instanceIds : [...invocation.instances.keys()];
    for (const id of ids) {
      const record = invocation.instances.get(id);
      if (!record || record.finished) continue;
      const act = this.activity.get(key(invocation, record));
      if (record.current.status === 'Running' && act?.stop) {
        this.setStatus(record, 'Stopping');
        act.stop();
        continue;
      }
      if (act?.timer) clearTimeout(act.timer);
      this.activity.delete(key(invocation, record));
      const now = new Date();
      this.finishRun(invocation, record, { ...record.current, status: 'Cancelled', stopTime: now, finishTime: now }, true);
    }
  }

  /** The fleet's reboot endpoint: runs NextRebootOnly and EveryReboot tasks waiting on the instance. */
  reboot(instanceId: string, invocations: Iterable<Invocation>): number {
    let started = 0;
    for (const inv of invocations) {
      if (inv.repeatMode !== 'NextRebootOnly' && inv.repeatMode !== 'EveryReboot') continue;
      const record = inv.instances.get(instanceId);
      if (!record || record.finished || record.current.status !== 'Scheduled') continue;
      started++;
      void this.execute(inv, record);
    }
    return started;
  }

  /** Ends every timer and process; records still open stay as they are, and output objects not yet written are not. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.lateOutputs) clearTimeout(t);
    this.lateOutputs.clear();
    for (const act of this.activity.values()) {
      if (act.timer) clearTimeout(act.timer);
      act.stop?.();
    }
    await Promise.allSettled([...this.running]);
    this.activity.clear();
  }

  private later(invocation: Invocation, record: InstanceInvocation, ms: number, fn: () => unknown): void {
    if (this.closed) return;
    const act: Activity = {};
    act.timer = setTimeout(() => {
      delete act.timer;
      if (!record.finished) void fn();
    }, Math.max(0, ms));
    this.activity.set(key(invocation, record), act);
  }

  /**
   * The moment on the schedule's clock: with a time scale, schedule time runs `timeScale` times as
   * fast as real time from the task's creation, so a schedule is evaluated on that clock, not on
   * the real one (which would find the same not-yet-reached fire time again after every run).
   */
  private scheduleNow(invocation: Invocation): Date {
    const created = invocation.creationTime.getTime();
    return new Date(created + (Date.now() - created) * this.options.timeScale);
  }

  /** Delivery of a Period task: the agent checks it once, then keeps its timer (reference §2.5). */
  private deliverPeriodic(invocation: Invocation, record: InstanceInvocation): void {
    const refusal = this.precheck(invocation, record);
    if (refusal) return this.refuse(invocation, record, refusal);
    this.schedule(invocation, record);
  }

  private schedule(invocation: Invocation, record: InstanceInvocation): void {
    const frequency = invocation.frequency;
    const now = this.scheduleNow(invocation);
    // Fire times are the schedule's, not "the next one after the last run ended": a run whose
    // start-up (unscaled by a time scale) outlasts the gap to the next fire time runs late, not never.
    const next = frequency ? nextRun(frequency, record.lastFireAt ?? now, invocation.creationTime) : null;
    if (!next) {
      // The schedule has ended: the record keeps the status of its last run (or Success if it never ran).
      if (record.repeats > 0) this.endSchedule(invocation, record);
      else this.finishRun(invocation, record, { ...record.current, status: 'Success', exitCode: 0, finishTime: new Date() }, true);
      return;
    }
    this.setStatus(record, 'Scheduled');
    record.lastFireAt = next;
    const delay = Math.max(0, next.getTime() - now.getTime()) / this.options.timeScale;
    this.later(invocation, record, delay, () => this.execute(invocation, record));
  }

  /**
   * Closes a periodic record whose schedule has no further run. Its last run is already in the
   * history, and was already reported when `eventPerPeriodicRun` is on; it is not recorded or
   * reported a second time.
   */
  private endSchedule(invocation: Invocation, record: InstanceInvocation): void {
    if (record.finished) return;
    record.finished = true;
    record.updateTime = new Date();
    if (!this.options.eventPerPeriodicRun) this.options.onRunFinished(invocation, record, record.current);
  }

  private awaitReboot(invocation: Invocation, record: InstanceInvocation): void {
    const refusal = this.precheck(invocation, record);
    if (refusal) return this.refuse(invocation, record, refusal);
    this.setStatus(record, 'Scheduled');
  }

  private precheck(invocation: Invocation, record: InstanceInvocation): { status: InstanceStatus; code: AgentErrorCode } | undefined {
    const instance = this.fleet.get(record.instanceId);
    if (!instance) return { status: 'Aborted', code: 'InstanceNotExists' };
    if (instance.status !== 'Running') return { status: 'Aborted', code: 'InstanceNotRunning' };
    if (!instance.agent.online) return { status: 'Aborted', code: 'ClientNotRunning' };
    const linuxType = invocation.command.type === 'RunShellScript';
    if (linuxType !== (instance.osType === 'linux') || invocation.containerId || invocation.containerName)
      return { status: 'Invalid', code: 'CommandNotApplicable' };
    if (!instance.users.includes(invocation.username)) return { status: 'Invalid', code: 'AccountNotExists' };
    return undefined;
  }

  private refuse(invocation: Invocation, record: InstanceInvocation, refusal: { status: InstanceStatus; code: AgentErrorCode }): void {
    const now = new Date();
    this.finishRun(
      invocation,
      record,
      { ...emptyRun(refusal.status), errorCode: refusal.code, errorInfo: ERROR_INFO[refusal.code], finishTime: now },
      true,
    );
  }

  private async execute(invocation: Invocation, record: InstanceInvocation): Promise<void> {
    if (this.closed || record.finished) return;
    const refusal = this.precheck(invocation, record);
    if (refusal) return this.refuse(invocation, record, refusal);
    const instance = this.fleet.get(record.instanceId)!;
    const root = path.join(this.options.sandboxRoot, instance.id);
    const cwd = resolveInside(root, invocation.workingDir || '/root');
    // A synthetic run spawns nothing, so it needs no sandbox: only an explicit WorkingDir is checked
    // (against whatever a test put there). Touching the disk for each of 10,000 instances would make
    // the file system, not the emulator, the limit of a scale run.
    const needsDisk = !this.options.synthetic || !!invocation.workingDir;
    if (!this.options.synthetic) await mkdir(path.join(root, 'root'), { recursive: true });
    const dirOk = !needsDisk || (cwd !== undefined && (await stat(cwd).then((s) => s.isDirectory(), () => false)));
    // A StopInvocation may have landed while the sandbox was being prepared.
    if (record.finished || this.closed) return;
    if (!dirOk) return this.refuse(invocation, record, { status: 'Invalid', code: 'DirectoryNotExists' });

    let script: string;
    try {
      script = renderScript(invocation, instance, this.options);
    } catch (e) {
      if (e instanceof UnknownBuiltInError) return this.refuse(invocation, record, { status: 'Invalid', code: 'InvalidEnvironmentParameter' });
      throw e;
    }
    if (invocation.repeatMode === 'DryRun') {
      this.finishRun(invocation, record, { ...emptyRun('Success'), finishTime: new Date() }, true);
      return;
    }

    const repeat = record.repeats + 1;
    const started: RunRecord = { ...emptyRun('Running'), startTime: new Date() };
    record.current = started;
    record.updateTime = started.startTime!;
    const logged: ExecutionLogEntry = { invokeId: invocation.invokeId, instanceId: instance.id, repeat, startedAt: started.startTime!, synthetic: !!this.options.synthetic };
    this.executionLog.push(logged);
    const timeoutSeconds = invocation.timeout / this.options.timeScale;
    const scriptPath = path.join(root, '.agent', 'script', `${invocation.invokeId}.iv${repeat}${scriptExtension(invocation.launcher)}`);
    const delivering = invocation.ossOutputDelivery !== '';
    const fullOutputPath = path.join(root, '.agent', 'output', `${invocation.invokeId}.iv${repeat}.log`);
    const synthetic = this.options.synthetic?.({ invokeId: invocation.invokeId, instanceId: instance.id, repeat });
    const handle = synthetic
      ? runSynthetic(synthetic, timeoutSeconds)
      : runScript({
          script,
          scriptPath,
          cwd: cwd!,
          env: instanceEnvironment(root, instance, invocation.username),
          timeoutSeconds,
          terminationMode: invocation.terminationMode,
          outputLimitBytes: OUTPUT_TAIL_BYTES,
          ...(invocation.launcher ? { launcher: launcherArgv(invocation.launcher, scriptPath) } : {}),
          ...(delivering ? { fullOutputPath } : {}),
        });
    const act: Activity = { stop: () => handle.stop() };
    this.activity.set(key(invocation, record), act);
    const done = handle.result.then(async (result) => {
      logged.finishedAt = new Date();
      this.activity.delete(key(invocation, record));
      record.repeats = repeat;
      let run = runFromResult(result);
      const outputSource = synthetic ? synthetic.output : fullOutputPath;
      const late = delivering ? this.options.outputObjectDelay : undefined;
      // Without a modelled delay the output is in the bucket before the event goes out.
      if (delivering && !late) run = { ...run, ...(await this.deliverOutput(invocation, instance.id, repeat, outputSource, !!synthetic)) };
      if (late) run = { ...run, ossOutputStatus: 'InProgress', ossOutputUri: '', ossOutputErrorCode: '', ossOutputErrorInfo: '' };
      const periodicContinues = !invocation.stopRequested && (invocation.repeatMode === 'Period' || invocation.repeatMode === 'EveryReboot') && run.status !== 'Terminated';
      this.finishRun(invocation, record, run, !periodicContinues);
      // The event is out (finishRun published it): the object follows a drawn delay later.
      if (late) this.deliverLate(invocation, instance.id, repeat, outputSource, !!synthetic, run, late());
      if (periodicContinues && !this.closed) {
        if (invocation.repeatMode === 'Period') this.schedule(invocation, record);
        else this.setStatus(record, 'Scheduled');
      }
    });
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    await done;
  }

  /** Writes the output `ms` after now and updates the run's record with how the delivery went. */
  private deliverLate(invocation: Invocation, instanceId: string, repeat: number, source: string, inline: boolean, run: RunRecord, ms: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.lateOutputs.delete(timer);
      const done = this.deliverOutput(invocation, instanceId, repeat, source, inline).then((outcome) => void Object.assign(run, outcome));
      this.running.add(done);
      void done.finally(() => this.running.delete(done));
    }, Math.max(0, ms));
    this.lateOutputs.add(timer);
  }

  private async deliverOutput(invocation: Invocation, instanceId: string, repeat: number, source: string, inline: boolean): Promise<Partial<RunRecord>> {
    const target = parseOssOutputDelivery(invocation.ossOutputDelivery)!;
    const key = outputObjectKey(this.options.outputKeyTemplate ?? DEFAULT_OUTPUT_KEY_TEMPLATE, {
      prefix: target.prefix,
      invokeId: invocation.invokeId,
      instanceId,
      commandId: invocation.command.commandId,
      repeat,
    });
    const delivery = this.options.outputDelivery;
    try {
      if (!delivery) throw new OutputDeliveryError('OssServiceUnavailable', 'no OSS service is attached to this local cloud');
      await delivery.put(target.bucket, key, inline ? source : await readFile(source).catch(() => Buffer.alloc(0)));
      return { ossOutputStatus: 'Finished', ossOutputUri: `oss://${target.bucket}/${key}`, ossOutputErrorCode: '', ossOutputErrorInfo: '' };
    } catch (e) {
      const code = e instanceof OutputDeliveryError ? e.code : 'OssDeliveryFailed';
      return { ossOutputStatus: 'Failed', ossOutputUri: '', ossOutputErrorCode: code, ossOutputErrorInfo: (e as Error).message };
    } finally {
      if (!inline) await rm(source, { force: true });
    }
  }

  /** Records a run's outcome; `final` closes the record and is reported once. */
  private finishRun(invocation: Invocation, record: InstanceInvocation, run: RunRecord, final: boolean): void {
    if (record.finished) return;
    record.current = run;
    record.updateTime = run.finishTime ?? new Date();
    const periodic = invocation.repeatMode !== 'Once' && invocation.repeatMode !== 'DryRun';
    if (isFinal(run.status) && (run.startTime || !periodic)) record.history.push(run);
    if (final) record.finished = true;
    if (final || (periodic && this.options.eventPerPeriodicRun && isFinal(run.status))) {
      this.options.onRunFinished(invocation, record, run);
    }
  }

  private setStatus(record: InstanceInvocation, status: InstanceStatus): void {
    record.current = { ...record.current, status };
    record.updateTime = new Date();
  }
}

function key(invocation: Invocation, record: InstanceInvocation): string {
  return `${invocation.invokeId}/${record.instanceId}`;
}

export function emptyRun(status: InstanceStatus): RunRecord {
  return { status, exitCode: null, errorCode: '', errorInfo: '', output: '', dropped: 0 };
}

function runFromResult(result: ScriptResult): RunRecord {
  const base = { output: result.output, dropped: result.dropped, startTime: result.startTime, finishTime: result.finishTime };
  switch (result.outcome) {
    case 'exited':
      return result.exitCode === 0
        ? { ...base, status: 'Success', exitCode: 0, errorCode: '', errorInfo: '' }
        : { ...base, status: 'Failed', exitCode: result.exitCode ?? 1, errorCode: 'ExitCodeNonzero', errorInfo: ERROR_INFO.ExitCodeNonzero };
    case 'timeout':
      return { ...base, status: 'Timeout', exitCode: result.exitCode ?? 1, errorCode: 'ExecutionTimeout', errorInfo: ERROR_INFO.ExecutionTimeout };
    case 'stopped':
      return { ...base, status: 'Terminated', exitCode: result.exitCode ?? 1, errorCode: 'ExecutionInterrupted', errorInfo: ERROR_INFO.ExecutionInterrupted, stopTime: result.finishTime };
    case 'spawn-error':
      return { ...base, status: 'Error', exitCode: null, errorCode: 'ExecutionException', errorInfo: `${ERROR_INFO.ExecutionException}: ${result.error ?? ''}` };
  }
}

/** Maps an instance path such as `/root/app` into the instance's sandbox; refuses to leave it. */
function resolveInside(root: string, instancePath: string): string | undefined {
  const resolved = path.resolve(root, '.' + path.posix.resolve('/', instancePath));
  return resolved === root || resolved.startsWith(root + path.sep) ? resolved : undefined;
}

function instanceEnvironment(root: string, instance: FleetInstance, username: string): Record<string, string> {
  return {
    HOME: path.join(root, username === 'root' ? 'root' : path.join('home', username)),
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    USER: username,
    LOGNAME: username,
    SHELL: '/bin/sh',
    HOSTNAME: instance.name,
    FLEETRUN_INSTANCE_ROOT: root,
  };
}

const EXT_PLACEHOLDER = /\{\{\s*ACS::ScriptFileName\s*\|\s*Ext\(\s*"([^"]*)"\s*\)\s*\}\}/i;
const FILE_PLACEHOLDER = /\{\{\s*ACS::ScriptFileName\s*\}\}/i;

function scriptExtension(launcher: string): string {
  return EXT_PLACEHOLDER.exec(launcher)?.[1] ?? '.sh';
}

/**
 * `python3 -u {{ACS::ScriptFileName|Ext(".py")}} --verbose` → argv with the script's path in place
 * and the words after it kept as the script's arguments. Without a placeholder, runScript appends
 * the script path after the launcher's words.
 */
function launcherArgv(launcher: string, scriptPath: string): string[] {
  const words = launcher.trim().split(/\s+/);
  return words.map((w) => w.replace(EXT_PLACEHOLDER, scriptPath).replace(FILE_PLACEHOLDER, scriptPath));
}

function runSynthetic(outcome: SyntheticOutcome, timeoutSeconds: number): { result: Promise<ScriptResult>; stop(): void } {
  const startTime = new Date();
  let settle!: (r: ScriptResult) => void;
  const result = new Promise<ScriptResult>((resolve) => (settle = resolve));
  const timeoutMs = timeoutSeconds * 1000;
  const timedOut = outcome.durationMs > timeoutMs;
  const finish = (o: ScriptResult['outcome'], exitCode: number | null) => {
    clearTimeout(timer);
    const kept = Buffer.from(outcome.output);
    const dropped = Math.max(0, kept.length - OUTPUT_TAIL_BYTES);
    settle({ outcome: o, exitCode, output: kept.subarray(dropped).toString('utf8'), dropped, startTime, finishTime: new Date() });
  };
  const timer = setTimeout(() => finish(timedOut ? 'timeout' : 'exited', timedOut ? null : outcome.exitCode), Math.min(outcome.durationMs, timeoutMs));
  return { result, stop: () => finish('stopped', null) };
}
