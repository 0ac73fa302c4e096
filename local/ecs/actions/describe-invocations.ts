import { parseDescribeInvocations } from '../requests/describe-invocations.ts';
import { legacyInvokeStatus } from '../statuses.ts';
import type { InstanceInvocation } from '../model.ts';
import { page } from '../service.ts';
import { apiTime, encodeText, tagList } from '../wire.ts';
import type { Action } from './types.ts';

/** The legacy per-instance status the docs say to ignore; kept coarse. */
function instanceInvokeStatus(record: InstanceInvocation): string {
  const s = record.current.status;
  if (s === 'Pending' || s === 'Scheduled' || s === 'Running') return 'Running';
  if (s === 'Stopping') return 'Stopping';
  if (s === 'Cancelled' || s === 'Terminated') return 'Stopped';
  return s === 'Success' || s === 'Failed' ? 'Finished' : 'Failed';
}

export const describeInvocations: Action = (params, { service }) => {
  const input = parseDescribeInvocations(params);
  service.checkRegion(input.RegionId);
  const p = page(service.findInvocations(input), input.Paging);
  return {
    TotalCount: p.totalCount,
    PageNumber: p.pageNumber,
    PageSize: p.pageSize,
    NextToken: p.nextToken,
    Invocations: {
      Invocation: p.items.map((inv) => {
        const overall = service.overall(inv);
        return {
          InvokeId: inv.invokeId,
          CommandId: inv.command.commandId,
          CommandName: inv.command.name,
          CommandType: inv.command.type,
          CommandDescription: inv.command.description,
          CommandContent: encodeText(inv.command.script, input.ContentEncoding),
          Parameters: JSON.stringify(inv.parameters),
          InvocationStatus: overall,
          InvokeStatus: legacyInvokeStatus(overall),
          RepeatMode: inv.repeatMode,
          Frequency: inv.frequencyText,
          Timed: service.timed(inv),
          Timeout: inv.timeout,
          Username: inv.username,
          WorkingDir: inv.workingDir,
          CreationTime: apiTime(inv.creationTime),
          ContainerId: inv.containerId,
          ContainerName: inv.containerName,
          Launcher: inv.launcher,
          TerminationMode: inv.terminationMode,
          OssOutputDelivery: inv.ossOutputDelivery,
          Tags: tagList(inv.tags),
          InvokeInstances: {
            InvokeInstance: [...inv.instances.values()].map((r) => ({
              InstanceId: r.instanceId,
              InvocationStatus: r.current.status,
              InstanceInvokeStatus: instanceInvokeStatus(r),
              ExitCode: r.current.exitCode ?? 0,
              ErrorCode: r.current.errorCode,
              ErrorInfo: r.current.errorInfo,
              Output: input.IncludeOutput ? encodeText(r.current.output, input.ContentEncoding) : '',
              Dropped: r.current.dropped,
              Repeats: r.repeats,
              Timed: service.timed(inv),
              CreationTime: apiTime(r.creationTime),
              StartTime: apiTime(r.current.startTime),
              FinishTime: apiTime(r.current.finishTime),
              StopTime: apiTime(r.current.stopTime),
              UpdateTime: apiTime(r.updateTime),
              OssOutputStatus: r.current.ossOutputStatus ?? '',
              OssOutputUri: r.current.ossOutputUri ?? '',
              OssOutputErrorCode: r.current.ossOutputErrorCode ?? '',
              OssOutputErrorInfo: r.current.ossOutputErrorInfo ?? '',
            })),
          },
        };
      }),
    },
  };
};
