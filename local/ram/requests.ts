/**
 * What each local service asks RAM for a signed call: the action as RAM names it, the resources
 * (ARNs) the call acts on, and the request's condition keys. Where a mapping is not confirmed by an
 * Alibaba document, docs/ram.md says so ("Actions and resources").
 */
import type { IncomingMessage } from 'node:http';
import type { AccessRequest } from './access.ts';

type Asked = Omit<AccessRequest, 'accessKeyId'>;

/** The question for a call: what the service mapped, plus the global condition keys (the caller's address, plain HTTP). */
export function accessRequest(accessKeyId: string, asked: Asked, req: IncomingMessage): AccessRequest {
  const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  // Every local service listens on plain HTTP on loopback.
  return { accessKeyId, ...asked, context: { 'acs:SourceIp': ip, 'acs:SecureTransport': 'false', ...asked.context } };
}

/**
 * The resource types ECS's RAM authorization table gives each Cloud Assistant action fleetrun calls
 * (docs/ram.md "ECS: the resource of each action", with sources). `all` is the table's "All
 * Resources": the action is asked on `*`.
 */
const ECS_RESOURCE_TYPES: Record<string, 'all' | readonly ('instance' | 'command')[]> = {
  RunCommand: ['instance'],
  InvokeCommand: ['command', 'instance'],
  CreateCommand: ['command'],
  StopInvocation: ['instance'],
  DescribeInvocationResults: ['command', 'instance'],
  DescribeInstances: ['instance'],
  DescribeCloudAssistantStatus: ['instance'],
  // Seed 004 (the current DescribeInvocations page): "All Resources".
  DescribeInvocations: 'all',
};

/** The instance ids a request names: `InstanceId`, `InstanceId.N`, or DescribeInstances' JSON list `InstanceIds`. */
function namedInstances(params: Record<string, string>): string[] {
  const ids = Object.keys(params)
    .filter((k) => k === 'InstanceId' || /^InstanceId\.\d+$/.test(k))
    .map((k) => params[k]!);
  if (params.InstanceIds) {
    try {
      const listed: unknown = JSON.parse(params.InstanceIds);
      if (Array.isArray(listed)) ids.push(...listed.filter((v): v is string => typeof v === 'string'));
    } catch {
      // Not a JSON list: the service refuses it as a parameter; RAM is asked as if none were named.
    }
  }
  return [...new Set(ids.filter((id) => id !== ''))];
}

/**
 * ECS: `ecs:<Action>` on the ARNs of the resource types its RAM table gives the action, in the
 * request's region (`RegionId`, else the service's own): for each type the ids the request names
 * (`acs:ecs:<region>:<account>:instance/<id>`, `…:command/<CommandId>`), or, where it names none
 * (RunCommand by `ResourceTag`, DescribeInvocationResults by `InvokeId`, a DescribeInstances by
 * tag), every resource of the type in the region (`…:instance/*`): what the service knows before it
 * resolves anything. CreateCommand asks `…:command/*` (its table's ARN). Actions without resource-level
 * authorization, and any action not in the table, are asked on `*`.
 */
export function ecsRequest(action: string, params: Record<string, string>, where: { regionId: string; accountId: string }): Asked {
  const types = Object.hasOwn(ECS_RESOURCE_TYPES, action) ? ECS_RESOURCE_TYPES[action]! : 'all';
  if (types === 'all') return { action: `ecs:${action}`, resources: ['*'] };
  const base = `acs:ecs:${params.RegionId || where.regionId}:${where.accountId}`;
  const resources = types.flatMap((type) => {
    const ids = type === 'instance' ? namedInstances(params) : action !== 'CreateCommand' && params.CommandId ? [params.CommandId] : [];
    return ids.length > 0 ? ids.map((id) => `${base}:${type}/${id}`) : [`${base}:${type}/*`];
  });
  return { action: `ecs:${action}`, resources };
}

/**
 * OSS: `acs:oss:*:<account>:<bucket>` for bucket operations, `…:<bucket>/<key>` for object ones
 * (OSS "RAM Policy" / "authorization syntax and elements"); HeadObject and GetObjectMeta are
 * `oss:GetObject` (OSS: "to query object metadata, you must have the oss:GetObject permission"),
 * ListObjectsV2 is `oss:ListObjects` with `oss:Prefix` as its condition key; `?lifecycle` is
 * `oss:PutBucketLifecycle` (its API page's Permissions table), `oss:GetBucketLifecycle` or
 * `oss:DeleteBucketLifecycle` by method (docs/ram.md says which are confirmed).
 */
export function ossRequest(method: string, bucket: string, key: string, query: { get(name: string): string | null | undefined; has(name: string): boolean }, accountId: string): Asked {
  const bucketArn = `acs:oss:*:${accountId}:${bucket}`;
  if (bucket === '') return { action: 'oss:ListBuckets', resources: [`acs:oss:*:${accountId}:*`] };
  if (key === '') {
    // A sub-resource names its own action, which a policy grants apart from PutBucket and the rest.
    if (query.has('lifecycle')) {
      const action = method === 'PUT' ? 'oss:PutBucketLifecycle' : method === 'DELETE' ? 'oss:DeleteBucketLifecycle' : 'oss:GetBucketLifecycle';
      return { action, resources: [bucketArn] };
    }
    if (method === 'PUT') return { action: 'oss:PutBucket', resources: [bucketArn] };
    if (method === 'DELETE') return { action: 'oss:DeleteBucket', resources: [bucketArn] };
    if (method === 'POST' && query.has('delete')) return { action: 'oss:DeleteObject', resources: [`${bucketArn}/*`] };
    if (query.has('bucketInfo')) return { action: 'oss:GetBucketInfo', resources: [bucketArn] };
    if (query.has('location')) return { action: 'oss:GetBucketLocation', resources: [bucketArn] };
    const prefix = query.get('prefix') ?? '';
    return { action: 'oss:ListObjects', resources: [bucketArn], context: { 'oss:Prefix': prefix } };
  }
  const objectArn = `${bucketArn}/${key}`;
  if (method === 'PUT' || method === 'POST') return { action: 'oss:PutObject', resources: [objectArn] };
  if (method === 'DELETE') return { action: 'oss:DeleteObject', resources: [objectArn] };
  return { action: 'oss:GetObject', resources: [objectArn] };
}

/** MNS queue APIs, by the name the local MNS routes them to, as RAM authorizes them (MNS's API authorization table). */
const MNS_ACTIONS: Record<string, { action: string; on: 'queues' | 'queue' | 'messages' }> = {
  ListQueue: { action: 'mns:ListQueue', on: 'queues' },
  CreateQueue: { action: 'mns:CreateQueue', on: 'queue' },
  DeleteQueue: { action: 'mns:DeleteQueue', on: 'queue' },
  SetQueueAttributes: { action: 'mns:SetQueueAttributes', on: 'queue' },
  GetQueueAttributes: { action: 'mns:GetQueueAttributes', on: 'queue' },
  SendMessage: { action: 'mns:SendMessage', on: 'messages' },
  BatchSendMessage: { action: 'mns:SendMessage', on: 'messages' },
  ReceiveMessage: { action: 'mns:ReceiveMessage', on: 'messages' },
  BatchReceiveMessage: { action: 'mns:ReceiveMessage', on: 'messages' },
  DeleteMessage: { action: 'mns:DeleteMessage', on: 'messages' },
  // Not in the table; taken as DeleteMessage like the other batch forms (docs/ram.md).
  BatchDeleteMessage: { action: 'mns:DeleteMessage', on: 'messages' },
  PeekMessage: { action: 'mns:PeekMessage', on: 'messages' },
  BatchPeekMessage: { action: 'mns:PeekMessage', on: 'messages' },
  ChangeMessageVisibility: { action: 'mns:ChangeMessageVisibility', on: 'messages' },
};

/** MNS: `acs:mns:<region>:<account>:/queues[/<name>[/messages]]`. */
export function mnsRequest(name: string, queueName: string | undefined, where: { regionId: string; accountId: string }): Asked {
  const known = MNS_ACTIONS[name];
  const base = `acs:mns:${where.regionId}:${where.accountId}:/queues`;
  if (!known) return { action: `mns:${name}`, resources: [queueName ? `${base}/${queueName}` : base] };
  const resource = known.on === 'queues' || !queueName ? base : known.on === 'queue' ? `${base}/${queueName}` : `${base}/${queueName}/messages`;
  return { action: known.action, resources: [resource] };
}

/** FC 3.0: `fc:InvokeFunction` on `acs:fc:<region>:<account>:functions/<name>`. */
export function fcInvokeRequest(functionName: string, where: { regionId: string; accountId: string }): Asked {
  return { action: 'fc:InvokeFunction', resources: [`acs:fc:${where.regionId}:${where.accountId}:functions/${functionName}`] };
}
