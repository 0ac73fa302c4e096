/** What `fleetrun doctor` found, and how it is printed: plain sentences, problems first. */

export type Check = 's.yaml' | 'environment' | 'policy';

export interface Finding {
  check: Check;
  /** `problem` fails the doctor (exit 1); a `warning` is worth knowing; `ok` and `info` say what was checked. */
  level: 'problem' | 'warning' | 'info' | 'ok';
  message: string;
}

const MARK: Record<Finding['level'], string> = { problem: '✗', warning: '!', info: '·', ok: '✓' };
const ORDER: readonly Check[] = ['s.yaml', 'environment', 'policy'];
const TITLE: Record<Check, string> = { 's.yaml': 's.yaml and FC 3.0', environment: "the functions' environment", policy: "the role's policy" };

export const problemsIn = (findings: readonly Finding[]): number => findings.filter((f) => f.level === 'problem').length;

export function formatReport(findings: readonly Finding[], sYaml: string): string {
  const out: string[] = [`fleetrun doctor: ${sYaml}`];
  for (const check of ORDER) {
    const mine = findings.filter((f) => f.check === check);
    if (mine.length === 0) continue;
    out.push('', TITLE[check]);
    for (const f of mine) out.push(`  ${MARK[f.level]} ${f.message}`);
  }
  const problems = problemsIn(findings);
  const warnings = findings.filter((f) => f.level === 'warning').length;
  out.push(
    '',
    problems === 0
      ? `Nothing is missing${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'} above)` : ''}: \`npm run build\` and \`s deploy\` can go ahead.`
      : `${problems} problem${problems === 1 ? '' : 's'} to fix before \`s deploy\` (marked ✗); then run fleetrun doctor again.`,
  );
  return out.join('\n');
}

/** Findings whose message starts with a function's name, merged when several functions share the rest: `a, b: X`. */
export function mergeByFunction(check: Check, level: Finding['level'], messages: readonly string[]): Finding[] {
  const byRest = new Map<string, string[]>();
  for (const m of messages) {
    const at = m.indexOf(': ');
    const [name, rest] = at > 0 ? [m.slice(0, at), m.slice(at + 2)] : ['', m];
    const names = byRest.get(rest) ?? byRest.set(rest, []).get(rest)!;
    if (name && !names.includes(name)) names.push(name);
  }
  return [...byRest].map(([rest, names]) => ({ check, level, message: names.length > 0 ? `${names.join(', ')}: ${rest}` : rest }));
}
