/**
 * The chat configuration files are found relative to the function's code folder (FC_FUNC_CODE_PATH,
 * which FC and the local host set), not the working directory, which on FC — and on the local host —
 * is not the code folder.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { parseChatEnv } from '../../shared/config/chat-env.ts';

const run = promisify(execFile);
const REPO_CONFIG = path.resolve(import.meta.dirname, '../../config');

describe('chat configuration files: relative to the code folder', () => {
  let code: string;
  afterAll(async () => code && rm(code, { recursive: true, force: true }));

  it('reads relative FLEETRUN_*_FILE paths from FC_FUNC_CODE_PATH, not from the working directory', async () => {
    code = await mkdtemp(path.join(tmpdir(), 'fleetrun-code-'));
    // A folder name the working directory does not have: only the code folder can resolve it.
    await cp(REPO_CONFIG, path.join(code, 'only-in-code'), { recursive: true });
    const env = parseChatEnv({ FC_FUNC_CODE_PATH: code, FLEETRUN_CATALOG_FILE: './only-in-code/catalog.yaml', FLEETRUN_POLICY_FILE: './only-in-code/policy.yaml', FLEETRUN_JOBS_FILE: 'only-in-code/jobs.yaml' });
    expect(process.cwd()).not.toBe(code);
    const files = await loadChatFiles(env);
    expect(Object.keys(files.catalog).length).toBeGreaterThan(0);
    expect(files.policy).toBeDefined();
  });

  it('without FC_FUNC_CODE_PATH, a CommonJS bundle resolves against its own folder, whatever the working directory', async () => {
    const out = path.join(code, 'dist');
    await build({
      stdin: { contents: `const { codeFolder } = require(${JSON.stringify(path.resolve(import.meta.dirname, '../../shared/chatops/config-files.ts'))}); console.log(codeFolder({}));`, resolveDir: code, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: path.join(out, 'index.js'),
      logLevel: 'silent',
    });
    const { stdout } = await run(process.execPath, [path.join(out, 'index.js')], { cwd: tmpdir() });
    expect(stdout.trim()).toBe(out);
  });
});
