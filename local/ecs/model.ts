/** The state the local Cloud Assistant keeps: saved commands, invocations and per-instance records. */
import type { CommandType, RepeatMode, TerminationMode } from '../../shared/cloud-assistant/constants.ts';
import type { Recurrence } from './recurrence.ts';
import type { InstanceStatus } from './statuses.ts';

export interface Tag {
  key: string;
  value: string;
}

export interface SavedCommand {
  commandId: string;
  name: string;
  description: string;
  type: CommandType;
  /** Decoded script text, parameters not substituted. */
  script: string;
  workingDir: string;
  timeout: number;
  enableParameter: boolean;
  parameterNames: string[];
  launcher: string;
  creationTime: Date;
  invokeTimes: number;
  tags: Tag[];
  /** RunCommand with KeepCommand=false: hidden from DescribeCommands, deleted after the run. */
  kept: boolean;
}

/** One execution of the script on one instance; a periodic task has one per run. */
export interface RunRecord {
  status: InstanceStatus;
  exitCode: number | null;
  errorCode: string;
  errorInfo: string;
  output: string;
  dropped: number;
  startTime?: Date;
  finishTime?: Date;
  stopTime?: Date;
  /** OssOutputDelivery of this run: '' when not asked for, else InProgress, Finished or Failed. */
  ossOutputStatus?: '' | 'InProgress' | 'Finished' | 'Failed';
  ossOutputUri?: string;
  ossOutputErrorCode?: string;
  ossOutputErrorInfo?: string;
}

export interface InstanceInvocation {
  instanceId: string;
  /** The current (or last) run. */
  current: RunRecord;
  history: RunRecord[];
  repeats: number;
  creationTime: Date;
  updateTime: Date;
  /** Set once a final status was reached and its event emitted, so it is emitted once. */
  finished: boolean;
  /** A periodic task's last fire time on the schedule's clock: the next is the schedule's next after it. */
  lastFireAt?: Date | undefined;
}

export interface Invocation {
  invokeId: string;
  command: SavedCommand;
  parameters: Record<string, string | number | boolean>;
  repeatMode: RepeatMode;
  frequency?: Recurrence | undefined;
  frequencyText: string;
  timeout: number;
  username: string;
  workingDir: string;
  containerId: string;
  containerName: string;
  launcher: string;
  terminationMode: TerminationMode;
  ossOutputDelivery: string;
  resourceGroupId: string;
  tags: Tag[];
  creationTime: Date;
  instances: Map<string, InstanceInvocation>;
  stopRequested: boolean;
}
