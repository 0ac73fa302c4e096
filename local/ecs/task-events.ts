/**
 * `ecs:CloudAssistant:TaskCompleted` events: one per instance that reaches a final status, as
 * EventBridge delivers them on the default bus. No output in the event.
 * @see docs/platform-facts.md §1
 */
import { randomUUID } from 'node:crypto';
import type { InstanceInvocation, Invocation, RunRecord } from './model.ts';
import { apiTime } from './wire.ts';

export interface TaskCompletedData {
  commandId: string;
  commandName: string;
  /** A string in the event, unlike the API's number. */
  exitCode: string;
  finishTime: string;
  instanceId: string;
  invocationStatus: string;
  // Beyond the documented sample (reference §1.4, open point 1): emitted unless `documentedFieldsOnly`.
  invokeId?: string;
  startTime?: string;
  repeatMode?: string;
  regionId?: string;
  errorCode?: string;
  errorInfo?: string;
}

export interface TaskCompletedEvent {
  id: string;
  source: 'acs.ecs';
  specversion: '1.0';
  subject: string;
  time: string;
  type: 'ecs:CloudAssistant:TaskCompleted';
  datacontenttype: string;
  aliyunaccountid: string;
  aliyunpublishtime: string;
  aliyuneventbusname: 'default';
  aliyunregionid: string;
  aliyunpublishaddr: string;
  data: TaskCompletedData;
}

export interface EventOptions {
  regionId: string;
  accountId: string;
  /** Emit only the six fields the documentation's sample shows. */
  documentedFieldsOnly: boolean;
}

export function taskCompletedEvent(invocation: Invocation, record: InstanceInvocation, run: RunRecord, o: EventOptions): TaskCompletedEvent {
  const now = new Date();
  const data: TaskCompletedData = {
    commandId: invocation.command.commandId,
    commandName: invocation.command.name,
    exitCode: String(run.exitCode ?? 0),
    finishTime: apiTime(run.finishTime ?? now),
    instanceId: record.instanceId,
    invocationStatus: run.status,
  };
  if (!o.documentedFieldsOnly) {
    Object.assign(data, {
      invokeId: invocation.invokeId,
      startTime: apiTime(run.startTime),
      repeatMode: invocation.repeatMode,
      regionId: o.regionId,
      errorCode: run.errorCode,
      errorInfo: run.errorInfo,
    });
  }
  return {
    id: randomUUID(),
    source: 'acs.ecs',
    specversion: '1.0',
    subject: `acs.ecs:${o.regionId}:${o.accountId}:${record.instanceId}`,
    time: apiTime(now),
    type: 'ecs:CloudAssistant:TaskCompleted',
    datacontenttype: 'application/json;charset=utf-8',
    aliyunaccountid: o.accountId,
    aliyunpublishtime: now.toISOString(),
    aliyuneventbusname: 'default',
    aliyunregionid: o.regionId,
    aliyunpublishaddr: '127.0.0.1',
    data,
  };
}

export type EventSubscriber = (event: TaskCompletedEvent) => void | Promise<void>;

/** Fans events out to subscribers; a failing subscriber never stops the agent or the others. */
export class TaskEventHub {
  private readonly subscribers = new Set<EventSubscriber>();
  readonly emitted: TaskCompletedEvent[] = [];

  subscribe(fn: EventSubscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  publish(event: TaskCompletedEvent): void {
    this.emitted.push(event);
    for (const fn of this.subscribers) {
      setImmediate(() => {
        Promise.resolve()
          .then(() => fn(event))
          .catch((e: unknown) => console.error(`[ecs] event subscriber failed: ${(e as Error).message}`));
      });
    }
  }
}
