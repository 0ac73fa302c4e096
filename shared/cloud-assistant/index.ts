/** fleetrun's Cloud Assistant library: request rules, the CloudAssistant port and its ECS implementation. */
export * from './constants.ts';
export * from './errors.ts';
export * from './statuses.ts';
export { parseFrequency, nextRun, type Frequency } from './frequency.ts';
export { parseRunCommand, type RunCommandRequest, type RunCommandInput } from './requests/run-command.ts';
export { parseInvokeCommand, checkInvocationOfCommand, type InvokeCommandRequest, type InvokeCommandInput } from './requests/invoke-command.ts';
export { parseCreateCommand, type CreateCommandRequest, type CreateCommandInput } from './requests/create-command.ts';
export {
  parseDescribeInvocations, parseDescribeInvocationResults, parseStopInvocation,
  type DescribeInvocationsRequest, type DescribeInvocationResultsRequest, type StopInvocationRequest,
} from './requests/describe.ts';
export type { CloudAssistant, InstanceResult, InvocationInfo, InstanceInfo, AgentStatus, Page } from './port.ts';
export { EcsCloudAssistant, type EcsCloudAssistantOptions } from './ecs-cloud-assistant.ts';
export type { EcsClientConfig } from './ecs-sdk.ts';
export { DEFAULT_RETRY_POLICY, withRetry, isRetryable, type RetryPolicy } from './retry.ts';
export { dispatch, resolveCount, type DispatchPlan, type DispatchResult, type BatchOutcome, type CompletionFeed, type CountOrPercent } from './dispatch.ts';
export { resolveTargets, type Targets, type ResolvedTargets, type SkipReason } from './targets.ts';
export { allInvocationResults } from './results.ts';
