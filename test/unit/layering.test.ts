/**
 * The project's layering rules (.dependency-cruiser.cjs), checked with dependency-cruiser: the
 * repository holds them, and a fixture tree shows the main rule catches a run-time import while
 * letting a type-only one through.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../local/local-cloud.ts';

const run = promisify(execFile);
const CONFIG = path.join(PROJECT_ROOT, '.dependency-cruiser.cjs');
const BIN = path.join(PROJECT_ROOT, 'node_modules/.bin/depcruise');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

async function violations(cwd: string, globs: string[]): Promise<{ violations: Violation[]; modules: number }> {
  // depcruise exits non-zero when it finds violations; the JSON report is on stdout either way.
  const out = await run(BIN, ['--config', CONFIG, '--output-type', 'json', ...globs], { cwd, maxBuffer: 64 * 1024 * 1024 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const report = JSON.parse(out.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: report.summary.violations, modules: report.summary.totalCruised };
}

describe('layering rules', () => {
  it('hold for the repository', async () => {
    const { violations: found, modules } = await violations(PROJECT_ROOT, ['{shared,local,functions,scripts,bench}/**/*.ts', 'bin/fleetrun.js']);
    expect(modules).toBeGreaterThan(150);
    expect(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 60_000);

  it('refuse an emulator importing library code at run time, and allow types, the CLI and the harness', async () => {
    const { violations: found } = await violations(path.join(PROJECT_ROOT, 'test/fixtures/layering'), ['{shared,local}/**/*.ts']);
    expect(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual(['emulators-own-code: local/ecs/borrows-limits.ts → shared/lib/limits.ts']);
  }, 60_000);
});
