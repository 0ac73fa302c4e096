/**
 * `fleetrun doctor`, second check: each function's environment as s.yaml renders it from the
 * deploying shell, against that function's schema (shared/config/function-env-check.ts, the check
 * test/unit/function-env.test.ts runs on the shipped s.yaml), plus what a deployment needs beyond
 * the schemas: a seal key, at least one chat platform, and chatops' public URL for lasting links.
 */
import { CHAT_PLATFORMS, envProblems, isFunctionName, servedPlatforms, type ChatPlatform, type Deployment } from '../../shared/config/function-env-check.ts';
import { FUNCTION_ENV_SCHEMAS } from '../../shared/config/function-envs.ts';
import type { SYaml } from '../fc/s-yaml.ts';
import { mergeByFunction, type Finding } from './doctor-report.ts';

/** What turns each platform on, for the sentence that says how. */
const PLATFORM_SECRET: Record<ChatPlatform, string> = {
  slack: 'FLEETRUN_SLACK_SIGNING_SECRET',
  dingtalk: 'FLEETRUN_DINGTALK_APP_SECRET',
  lark: 'FLEETRUN_LARK_VERIFICATION_TOKEN or FLEETRUN_LARK_ENCRYPT_KEY (and FLEETRUN_LARK_APP_ID / FLEETRUN_LARK_APP_SECRET for replies)',
  webhook: 'FLEETRUN_WEBHOOK_SECRET',
};

/** The seal key's minimum length, as the schema says it (probed, not repeated here). */
function sealKeyMinimum(): number {
  const type = FUNCTION_ENV_SCHEMAS['fleetrun-chatops'].shape.FLEETRUN_SEAL_KEY;
  let n = 1;
  while (n < 1024 && !type.safeParse('k'.repeat(n)).success) n++;
  return n;
}

const reads = (name: keyof typeof FUNCTION_ENV_SCHEMAS, variable: string) => variable in FUNCTION_ENV_SCHEMAS[name].shape;

export function checkEnvironment(sYaml: SYaml): Finding[] {
  const findings: Finding[] = [];
  const fns: Deployment = new Map(sYaml.functions.map((f) => [f.props.functionName, f.props.environmentVariables]));
  for (const name of fns.keys()) if (!isFunctionName(name)) findings.push({ check: 'environment', level: 'warning', message: `${name} is not a fleetrun function: its environment is not checked` });
  const missing = Object.keys(FUNCTION_ENV_SCHEMAS).filter((name) => !fns.has(name));
  if (missing.length > 0) findings.push({ check: 'environment', level: 'problem', message: `s.yaml does not deploy ${missing.join(', ')}: fleetrun needs all five functions` });

  const chatops = fns.get('fleetrun-chatops');
  const served = chatops ? servedPlatforms(chatops) : [];
  if (chatops) {
    const off = CHAT_PLATFORMS.filter((p) => !served.includes(p));
    if (served.length === 0) {
      findings.push({ check: 'environment', level: 'problem', message: `fleetrun-chatops serves no chat platform: export the secret of each platform you use (${CHAT_PLATFORMS.map((p) => `${p}: ${PLATFORM_SECRET[p]}`).join('; ')})` });
    } else {
      findings.push({ check: 'environment', level: 'info', message: `chat platforms on: ${served.join(', ')}${off.length > 0 ? `; off: ${off.map((p) => `${p} (set ${PLATFORM_SECRET[p]})`).join(', ')}` : ''}` });
    }
  }

  const problems: string[] = [];
  const unsealed: string[] = [];
  const noPublicUrl: string[] = [];
  for (const [name, env] of fns) {
    if (!isFunctionName(name)) continue;
    problems.push(...envProblems(name, env, fns, served));
    if (reads(name, 'FLEETRUN_SEAL_KEY') && !env.FLEETRUN_SEAL_KEY) unsealed.push(name);
    if (reads(name, 'FLEETRUN_PUBLIC_URL') && !env.FLEETRUN_PUBLIC_URL?.trim()) noPublicUrl.push(name);
  }
  const sealKey = [...fns.values()].map((env) => env.FLEETRUN_SEAL_KEY).find((k) => k);
  const minimum = sealKeyMinimum();
  if (sealKey !== undefined && sealKey.length < minimum) {
    // One sentence for the shell's key, not the schema's message once per function.
    const short = (m: string) => /: FLEETRUN_SEAL_KEY has a value the function refuses/.test(m);
    problems.splice(0, problems.length, ...problems.filter((m) => !short(m)));
    findings.push({
      check: 'environment',
      level: 'problem',
      message: `FLEETRUN_SEAL_KEY is ${sealKey.length} characters long; it must have at least ${minimum}. Export a longer random key, e.g. \`export FLEETRUN_SEAL_KEY=$(openssl rand -base64 32)\``,
    });
  }
  if (unsealed.length > 0) {
    findings.push({
      check: 'environment',
      level: 'problem',
      message: `FLEETRUN_SEAL_KEY is not set (${unsealed.join(', ')} read it): without it commands with secret parameters are refused and report links cannot be signed. Export a random key of at least 16 characters, e.g. \`export FLEETRUN_SEAL_KEY=$(openssl rand -base64 32)\`, and keep it: changing it invalidates every report link given out`,
    });
  }
  findings.push(...mergeByFunction('environment', 'problem', problems));
  if (noPublicUrl.length > 0) {
    findings.push({
      check: 'environment',
      level: 'warning',
      message: `FLEETRUN_PUBLIC_URL is not set (${noPublicUrl.join(', ')} read it): report links fall back to presigned OSS links that stop working when the function role's STS token expires (about an hour). After the first \`s deploy\`, export chatops' HTTP trigger URL as FLEETRUN_PUBLIC_URL and deploy again`,
    });
  }
  if (chatops && served.includes('webhook') && !chatops.FLEETRUN_WEBHOOK_CALLBACK_ORIGINS?.trim()) {
    findings.push({
      check: 'environment',
      level: 'warning',
      message: 'the signed webhook is on, but FLEETRUN_WEBHOOK_CALLBACK_ORIGINS is not set: every request that names a callbackUrl is refused (CallbackNotAllowed), so webhook users get only the immediate answer. Export the origins that may receive replies, e.g. `export FLEETRUN_WEBHOOK_CALLBACK_ORIGINS=https://hooks.example.com`',
    });
  }
  if (!findings.some((f) => f.level === 'problem')) findings.push({ check: 'environment', level: 'ok', message: `every function gets the variables its schema requires (shared/config/function-envs.ts)` });
  return findings;
}
