import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFc3Function } from '../../local/fc/fc3-rules.ts';
import { parseSYaml, SYamlError } from '../../local/fc/s-yaml.ts';

/** The fc3 component's own example files (devsapp/fc3, MIT: test/fixtures/fc3/README.md). */
const FC3_EXAMPLES = path.resolve(import.meta.dirname, '../fixtures/fc3');
const ctx = { env: {}, config: { AccountID: '1234567890123456' }, baseDir: '/x/y' };

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
    const s = parseSYaml(await readFile(path.resolve(import.meta.dirname, '../../s.yaml'), 'utf8'), ctx);
    expect(s.name).toBe('fleetrun');
  });

  it("fleetrun's own s.yaml holds FC 3.0's rules: no instanceConcurrency on a built-in runtime", async () => {
    const s = parseSYaml(await readFile(path.resolve(import.meta.dirname, '../../s.yaml'), 'utf8'), ctx);
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
});
