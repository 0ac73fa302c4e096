import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../local/ram/access.ts';
import { evaluate, wildcardMatch } from '../../local/ram/evaluate.ts';
import { RamIdentities } from '../../local/ram/identities.ts';
import { ecsRequest } from '../../local/ram/requests.ts';
import { parsePolicy, type PolicyDocument } from '../../local/ram/policy.ts';

const policy = (statements: unknown[]): PolicyDocument => parsePolicy({ Version: '1', Statement: statements }, 'test');
const ask = (action: string, resources: string[], context?: AccessRequest['context']): AccessRequest => ({ accessKeyId: 'STS.x', action, resources, ...(context ? { context } : {}) });

describe('RAM policy documents', () => {
  it('takes a string or a list wherever RAM does', () => {
    const p = parsePolicy({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: ['acs:oss:*:*:b/*'] }] }, 'p');
    expect(p.statements[0]).toMatchObject({ effect: 'Allow', actions: ['oss:GetObject'], resources: ['acs:oss:*:*:b/*'] });
  });
  it('refuses what RAM refuses: another Version, no Effect, both Action and NotAction, no Resource, a Principal', () => {
    expect(() => parsePolicy({ Version: '2', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, 'p')).toThrow(/Version/);
    expect(() => parsePolicy({ Version: '1', Statement: [{ Action: '*', Resource: '*' }] }, 'p')).toThrow(/Effect/);
    expect(() => parsePolicy({ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', NotAction: 'ecs:*', Resource: '*' }] }, 'p')).toThrow(/Action and NotAction/);
    expect(() => parsePolicy({ Version: '1', Statement: [{ Effect: 'Allow', Action: '*' }] }, 'p')).toThrow(/Resource/);
    expect(() => parsePolicy({ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Principal: { Service: ['fc.aliyuncs.com'] } }] }, 'p')).toThrow();
  });
  it('parses the deployment policy', () => {
    const doc = parsePolicy(JSON.parse(readFileSync(new URL('../../deploy/ram-policy.json', import.meta.url), 'utf8')), 'deploy/ram-policy.json');
    expect(doc.statements.length).toBeGreaterThan(0);
  });
});

describe('wildcards', () => {
  it('* matches any run of characters, also none; ? exactly one', () => {
    expect(wildcardMatch('acs:oss:*:*:bucket/*', 'acs:oss:*:123:bucket/runs/r1/manifest.json')).toBe(true);
    expect(wildcardMatch('acs:oss:*:*:bucket/*', 'acs:oss:*:123:bucket/')).toBe(true);
    expect(wildcardMatch('acs:oss:*:*:bucket/*', 'acs:oss:*:123:bucket')).toBe(false);
    expect(wildcardMatch('ecs:Describe*', 'ecs:DescribeInvocations')).toBe(true);
    expect(wildcardMatch('i-00?', 'i-001')).toBe(true);
    expect(wildcardMatch('i-00?', 'i-0012')).toBe(false);
    expect(wildcardMatch('i-00?', 'i-00')).toBe(false);
    expect(wildcardMatch('*a*b', 'xxaxxbxb')).toBe(true);
    expect(wildcardMatch('*a*b', 'xxaxxbx')).toBe(false);
  });
});

describe('evaluation', () => {
  const allowRuns = policy([{ Effect: 'Allow', Action: ['oss:GetObject', 'oss:PutObject'], Resource: 'acs:oss:*:*:runs/*' }]);

  it('allows what a statement allows, on the resources it names', () => {
    expect(evaluate([allowRuns], ask('oss:GetObject', ['acs:oss:*:1:runs/a.json']))).toEqual({ allowed: true });
  });
  it('denies implicitly what no statement allows: another action, another resource, no policy at all', () => {
    expect(evaluate([allowRuns], ask('oss:DeleteObject', ['acs:oss:*:1:runs/a.json']))).toMatchObject({ allowed: false, reason: expect.stringMatching(/implicit deny/) });
    expect(evaluate([allowRuns], ask('oss:GetObject', ['acs:oss:*:1:other/a.json'])).allowed).toBe(false);
    expect(evaluate([], ask('oss:GetObject', ['acs:oss:*:1:runs/a.json'])).allowed).toBe(false);
  });
  it('matches action names without regard to case, as RAM does', () => {
    expect(evaluate([allowRuns], ask('OSS:getobject', ['acs:oss:*:1:runs/a.json'])).allowed).toBe(true);
    expect(evaluate([policy([{ Effect: 'Allow', Action: 'ECS:describe*', Resource: '*' }])], ask('ecs:DescribeInvocations', ['*'])).allowed).toBe(true);
  });
  it('lets an explicit Deny win over any Allow, in the same or another policy', () => {
    const deny = policy([{ Sid: 'NoDeletes', Effect: 'Deny', Action: 'oss:Delete*', Resource: '*' }]);
    const all = policy([{ Effect: 'Allow', Action: 'oss:*', Resource: '*' }]);
    expect(evaluate([all, deny], ask('oss:DeleteObject', ['acs:oss:*:1:runs/a']))).toMatchObject({ allowed: false, reason: expect.stringMatching(/explicit deny.*NoDeletes/) });
    expect(evaluate([all, deny], ask('oss:PutObject', ['acs:oss:*:1:runs/a'])).allowed).toBe(true);
  });
  it('needs every resource of a call allowed: one instance outside the policy refuses the call', () => {
    const some = policy([{ Effect: 'Allow', Action: 'ecs:RunCommand', Resource: 'acs:ecs:*:*:instance/i-web*' }]);
    expect(evaluate([some], ask('ecs:RunCommand', ['acs:ecs:cn-hangzhou:1:instance/i-web1', 'acs:ecs:cn-hangzhou:1:instance/i-web2'])).allowed).toBe(true);
    expect(evaluate([some], ask('ecs:RunCommand', ['acs:ecs:cn-hangzhou:1:instance/i-web1', 'acs:ecs:cn-hangzhou:1:instance/i-db1'])).allowed).toBe(false);
  });
  it('NotAction and NotResource cover everything except what they list', () => {
    const p = policy([{ Effect: 'Allow', NotAction: 'ram:*', NotResource: 'acs:oss:*:*:secret/*' }]);
    expect(evaluate([p], ask('oss:GetObject', ['acs:oss:*:1:runs/a'])).allowed).toBe(true);
    expect(evaluate([p], ask('ram:CreateRole', ['*'])).allowed).toBe(false);
    expect(evaluate([p], ask('oss:GetObject', ['acs:oss:*:1:secret/a'])).allowed).toBe(false);
  });
});

describe('conditions', () => {
  const withCondition = (condition: unknown) => policy([{ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }]);

  it('StringLike on oss:Prefix, the documented example: only the listed prefix may be listed', () => {
    const p = withCondition({ StringLike: { 'oss:Prefix': 'hangzhou/2015/*' } });
    expect(evaluate([p], ask('oss:ListObjects', ['acs:oss:*:*:myphotos'], { 'oss:Prefix': 'hangzhou/2015/01/' })).allowed).toBe(true);
    expect(evaluate([p], ask('oss:ListObjects', ['acs:oss:*:*:myphotos'], { 'oss:Prefix': 'beijing/' })).allowed).toBe(false);
    expect(evaluate([p], ask('oss:ListObjects', ['acs:oss:*:*:myphotos'])).allowed).toBe(false);
  });
  it('StringEquals is case-sensitive and any listed value may match; its IgnoreCase form is not', () => {
    const p = withCondition({ StringEquals: { 'ram:ServiceName': ['a.aliyuncs.com', 'archiving.ecs.aliyuncs.com'] } });
    expect(evaluate([p], ask('ram:CreateServiceLinkedRole', ['*'], { 'ram:ServiceName': 'archiving.ecs.aliyuncs.com' })).allowed).toBe(true);
    expect(evaluate([p], ask('ram:CreateServiceLinkedRole', ['*'], { 'ram:ServiceName': 'Archiving.ecs.aliyuncs.com' })).allowed).toBe(false);
    const q = withCondition({ StringEqualsIgnoreCase: { 'ram:ServiceName': 'ARCHIVING.ecs.aliyuncs.com' } });
    expect(evaluate([q], ask('ram:CreateServiceLinkedRole', ['*'], { 'ram:ServiceName': 'archiving.ecs.aliyuncs.com' })).allowed).toBe(true);
  });
  it('StringNotEquals holds when the key is absent or differs', () => {
    const p = withCondition({ StringNotEquals: { 'acs:ResourceTag/env': 'prod' } });
    expect(evaluate([p], ask('ecs:RunCommand', ['*'], { 'acs:ResourceTag/env': 'dev' })).allowed).toBe(true);
    expect(evaluate([p], ask('ecs:RunCommand', ['*'])).allowed).toBe(true);
    expect(evaluate([p], ask('ecs:RunCommand', ['*'], { 'acs:ResourceTag/env': 'prod' })).allowed).toBe(false);
  });
  it('Bool and IpAddress; several operators must all hold', () => {
    const p = withCondition({ Bool: { 'acs:SecureTransport': 'true' }, IpAddress: { 'acs:SourceIp': ['10.0.0.0/8', '192.168.1.7'] } });
    expect(evaluate([p], ask('oss:GetObject', ['*'], { 'acs:SecureTransport': 'true', 'acs:SourceIp': '10.1.2.3' })).allowed).toBe(true);
    expect(evaluate([p], ask('oss:GetObject', ['*'], { 'acs:SecureTransport': 'true', 'acs:SourceIp': '192.168.1.7' })).allowed).toBe(true);
    expect(evaluate([p], ask('oss:GetObject', ['*'], { 'acs:SecureTransport': 'false', 'acs:SourceIp': '10.1.2.3' })).allowed).toBe(false);
    expect(evaluate([p], ask('oss:GetObject', ['*'], { 'acs:SecureTransport': 'true', 'acs:SourceIp': '127.0.0.1' })).allowed).toBe(false);
  });
  it('a Deny with a condition denies only when the condition holds', () => {
    const p = policy([
      { Effect: 'Allow', Action: 'oss:*', Resource: '*' },
      { Effect: 'Deny', Action: 'oss:*', Resource: '*', Condition: { Bool: { 'acs:SecureTransport': 'false' } } },
    ]);
    expect(evaluate([p], ask('oss:GetObject', ['*'], { 'acs:SecureTransport': 'false' })).allowed).toBe(false);
    expect(evaluate([p], ask('oss:GetObject', ['*'], { 'acs:SecureTransport': 'true' })).allowed).toBe(true);
  });
  it('an unknown operator makes its statement not match, and the reason says so', () => {
    const p = withCondition({ DateLessThan: { 'acs:CurrentTime': '2030-01-01T00:00:00Z' } });
    expect(evaluate([p], ask('oss:GetObject', ['*'], { 'acs:CurrentTime': '2026-01-01T00:00:00Z' }))).toMatchObject({ allowed: false, reason: expect.stringMatching(/DateLessThan/) });
  });
});

describe('role identities', () => {
  const doc = { document: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'mns:SendMessage', Resource: 'acs:mns:cn-hangzhou:*:/queues/q/messages' }] }, source: 'test' };

  it('issues STS-like keys for a role, adds them to the key table, and judges only them', () => {
    const keys: Record<string, string> = { userKey: 'userSecret' };
    const ram = new RamIdentities({ accountId: '123', keys });
    ram.setPolicies('acs:ram::123:role/fn-role', [doc]);
    const c = ram.credentialsFor('acs:ram::123:role/fn-role');
    expect(c.accessKeyId).toMatch(/^STS\./);
    expect(c.securityToken.length).toBeGreaterThan(0);
    expect(keys[c.accessKeyId]).toBe(c.accessKeySecret);
    expect(ram.credentialsFor('fn-role')).toEqual(c);
    const msg = (accessKeyId: string) => ({ accessKeyId, action: 'mns:SendMessage', resources: ['acs:mns:cn-hangzhou:123:/queues/other/messages'] });
    expect(ram.authorize(msg(c.accessKeyId))).toMatchObject({ allowed: false, reason: expect.stringMatching(/fn-role/) });
    expect(ram.authorize(msg('userKey'))).toEqual({ allowed: true });
  });
  it('replaces a role policy at run time; issued keys follow the new one', () => {
    const ram = new RamIdentities({ accountId: '123', keys: {} });
    ram.setPolicies('fn-role', [doc]);
    const c = ram.credentialsFor('fn-role');
    const send = { accessKeyId: c.accessKeyId, action: 'mns:SendMessage', resources: ['acs:mns:cn-hangzhou:123:/queues/q/messages'] };
    expect(ram.authorize(send).allowed).toBe(true);
    ram.setPolicies('fn-role', [{ document: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: '*' }] }, source: 'smaller' }]);
    expect(ram.authorize(send).allowed).toBe(false);
  });
  it('refuses a role that does not exist, or of another account, with a message that names it', () => {
    const ram = new RamIdentities({ accountId: '123', keys: {} });
    ram.setPolicies('fn-role', [doc]);
    expect(() => ram.credentialsFor('acs:ram::123:role/other-role')).toThrow(/other-role.*does not exist in the local cloud \(its roles: fn-role\)/);
    expect(() => ram.credentialsFor('acs:ram::999:role/fn-role')).toThrow(/account 999/);
  });

  it('gives a service the credentials of a role only when its trust policy lets that service assume it', () => {
    const ram = new RamIdentities({ accountId: '123', keys: {} });
    ram.setPolicies('fn-role', [doc]);
    // Set up by policies alone (as a test does), a role is assumable by any service.
    expect(() => ram.credentialsFor('fn-role', 'fc.aliyuncs.com')).not.toThrow();
    ram.setTrustPolicy('fn-role', { Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }] }, 'trust.json');
    expect(() => ram.credentialsFor('fn-role', 'fc.aliyuncs.com')).not.toThrow();
    expect(() => ram.credentialsFor('fn-role', 'ecs.aliyuncs.com')).toThrow(/"fn-role" does not trust ecs\.aliyuncs\.com \(trust\.json\)/);
    ram.setTrustPolicy('fn-role', { Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:*', Principal: { Service: 'fc.aliyuncs.com' } }, { Effect: 'Deny', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }] }, 'deny.json');
    expect(() => ram.credentialsFor('fn-role', 'fc.aliyuncs.com')).toThrow(/does not trust fc\.aliyuncs\.com/);
    expect(() => ram.setTrustPolicy('fn-role', { Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'fc.aliyuncs.com' }, Condition: { StringEquals: { 'acs:SourceIp': '1.2.3.4' } } }] }, 'cond.json')).toThrow(/cond\.json: the local cloud does not evaluate conditions/);
    expect(() => ram.setTrustPolicy('fn-role', { Version: '1', Statement: [] }, 'empty.json')).toThrow(/empty\.json: not a RAM trust policy/);
  });
});

describe('what ECS asks RAM for each Cloud Assistant action (docs/ram.md "ECS: the resource of each action")', () => {
  const where = { regionId: 'cn-hangzhou', accountId: '123' };
  const arn = (rest: string, region = 'cn-hangzhou') => `acs:ecs:${region}:123:${rest}`;
  const asked = (action: string, params: Record<string, string>) => ecsRequest(action, { RegionId: 'cn-hangzhou', ...params }, where);

  it('RunCommand: each instance it names; by ResourceTag, every instance of the region', () => {
    expect(asked('RunCommand', { 'InstanceId.1': 'i-a', 'InstanceId.2': 'i-b', CommandContent: 'x' })).toEqual({ action: 'ecs:RunCommand', resources: [arn('instance/i-a'), arn('instance/i-b')] });
    expect(asked('RunCommand', { 'ResourceTag.1.Key': 'env', 'ResourceTag.1.Value': 'prod' }).resources).toEqual([arn('instance/*')]);
  });
  it('InvokeCommand: its command and its instances', () => {
    expect(asked('InvokeCommand', { CommandId: 'c-1', 'InstanceId.1': 'i-a' }).resources).toEqual([arn('command/c-1'), arn('instance/i-a')]);
  });
  it('CreateCommand: a new command of the region', () => {
    expect(asked('CreateCommand', { Name: 'n', CommandContent: 'x' }).resources).toEqual([arn('command/*')]);
  });
  it('StopInvocation and DescribeInvocationResults by InvokeId alone: every instance (and command) of the region', () => {
    expect(asked('StopInvocation', { InvokeId: 't-1' }).resources).toEqual([arn('instance/*')]);
    expect(asked('StopInvocation', { InvokeId: 't-1', 'InstanceId.1': 'i-a' }).resources).toEqual([arn('instance/i-a')]);
    expect(asked('DescribeInvocationResults', { InvokeId: 't-1' }).resources).toEqual([arn('command/*'), arn('instance/*')]);
    expect(asked('DescribeInvocationResults', { CommandId: 'c-1', InstanceId: 'i-a' }).resources).toEqual([arn('command/c-1'), arn('instance/i-a')]);
  });
  it('DescribeInstances (JSON InstanceIds, or a tag filter) and DescribeCloudAssistantStatus (InstanceId.N)', () => {
    expect(asked('DescribeInstances', { InstanceIds: '["i-a","i-b"]' }).resources).toEqual([arn('instance/i-a'), arn('instance/i-b')]);
    expect(asked('DescribeInstances', { 'Tag.1.Key': 'env', 'Tag.1.Value': 'prod' }).resources).toEqual([arn('instance/*')]);
    expect(asked('DescribeCloudAssistantStatus', { 'InstanceId.1': 'i-a' }).resources).toEqual([arn('instance/i-a')]);
  });
  it('DescribeInvocations and actions outside the table: all resources', () => {
    expect(asked('DescribeInvocations', { InvokeId: 't-1', InstanceId: 'i-a' })).toEqual({ action: 'ecs:DescribeInvocations', resources: ['*'] });
    expect(asked('DescribeCommands', {}).resources).toEqual(['*']);
  });
  it('takes the region from the request, else from the service', () => {
    expect(ecsRequest('RunCommand', { RegionId: 'cn-shanghai', 'InstanceId.1': 'i-a' }, where).resources).toEqual([arn('instance/i-a', 'cn-shanghai')]);
    expect(ecsRequest('RunCommand', { 'InstanceId.1': 'i-a' }, where).resources).toEqual([arn('instance/i-a')]);
  });

  it('deploy/ram-policy.json allows every such call in its region and none in another; DescribeInvocations stays on all resources', () => {
    const deployed = parsePolicy(JSON.parse(readFileSync(new URL('../../deploy/ram-policy.json', import.meta.url), 'utf8')), 'deploy/ram-policy.json');
    const calls: [string, Record<string, string>][] = [
      ['RunCommand', { 'InstanceId.1': 'i-a' }],
      ['RunCommand', { 'ResourceTag.1.Key': 'env' }],
      ['InvokeCommand', { CommandId: 'c-1', 'InstanceId.1': 'i-a' }],
      ['CreateCommand', {}],
      ['StopInvocation', { InvokeId: 't-1' }],
      ['DescribeInvocationResults', { InvokeId: 't-1' }],
      ['DescribeInstances', { InstanceIds: '["i-a"]' }],
      ['DescribeCloudAssistantStatus', { 'InstanceId.1': 'i-a' }],
    ];
    const judge = (action: string, params: Record<string, string>, region: string) => evaluate([deployed], { accessKeyId: 'STS.x', ...ecsRequest(action, { RegionId: region, ...params }, where) });
    for (const [action, params] of calls) {
      expect(judge(action, params, 'cn-hangzhou'), `${action} in cn-hangzhou`).toEqual({ allowed: true });
      expect(judge(action, params, 'cn-shanghai'), `${action} in cn-shanghai`).toMatchObject({ allowed: false, reason: expect.stringContaining('acs:ecs:cn-shanghai:123:') });
    }
    expect(judge('DescribeInvocations', { InvokeId: 't-1' }, 'cn-shanghai')).toEqual({ allowed: true });
    // Only what fleetrun calls: an ECS action it does not call is refused even in the region.
    expect(judge('DeleteCommand', { CommandId: 'c-1' }, 'cn-hangzhou').allowed).toBe(false);
  });
});
