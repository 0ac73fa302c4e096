import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFc3Function } from '../../local/fc/fc3-rules.ts';
import { parseSYaml, SYamlError } from '../../local/fc/s-yaml.ts';

/** The fc3 component's own example files (devsapp/fc3, MIT: test/fixtures/fc3/README.md). */
const FC3_EXAMPLES = path.resolve(import.meta.dirname, '../fixtures/fc3');
const ctx = { env: {}, config: { AccountID: '1234567890123456' }, baseDir: '/x/y' };
/** fleetrun's own s.yaml reads files beside it (its stack's template and policies). */
const ROOT = path.resolve(import.meta.dirname, '../..');
const own = { ...ctx, baseDir: ROOT };

describe('Function: parseSYaml', () => {
  it('reads the fc3 component example with an EventBridge trigger', async () => {
    const s = parseSYaml(await readFile(path.join(FC3_EXAMPLES, 'eventbridge-trigger.s.yaml'), 'utf8'), ctx);
    expect(s.functions).toHaveLength(1);
    const fn = s.functions[0]!.props;
    expect([fn.functionName, fn.region, fn.runtime]).toEqual(['nodejs18-ci', 'cn-huhehaote', 'nodejs18']);
    expect(fn.triggers.map((t) => [t.triggerName, t.triggerType])).toEqual([
      ['kafkaTrigger', 'eventbridge'],
      ['defaultTrigger', 'eventbridge'],
    ]);
  });

  it('reads the fc3 component full-props example', async () => {
    const s = parseSYaml(await readFile(path.join(FC3_EXAMPLES, 'complete-props.yaml'), 'utf8'), ctx);
    expect(s.functions.length).toBeGreaterThan(0);
    expect(s.functions[0]!.props.functionName).toBe('string');
  });

  it("reads fleetrun's own s.yaml", async () => {
    const s = parseSYaml(await readFile(path.join(ROOT, 's.yaml'), 'utf8'), own);
    expect(s.name).toBe('fleetrun');
  });

  it("fleetrun's own s.yaml holds FC 3.0's rules: no instanceConcurrency on a built-in runtime", async () => {
    const s = parseSYaml(await readFile(path.join(ROOT, 's.yaml'), 'utf8'), own);
    for (const f of s.functions) expect(() => checkFc3Function(f.props), f.props.functionName).not.toThrow();
    expect(() => checkFc3Function({ functionName: 'f', runtime: 'nodejs20', instanceConcurrency: 2 })).toThrow(/function f: instanceConcurrency 2 on runtime nodejs20/);
    expect(() => checkFc3Function({ functionName: 'f', runtime: 'custom.debian12', instanceConcurrency: 20 })).not.toThrow();
  });

  it('resolves vars, env with defaults, config and path', () => {
    const s = parseSYaml(
      `edition: 3.0.0
name: t
vars: { region: cn-shanghai, role: "acs:ram::\${config('AccountID')}:role/r" }
resources:
  f:
    component: fc3
    props:
      region: \${vars.region}
      functionName: \${env('FN', 'fallback')}
      runtime: nodejs20
      code: \${path('./code')}
      role: \${vars.role}
      environmentVariables: { A: "x-\${vars.region}", N: 3 }
`,
      ctx,
    );
    const p = s.functions[0]!.props;
    expect([p.region, p.functionName, p.code, p.role, p.environmentVariables]).toEqual(['cn-shanghai', 'fallback', '/x/y/code', 'acs:ram::1234567890123456:role/r', { A: 'x-cn-shanghai', N: '3' }]);
  });

  it('names the field of a mistake', () => {
    expect(() => parseSYaml('edition: 3.0.0\nname: t\nresources:\n  f:\n    component: fc3\n    props: { region: r, runtime: nodejs20 }\n', ctx)).toThrow(/resources\.f\.props\.functionName/);
    expect(() => parseSYaml('edition: 3.0.0\nname: t\nresources:\n  f:\n    component: fc3\n    props: { region: ${vars.nope}, functionName: f, runtime: nodejs20 }\n', ctx)).toThrow(SYamlError);
  });

  it("gives the functions the outputs of fleetrun's stack, and the stack its parameters from vars and files", async () => {
    const s = parseSYaml(await readFile(path.join(ROOT, 's.yaml'), 'utf8'), { ...own, env: { FLEETRUN_RUN_RETENTION_DAYS: '9' } });
    expect(s.stacks.map((x) => [x.resource, x.region, x.template ? 'template' : 'terraform'])).toEqual([
      ['cloud', 'cn-hangzhou', 'template'],
      ['cloud-assistant-role', 'cn-hangzhou', 'terraform'],
    ]);
    expect(s.stacks[1]!.terraformDir).toBe(path.join(ROOT, 'deploy/cloud-assistant-role'));
    const stack = s.stacks[0]!.template!;
    expect(stack.outputs).toEqual({
      RoleArn: 'acs:ram::1234567890123456:role/fleetrun-fc-role',
      RunsBucketName: 'fleetrun-runs',
      OutputBucketName: 'fleetrun-output',
      ResultQueueName: 'fleetrun-results',
      DeadLetterQueueName: 'fleetrun-results-dlq',
    });
    const role = stack.resources.find((r) => r.type === 'ALIYUN::RAM::Role')!.properties;
    expect(role.Policies).toEqual([{ PolicyName: 'fleetrun-fc-role-policy', PolicyDocument: JSON.parse(await readFile(path.join(ROOT, 'deploy/ram-policy.json'), 'utf8')) }]);
    expect(role.AssumeRolePolicyDocument).toEqual(JSON.parse(await readFile(path.join(ROOT, 'deploy/ram-trust-policy.json'), 'utf8')));
    const runs = stack.resources.find((r) => r.logicalId === 'RunsBucket')!.properties;
    expect(runs).toMatchObject({ BucketName: 'fleetrun-runs', AccessControl: 'private', LifecycleConfiguration: { Rule: [{ Prefix: 'runs/', Status: 'Enabled', Expiration: { Days: 9 } }, { Prefix: 'chat/seen/', Status: 'Enabled', Expiration: { Days: 1 } }] } });
    for (const f of s.functions) {
      expect(f.props.role, f.props.functionName).toBe('acs:ram::1234567890123456:role/fleetrun-fc-role');
      expect(f.props.environmentVariables.FLEETRUN_BUCKET, f.props.functionName).toBe('fleetrun-runs');
    }
    const summarize = s.functions.find((f) => f.props.functionName === 'fleetrun-summarize')!;
    expect(JSON.stringify(summarize.props.triggers)).toContain('"QueueName":"fleetrun-results"');
    expect(JSON.stringify(summarize.props.triggers)).toContain('/queues/fleetrun-results-dlq');
  });

  it('refuses what the stack cannot give, naming it', () => {
    const yaml = (stackProps: string, fnRole = '${resources.st.output.RoleArn}') => `edition: 3.0.0
name: t
resources:
  st:
    component: ros
    props: ${stackProps}
  f:
    component: fc3
    props: { region: r, functionName: f, runtime: nodejs20, role: "${fnRole}" }
`;
    const template = JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', Parameters: { Name: { Type: 'String' } }, Resources: { R: { Type: 'ALIYUN::RAM::Role', Properties: { RoleName: { Ref: 'Name' }, AssumeRolePolicyDocument: {} } } }, Outputs: { RoleArn: { Value: { 'Fn::GetAtt': ['R', 'Arn'] } } } });
    const ok = parseSYaml(yaml(`{ region: r, name: s, template: ${template}, parameters: { Name: n } }`), ctx);
    expect(ok.functions[0]!.props.role).toBe('acs:ram::1234567890123456:role/n');
    expect(() => parseSYaml(yaml(`{ region: r, name: s, template: ${template}, parameters: { Name: n } }`, '${resources.st.output.Nope}'), ctx)).toThrow(/stack st has no output Nope \(it has RoleArn\)/);
    expect(() => parseSYaml(yaml(`{ region: r, name: s, template: ${template}, parameters: { Name: n } }`, '${resources.other.output.RoleArn}'), ctx)).toThrow(/no ros stack named other/);
    expect(() => parseSYaml(yaml(`{ region: r, name: s, template: ${template} }`), ctx)).toThrow(/StackValidationFailed: parameter Name has no value and no Default/);
    expect(() => parseSYaml(yaml(`{ region: r, name: s, template: ${template}, terraform: ./tf, parameters: { Name: n } }`), ctx)).toThrow(/give one of template and terraform/);
    expect(() => parseSYaml(yaml(`{ region: r, name: s, template: ./missing.yaml }`), ctx)).toThrow(/resources\.st\.props\.template: ENOENT/);
    expect(() => parseSYaml(yaml(`{ region: r, name: s, template: ${template}, parameters: { Name: "\${file('./missing.json')}" } }`), ctx)).toThrow(/file\('\.\/missing\.json'\).*ENOENT/);
  });
});
