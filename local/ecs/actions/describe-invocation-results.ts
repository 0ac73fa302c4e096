import { parseDescribeInvocationResults } from '../requests/describe-invocation-results.ts';
import { invokeRecordStatus } from '../statuses.ts';
import { page } from '../service.ts';
import { apiTime, encodeText, tagList } from '../wire.ts';
import type { Action } from './types.ts';

export const describeInvocationResults: Action = (params, { service }) => {
  const input = parseDescribeInvocationResults(params);
  service.checkRegion(input.RegionId);
  const p = page(service.findResults(input), input.Paging);
  return {
    Invocation: {
      TotalCount: p.totalCount,
      PageNumber: p.pageNumber,
      PageSize: p.pageSize,
      NextToken: p.nextToken,
      InvocationResults: {
        InvocationResult: p.items.map(({ invocation, record, run, repeat }) => ({
          CommandId: invocation.command.commandId,
          InvokeId: invocation.invokeId,
          InstanceId: record.instanceId,
          InvocationStatus: run.status,
          InvokeRecordStatus: invokeRecordStatus(run.status),
          ExitCode: run.exitCode ?? 0,
          ErrorCode: run.errorCode,
          ErrorInfo: run.errorInfo,
          Output: encodeText(run.output, input.ContentEncoding),
          Dropped: run.dropped,
          Repeats: repeat,
          StartTime: apiTime(run.startTime),
          FinishedTime: apiTime(run.finishTime),
          StopTime: apiTime(run.stopTime),
          Username: invocation.username,
          ContainerId: invocation.containerId,
          ContainerName: invocation.containerName,
          Launcher: invocation.launcher,
          TerminationMode: invocation.terminationMode,
          OssOutputDelivery: invocation.ossOutputDelivery,
          OssOutputStatus: run.ossOutputStatus ?? '',
          OssOutputUri: run.ossOutputUri ?? '',
          OssOutputErrorCode: run.ossOutputErrorCode ?? '',
          OssOutputErrorInfo: run.ossOutputErrorInfo ?? '',
          Tags: tagList(invocation.tags),
        })),
      },
    },
  };
};
