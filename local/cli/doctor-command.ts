/**
 * `fleetrun doctor`: run before `s deploy`. Checks s.yaml against the fc3 component's schema and
 * FC 3.0's rules, each function's environment as the current shell would deploy it, and that the
 * role's policy allows every call the functions make; prints what is missing in plain words.
 * Exit 0 when nothing is missing (warnings allowed), 1 otherwise.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkEnvironment } from './doctor-env.ts';
import { checkSYaml } from './doctor-fc3.ts';
import { checkPolicy } from './doctor-policy.ts';
import { formatReport, problemsIn, type Finding } from './doctor-report.ts';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/** `${config('AccountID')}` comes from the `s config` access, which the doctor does not read: ARNs then match any account. */
const ANY_ACCOUNT = '*';

export const DOCTOR_HELP = `Usage: fleetrun doctor [options]

Checks, before \`s deploy\`, what the deployment would be given from this shell:
  s.yaml         every resource's props against the fc3 component's schema; FC 3.0's rules
  environment    each function's variables against its schema (FLEETRUN_SEAL_KEY and its length,
                 the chat platforms' secrets, FLEETRUN_PUBLIC_URL)
  policy         the role's permission policy allows every call the functions make

Options:
  --s-yaml FILE      the deployment to check (default: the project's s.yaml)
  --policy FILE      judge every role by this policy instead of the one s.yaml's ros stack declares (repeatable)
  --account-id ID    the account s.yaml's \${config('AccountID')} stands for (default: any)
  --json             print the findings as JSON
Exit status: 0 when nothing is missing, 1 otherwise.`;

export interface DoctorOptions {
  sYaml: string;
  policyFiles: string[];
  accountId: string;
  json: boolean;
  /** The deploying shell's variables, for s.yaml's `${env(...)}`. */
  env: Record<string, string | undefined>;
}

export function runDoctor(options: Omit<DoctorOptions, 'json'>): Finding[] {
  const { sYaml, findings } = checkSYaml(options.sYaml, options.env, options.accountId);
  if (!sYaml) return findings;
  if (options.accountId === ANY_ACCOUNT) findings.push({ check: 's.yaml', level: 'info', message: "${config('AccountID')} checked as any account (pass --account-id to use yours)" });
  return [...findings, ...checkEnvironment(sYaml), ...checkPolicy(sYaml, { policyFiles: options.policyFiles })];
}

export function parseDoctorArgs(argv: string[], env: Record<string, string | undefined> = process.env): DoctorOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      's-yaml': { type: 'string' },
      policy: { type: 'string', multiple: true },
      'account-id': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) return 'help';
  return {
    sYaml: values['s-yaml'] ?? path.join(PROJECT_ROOT, 's.yaml'),
    policyFiles: values.policy ?? [],
    accountId: values['account-id'] ?? ANY_ACCOUNT,
    json: values.json,
    env,
  };
}

export function doctorCommand(argv: string[]): number {
  const options = parseDoctorArgs(argv);
  if (options === 'help') return (console.log(DOCTOR_HELP), 0);
  const findings = runDoctor(options);
  const problems = problemsIn(findings);
  if (options.json) console.log(JSON.stringify({ ok: problems === 0, sYaml: options.sYaml, findings }, null, 2));
  else console.log(formatReport(findings, options.sYaml));
  return problems === 0 ? 0 : 1;
}
