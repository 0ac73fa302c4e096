/**
 * The local cloud's reading of the deployment's stacks (local/ros/): a ROS template evaluated as ROS
 * would, a Terraform folder read with HashiCorp's parser, and what each declares sorted for the local
 * services — with everything it cannot stand for refused by name.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { declaredResources } from '../../local/ros/declared-resources.ts';
import { evaluateRosTemplate, parseRosTemplate, RosTemplateError } from '../../local/ros/template.ts';
import { readTerraformStack } from '../../local/ros/terraform-stack.ts';

const CTX = { stackName: 'st', region: 'cn-shanghai', accountId: '1111222233334444', parameters: {} };

function evaluate(template: object, parameters: Record<string, unknown> = {}) {
  return evaluateRosTemplate(parseRosTemplate(JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', ...template }), 't.json'), { ...CTX, parameters }, 't.json');
}

const BUCKET = (name: unknown, extra: object = {}) => ({ Type: 'ALIYUN::OSS::Bucket', Properties: { BucketName: name, ...extra } });

describe('ROS template (local/ros/template.ts)', () => {
  it('evaluates Ref, Fn::Sub (pseudo parameters, parameters and Resource.Attribute), Fn::GetAtt and Fn::Join', () => {
    const stack = evaluate(
      {
        Parameters: { Prefix: { Type: 'String' }, Days: { Type: 'Number', Default: 7 } },
        Resources: {
          B: BUCKET({ 'Fn::Sub': '${Prefix}-${ALIYUN::Region}-${ALIYUN::AccountId}' }),
          Q: { Type: 'ALIYUN::MNS::Queue', Properties: { QueueName: { 'Fn::Join': ['-', [{ Ref: 'Prefix' }, 'q']] } } },
        },
        Outputs: {
          Bucket: { Value: { Ref: 'B' } },
          Domain: { Value: { 'Fn::GetAtt': ['B', 'DomainName'] } },
          Both: { Value: { 'Fn::Sub': '${B.Name}/${Q.QueueName} in ${ALIYUN::StackName}' } },
          Days: { Value: { Ref: 'Days' } },
        },
      },
      { Prefix: 'p' },
    );
    expect(stack.outputs).toEqual({
      Bucket: 'p-cn-shanghai-1111222233334444',
      Domain: 'p-cn-shanghai-1111222233334444.oss-cn-shanghai.aliyuncs.com',
      Both: 'p-cn-shanghai-1111222233334444/p-q in st',
      Days: '7',
    });
    expect(stack.resources.map((r) => [r.logicalId, r.type])).toEqual([
      ['B', 'ALIYUN::OSS::Bucket'],
      ['Q', 'ALIYUN::MNS::Queue'],
    ]);
  });

  it('types parameters as declared and refuses values outside the declaration', () => {
    const t = (spec: object) => ({ Parameters: { P: spec }, Resources: { B: BUCKET('b') }, Outputs: { P: { Value: { Ref: 'P' } } } });
    expect(evaluate(t({ Type: 'Json' }), { P: '{"a":[1]}' }).outputs.P).toBe('{"a":[1]}');
    expect(evaluate(t({ Type: 'Number', MinValue: 1 }), { P: '3' }).outputs.P).toBe('3');
    expect(evaluate(t({ Type: 'Boolean' }), { P: 'TRUE' }).outputs.P).toBe('true');
    expect(() => evaluate(t({ Type: 'Number', MinValue: 1 }), { P: '0' })).toThrow(/InvalidParameter: parameter P must be at least 1, got 0/);
    expect(() => evaluate(t({ Type: 'Number' }), { P: 'ten' })).toThrow(/InvalidParameter: parameter P must be a Number/);
    expect(() => evaluate(t({ Type: 'Json' }), { P: '{' })).toThrow(/InvalidParameter: parameter P must be JSON/);
    expect(() => evaluate(t({ Type: 'String', AllowedValues: ['a', 'b'] }), { P: 'c' })).toThrow(/must be one of a, b/);
    expect(() => evaluate(t({ Type: 'String', AllowedPattern: '[a-z]+' }), { P: 'A1' })).toThrow(/does not match/);
    expect(() => evaluate(t({ Type: 'String' }))).toThrow(/StackValidationFailed: parameter P has no value and no Default/);
    expect(() => evaluate(t({ Type: 'String' }), { P: 'x', Q: 'y' })).toThrow(/parameter Q is given but the template declares no such parameter/);
  });

  it('refuses what the local cloud does not create or evaluate, and templates that are not ROS', () => {
    expect(() => parseRosTemplate(JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', Resources: { V: { Type: 'ALIYUN::ECS::VPC' } } }), 't')).toThrow(RosTemplateError);
    expect(() => parseRosTemplate(JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', Resources: { V: { Type: 'ALIYUN::ECS::VPC' } } }), 't')).toThrow(/LocalCloudUnsupported: t: resource V is ALIYUN::ECS::VPC/);
    expect(() => parseRosTemplate('AWSTemplateFormatVersion: "2010-09-09"\nResources: {}\n', 't')).toThrow(/InvalidTemplate: t: ROSTemplateFormatVersion/);
    expect(() => parseRosTemplate('Resources: [', 't')).toThrow(/InvalidTemplate: t: not valid YAML/);
    expect(() => evaluate({ Resources: { B: BUCKET({ 'Fn::Select': [0, ['a']] }) } })).toThrow(/LocalCloudUnsupported: t.json: Resources.B.Properties.BucketName: Fn::Select is not evaluated/);
    expect(() => evaluate({ Resources: { B: BUCKET({ Ref: 'Nope' }) } })).toThrow(/Ref to Nope, which is neither a parameter nor a resource/);
    expect(() => evaluate({ Resources: { B: BUCKET({ 'Fn::GetAtt': ['B', 'Name'] }) } })).toThrow(/resource B depends on itself/);
    expect(() => evaluate({ Resources: { B: BUCKET('b') }, Outputs: { X: { Value: { 'Fn::GetAtt': ['B', 'Arn'] } } } })).toThrow(/ALIYUN::OSS::Bucket has no attribute Arn \(it has Name, DomainName\)/);
  });

  it('evaluates a resource another one reads before it, whatever their order', () => {
    const stack = evaluate({ Resources: { Q: { Type: 'ALIYUN::MNS::Queue', Properties: { QueueName: { 'Fn::Sub': '${B}-q' } } }, B: BUCKET('b') } });
    expect(stack.resources.find((r) => r.logicalId === 'Q')!.properties.QueueName).toBe('b-q');
  });
});

describe('Terraform stack (local/ros/terraform-stack.ts)', () => {
  async function folder(text: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-tf-'));
    await writeFile(path.join(dir, 'main.tf'), text);
    return dir;
  }

  it("reads fleetrun's own declaration of Cloud Assistant's service-linked role", async () => {
    expect(await readTerraformStack(path.resolve(import.meta.dirname, '../../deploy/cloud-assistant-role'))).toEqual({ serviceLinkedRoles: ['archiving.ecs.aliyuncs.com'] });
  });

  it('refuses other resources, other blocks, a computed service name and text that is not HCL', async () => {
    await expect(readTerraformStack(await folder('resource "alicloud_oss_bucket" "b" {\n  bucket = "x"\n}\n'))).rejects.toThrow(/resource alicloud_oss_bucket\.b, which the local cloud does not create/);
    await expect(readTerraformStack(await folder('variable "v" {}\n'))).rejects.toThrow(/a variable block, which the local cloud does not read/);
    await expect(readTerraformStack(await folder('resource "alicloud_resource_manager_service_linked_role" "r" {\n  service_name = var.s\n}\n'))).rejects.toThrow(/needs a literal service_name/);
    await expect(readTerraformStack(await folder('resource "x" {'))).rejects.toThrow(/not valid HCL/);
    await expect(readTerraformStack(await mkdtemp(path.join(tmpdir(), 'fleetrun-tf-')))).rejects.toThrow(/no \.tf file/);
  });
});

describe('declared resources (local/ros/declared-resources.ts)', () => {
  it('sorts buckets with their lifecycle rules, queues with their attributes and roles with their documents', async () => {
    const stack = evaluate({
      Resources: {
        B: BUCKET('b', { AccessControl: 'private', LifecycleConfiguration: { Rule: [{ ID: 'r', Prefix: 'runs/', Status: 'Enabled', Expiration: { Days: 3 } }] } }),
        Q: { Type: 'ALIYUN::MNS::Queue', Properties: { QueueName: 'q', MessageRetentionPeriod: 600 } },
        R: { Type: 'ALIYUN::RAM::Role', Properties: { RoleName: 'r', AssumeRolePolicyDocument: { Version: '1' }, Policies: [{ PolicyName: 'p', PolicyDocument: { Version: '1' } }] } },
      },
    });
    expect(await declaredResources([{ template: stack }])).toEqual({
      buckets: [{ name: 'b', acl: 'private', lifecycle: [{ ID: 'r', Prefix: 'runs/', Status: 'Enabled', Expiration: { Days: 3 } }] }],
      queues: [{ name: 'q', attributes: { MessageRetentionPeriod: 600 } }],
      roles: [{ name: 'r', trustPolicy: { Version: '1' }, policies: [{ name: 'p', document: { Version: '1' } }] }],
      serviceLinkedRoles: [],
    });
  });

  it('refuses a property it would otherwise ignore, a rule without Status, and a name declared twice', async () => {
    await expect(declaredResources([{ template: evaluate({ Resources: { B: BUCKET('b', { Versioning: 'Enabled' }) } }) }])).rejects.toThrow(/st: B\.: Unrecognized key: "Versioning"|Versioning/);
    await expect(declaredResources([{ template: evaluate({ Resources: { B: BUCKET('b', { LifecycleConfiguration: { Rule: [{ Prefix: 'x' }] } }) } }) }])).rejects.toThrow(/LifecycleConfiguration\.Rule\.0\.Status/);
    await expect(declaredResources([{ template: evaluate({ Resources: { A: BUCKET('b'), B: BUCKET('b') } }) }])).rejects.toThrow(/bucket b is declared twice/);
  });
});
