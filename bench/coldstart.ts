/**
 * Cold start and size: each function's bundle size and the SDKs in it (from esbuild's metafile),
 * and the time to load it in a fresh Node process against the same code with its dependencies left
 * unbundled (loaded from node_modules, as without a bundler) — median of several runs, side by side.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { buildFunctions } from '../scripts/build.ts';

const run = promisify(execFile);

/** The SDKs each function calls; anything else in its bundle is dead weight. */
export const SDKS_CALLED: Record<string, string[]> = {
  chatops: ['ali-oss', '@alicloud/fc2'],
  dispatch: ['ali-oss', '@alicloud/ecs20140526'],
  'task-events': ['ali-oss', '@alicloud/mns', '@alicloud/ecs20140526'],
  summarize: ['ali-oss', '@alicloud/ecs20140526'],
  schedule: ['ali-oss', '@alicloud/mns', '@alicloud/ecs20140526'],
};
const SDKS = ['@alicloud/ecs20140526', '@alicloud/mns', 'ali-oss', '@alicloud/fc2'];

export interface ColdStartResult {
  bundleBytes: Record<string, number>;
  sdksInBundle: Record<string, string[]>;
  unusedSdkBundles: number;
  importMs: Record<string, { bundled: number; unbundled: number; ratio: number }>;
  importRatio: number;
  runs: number;
}

// What every function's schema requires (shared/config/function-envs.ts), so each bundle loads as on FC.
const ENV = { FLEETRUN_BUCKET: 'fleetrun-runs', FLEETRUN_RESULT_QUEUE: 'fleetrun-results', FLEETRUN_SEAL_KEY: 'bench-seal-key-0123456789', PATH: process.env.PATH ?? '' };

async function medianLoadMs(file: string, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run(process.execPath, ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`], { env: ENV, cwd: path.dirname(file) });
    times.push(Number(stdout.trim()));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function benchColdStart(root: string, out: string, runs = 11, only?: string[]): Promise<ColdStartResult> {
  const built = (await buildFunctions(path.join(root, 'functions'), out, path.join(root, 'config'))).filter((b) => !only || only.includes(b.name));
  const result: ColdStartResult = { bundleBytes: {}, sdksInBundle: {}, unusedSdkBundles: 0, importMs: {}, importRatio: 0, runs };
  for (const b of built) {
    const meta = JSON.parse(await readFile(path.join(out, b.name, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const inputs = Object.keys(meta.inputs);
    // The ECS SDK ships as a file of its own beside the bundle, loaded on first use: it is still carried.
    const lazyEcs = existsSync(path.join(out, b.name, 'ecs-sdk-vendor.js'));
    const sdks = SDKS.filter((s) => inputs.some((i) => i.includes(`node_modules/${s}/`)) || (lazyEcs && s === '@alicloud/ecs20140526'));
    result.bundleBytes[b.name] = b.bytes;
    result.sdksInBundle[b.name] = sdks;
    if (sdks.some((s) => !(SDKS_CALLED[b.name] ?? []).includes(s))) result.unusedSdkBundles++;
    // The same entry with node_modules left external: our code in one file, dependencies as Node finds them.
    // Inside the project, so Node finds node_modules the way an unbundled deployment would.
    const unbundledDir = path.join(root, 'dist', '.unbundled', b.name);
    await mkdir(unbundledDir, { recursive: true });
    const unbundled = path.join(unbundledDir, 'index.js');
    await build({ entryPoints: [path.join(root, 'functions', b.name, 'index.ts')], bundle: true, packages: 'external', platform: 'node', target: 'node20', format: 'cjs', outfile: unbundled, logLevel: 'error' });
    const bundledMs = await medianLoadMs(path.resolve(b.file), runs);
    const unbundledMs = await medianLoadMs(unbundled, runs);
    result.importMs[b.name] = { bundled: bundledMs, unbundled: unbundledMs, ratio: unbundledMs / bundledMs };
  }
  // The worst function's speed-up is the figure that has to hold.
  result.importRatio = Math.min(...Object.values(result.importMs).map((m) => m.ratio));
  return result;
}

export async function functionNames(root: string): Promise<string[]> {
  return (await readdir(path.join(root, 'functions'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
}
