/** fleetrun's s.yaml against the fc3 component's own schema of `props` (local/cli/fc3, from devsapp/fc3; fleetrun doctor reads it too). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseSYaml } from '../../local/fc/s-yaml.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('s.yaml', () => {
  it("every resource's props validate against the fc3 component schema", async () => {
    const schema = JSON.parse(await readFile(path.join(ROOT, 'local/cli/fc3/props.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const s = parseSYaml(await readFile(path.join(ROOT, 's.yaml'), 'utf8'), { env: { FLEETRUN_SEAL_KEY: 'a-seal-key-for-the-test' }, config: { AccountID: '1234567890123456' }, baseDir: ROOT });
    expect(s.functions.map((f) => f.props.functionName)).toEqual(['fleetrun-chatops', 'fleetrun-dispatch', 'fleetrun-summarize', 'fleetrun-task-events', 'fleetrun-schedule']);
    for (const f of s.functions) {
      const ok = validate(f.props);
      expect(ok, `${f.resource}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('the schema is not a tautology: a wrong runtime fails it', async () => {
    const schema = JSON.parse(await readFile(path.join(ROOT, 'local/cli/fc3/props.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate({ region: 'cn-hangzhou', functionName: 'f', runtime: 'nodejs99' })).toBe(false);
  });
});
