/**
 * `fleetrun doctor`, first check: s.yaml reads as the fc3 component reads it (the deploying
 * shell's variables in `${env(...)}`), every resource's props pass the component's own JSON Schema
 * (fc3/props.schema.json, devsapp/fc3), and no function breaks an FC 3.0 rule (local/fc/fc3-rules.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { checkFc3Function, Fc3RuleError } from '../fc/fc3-rules.ts';
import { parseSYaml, SYamlError, type SYaml } from '../fc/s-yaml.ts';
import type { Finding } from './doctor-report.ts';

const SCHEMA_FILE = path.join(import.meta.dirname, 'fc3', 'props.schema.json');

/** One ajv error in words; the schema's if/else branches only repeat what the other errors say. */
function inWords(resource: string, e: ErrorObject): string | undefined {
  if (e.keyword === 'if') return undefined;
  const where = `resources.${resource}.props${e.instancePath.replaceAll('/', '.')}`;
  const allowed = e.keyword === 'enum' ? `: one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : '';
  return `${where} ${e.message ?? 'is refused'}${allowed} (the fc3 component's schema)`;
}

export function checkSYaml(file: string, env: Record<string, string | undefined>, accountId: string): { sYaml?: SYaml; findings: Finding[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { findings: [{ check: 's.yaml', level: 'problem', message: `cannot read ${file}: ${(e as Error).message}` }] };
  }
  let sYaml: SYaml;
  try {
    sYaml = parseSYaml(text, { env, config: { AccountID: accountId }, baseDir: path.dirname(path.resolve(file)) }, file);
  } catch (e) {
    if (e instanceof SYamlError) return { findings: [{ check: 's.yaml', level: 'problem', message: e.message }] };
    throw e;
  }
  const findings: Finding[] = [];
  const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
  for (const f of sYaml.functions) {
    const before = findings.length;
    if (!validate(f.props)) for (const e of validate.errors ?? []) {
      const message = inWords(f.resource, e);
      if (message) findings.push({ check: 's.yaml', level: 'problem', message });
    }
    try {
      checkFc3Function(f.props);
    } catch (e) {
      if (!(e instanceof Fc3RuleError)) throw e;
      findings.push({ check: 's.yaml', level: 'problem', message: e.message });
    }
    if (findings.length === before) findings.push({ check: 's.yaml', level: 'ok', message: `${f.props.functionName} (resources.${f.resource}): props pass the fc3 schema and FC 3.0's rules` });
  }
  for (const s of sYaml.skipped) findings.push({ check: 's.yaml', level: 'info', message: `resources.${s.resource} (component ${s.component}) is not an fc3 function: the doctor does not check it` });
  return { sYaml, findings };
}
