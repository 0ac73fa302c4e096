/**
 * Every RAM action the functions' code calls with the functions' role, on which resources, and
 * which functions call it: the one declaration `fleetrun doctor` holds deploy/ram-policy.json to
 * before a deploy. test/unit/required-actions.test.ts holds this table and the policy to each
 * other (every action of one is in the other); test/e2e/ram-policy-minimal.test.ts proves the
 * policy against the running code.
 *
 * Resources are ARN templates: `{region}`, `{account}`, `{bucket}`, `{outputBucket}`, `{queue}`
 * and `{dispatchFunction}` are filled from each function's environment (FLEETRUN_REGION,
 * FLEETRUN_ACCOUNT_ID, FLEETRUN_BUCKET, FLEETRUN_OUTPUT_BUCKET, FLEETRUN_RESULT_QUEUE,
 * FLEETRUN_DISPATCH_FUNCTION). A function not given a template's variable does not make that call
 * (no output bucket: outputs are fetched, never read from OSS). A `*` inside an ARN stands for
 * "any": only a policy line covering every such resource allows it. The resource forms are the
 * ones docs/ram.md ("Actions and resources asked, per service") gives.
 */
import type { FunctionName } from './function-envs.ts';

export interface RequiredAction {
  /** `<service>:<Action>` as RAM names it. */
  action: string;
  /** ARN templates the call acts on (all of them must be allowed). */
  resources: readonly string[];
  /** Condition keys the call carries, beyond the global ones. */
  context?: Readonly<Record<string, string>>;
  functions: readonly FunctionName[];
  /** The call is made only when the function is given this variable. */
  onlyWith?: string;
  /** The code that makes the call, for whoever changes the table or the policy. */
  calledBy: string;
}

const ALL: readonly FunctionName[] = ['fleetrun-chatops', 'fleetrun-dispatch', 'fleetrun-task-events', 'fleetrun-summarize', 'fleetrun-schedule'];
/** The functions that start runs: chat runs (dispatch), scheduled and re-dispatched runs (schedule). */
const STARTERS: readonly FunctionName[] = ['fleetrun-dispatch', 'fleetrun-schedule'];
/** The functions that send a run's batches: its first wave (the starters), the next waves as results come in (summarize, the reconciler). */
const SENDERS: readonly FunctionName[] = ['fleetrun-dispatch', 'fleetrun-summarize', 'fleetrun-schedule'];
/** Any of the region's instances / commands: a call names some, and the policy must cover whichever it names. */
const INSTANCES = 'acs:ecs:{region}:{account}:instance/*';
const COMMANDS = 'acs:ecs:{region}:{account}:command/*';

export const REQUIRED_ACTIONS: readonly RequiredAction[] = [
  // Cloud Assistant (shared/cloud-assistant/ecs-cloud-assistant.ts, one method per action). The
  // resource types per action are ECS's RAM table's (docs/ram.md); DescribeInvocations has none.
  { action: 'ecs:DescribeInstances', resources: [INSTANCES], functions: SENDERS, calledBy: 'resolveTargets (shared/cloud-assistant/targets.ts), before every run and for a batch refused for one of its instances (sendBatch)' },
  { action: 'ecs:DescribeCloudAssistantStatus', resources: [INSTANCES], functions: SENDERS, calledBy: 'resolveTargets: offline agents are set aside' },
  { action: 'ecs:RunCommand', resources: [INSTANCES], functions: SENDERS, calledBy: 'sendBatch (shared/cloud-assistant/dispatch.ts) from the fan-out (shared/pipeline/fan-out.ts): startRun for chat and timer runs, then summarize and the reconciler for later waves' },
  { action: 'ecs:CreateCommand', resources: [COMMANDS], functions: ['fleetrun-schedule'], calledBy: 'native Period jobs (shared/schedule/native.ts)' },
  { action: 'ecs:InvokeCommand', resources: [COMMANDS, INSTANCES], functions: ['fleetrun-schedule'], calledBy: 'native Period jobs (shared/schedule/native.ts)' },
  { action: 'ecs:StopInvocation', resources: [INSTANCES], functions: SENDERS, calledBy: 'stopInvocations (shared/pipeline/start-run.ts): chat `stop`; a batch sent as the stop came (shared/pipeline/fan-out.ts); a replaced native job (shared/schedule/native.ts)' },
  { action: 'ecs:DescribeInvocationResults', resources: [COMMANDS, INSTANCES], functions: ['fleetrun-task-events', 'fleetrun-schedule'], calledBy: 'result-fetcher.ts (outputs fetched) and the reconciler (shared/pipeline/reconcile.ts)' },
  { action: 'ecs:DescribeInvocations', resources: ['*'], functions: ['fleetrun-task-events'], calledBy: 'result-fetcher.ts: a whole invocation read once for every instance' },
  // Cloud Assistant creates its service-linked role with the caller's rights on a first OssOutputDelivery.
  {
    action: 'ram:CreateServiceLinkedRole',
    resources: ['acs:ram:*:{account}:role/*'],
    context: { 'ram:ServiceName': 'archiving.ecs.aliyuncs.com' },
    functions: STARTERS,
    onlyWith: 'FLEETRUN_OUTPUT_BUCKET',
    calledBy: 'RunCommand with OssOutputDelivery, the first time in an account (local/ecs/service-linked-role.ts models it)',
  },
  // The results queue (shared/queue/, @alicloud/mns): BatchSendMessage is authorized as SendMessage.
  { action: 'mns:SendMessage', resources: ['acs:mns:{region}:{account}:/queues/{queue}/messages'], functions: ['fleetrun-task-events', 'fleetrun-schedule'], calledBy: 'task-events (shared/pipeline/task-events.ts) and the reconciler send result messages' },
  // The runs bucket (shared/store/ali-oss-store.ts): manifests, results, markers, claims, reports.
  { action: 'oss:PutObject', resources: ['acs:oss:*:{account}:{bucket}/*'], functions: ALL, calledBy: 'every function writes to the runs bucket (manifests, replay markers, claims, results, summaries, the audit record)' },
  { action: 'oss:GetObject', resources: ['acs:oss:*:{account}:{bucket}/*'], functions: ALL, calledBy: 'every function reads the runs bucket (manifests, reports served by chatops)' },
  { action: 'oss:ListObjects', resources: ['acs:oss:*:{account}:{bucket}'], functions: ALL, calledBy: 'stored results, read slots, final replies, open runs and pending hand-offs are listed; chatops lists a run\'s results for `status` and the audit record for `runs` (shared/chatops/recent-runs.ts)' },
  { action: 'oss:DeleteObject', resources: ['acs:oss:*:{account}:{bucket}/*'], functions: ['fleetrun-dispatch', 'fleetrun-summarize', 'fleetrun-schedule'], calledBy: 'pending-dispatch and open-run markers are removed (shared/chatops/dispatch-run.ts, shared/pipeline/finish-run.ts)' },
  // The output bucket: outputs Cloud Assistant delivered (shared/pipeline/output-sources.ts, prefix fleetrun-output/).
  { action: 'oss:GetObject', resources: ['acs:oss:*:{account}:{outputBucket}/fleetrun-output/*'], functions: ['fleetrun-task-events'], calledBy: 'DeliveredOutputIndex reads each instance\'s delivered output' },
  { action: 'oss:ListObjects', resources: ['acs:oss:*:{account}:{outputBucket}'], functions: ['fleetrun-task-events'], calledBy: 'DeliveredOutputIndex lists each call\'s output folder' },
  // The hand-off (shared/chatops/dispatcher-for.ts): an asynchronous InvokeFunction by function name.
  { action: 'fc:InvokeFunction', resources: ['acs:fc:{region}:{account}:functions/{dispatchFunction}'], functions: ['fleetrun-chatops'], calledBy: 'chatops hands every run and stop to dispatch' },
];

/** The variable of each template placeholder. */
export const TEMPLATE_VARIABLES: Readonly<Record<string, string>> = {
  region: 'FLEETRUN_REGION',
  account: 'FLEETRUN_ACCOUNT_ID',
  bucket: 'FLEETRUN_BUCKET',
  outputBucket: 'FLEETRUN_OUTPUT_BUCKET',
  queue: 'FLEETRUN_RESULT_QUEUE',
  dispatchFunction: 'FLEETRUN_DISPATCH_FUNCTION',
};

/** Defaults the functions apply when s.yaml leaves a variable out (function-envs.ts). */
const TEMPLATE_DEFAULTS: Readonly<Record<string, string>> = { FLEETRUN_DISPATCH_FUNCTION: 'fleetrun-dispatch' };

/**
 * One entry's resources for a function with this environment, or undefined when the function is
 * not given a variable the entry needs (so it never makes the call).
 */
export function resourcesFor(entry: RequiredAction, env: Readonly<Record<string, string>>): string[] | undefined {
  const valueOf = (variable: string) => env[variable] || TEMPLATE_DEFAULTS[variable];
  if (entry.onlyWith !== undefined && !valueOf(entry.onlyWith)) return undefined;
  const out: string[] = [];
  for (const template of entry.resources) {
    let missing = false;
    out.push(
      template.replace(/\{(\w+)\}/g, (_m, name: string) => {
        const value = valueOf(TEMPLATE_VARIABLES[name]!);
        if (!value) missing = true;
        return value ?? '';
      }),
    );
    if (missing) return undefined;
  }
  return out;
}
