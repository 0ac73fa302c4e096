/** The deployment build: one CommonJS bundle per function folder, loadable by a plain Node process. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFunctions } from '../../scripts/build.ts';

const run = promisify(execFile);

describe('Function: buildFunctions', () => {
  let out: string;
  afterAll(async () => rm(out, { recursive: true, force: true }));

  it('bundles each function folder into dist/<name>/index.js that FC can load as index.handler', async () => {
    out = await mkdtemp(path.join(tmpdir(), 'fleetrun-build-'));
    const built = await buildFunctions(path.resolve(import.meta.dirname, '../fixtures/functions'), out);
    expect(built.map((b) => b.name)).toEqual(['probe']);
    expect((await stat(path.join(out, 'probe', 'meta.json'))).size).toBeGreaterThan(0);
    // A fresh Node process, no tsx, no node_modules lookup from the bundle's folder: only the bundle.
    const script = `const m = require(${JSON.stringify(path.join(out, 'probe', 'index.js'))});
      m.handler(Buffer.from(JSON.stringify({ endpoint: '127.0.0.1:9' }))).then((r) => console.log(JSON.stringify(r)));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: out });
    expect(JSON.parse(stdout)).toEqual({ statusCode: 200, body: 'function' });
  });

  it('builds nothing when there are no function folders', async () => {
    expect(await buildFunctions(path.join(tmpdir(), 'no-such-functions-dir'), path.join(tmpdir(), 'unused'))).toEqual([]);
  });
});
