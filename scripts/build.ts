/**
 * One esbuild bundle per function: `functions/<name>/index.ts` → `dist/<name>/index.js` (CommonJS,
 * Node 20, what FC's nodejs20 runtime loads as `index.handler`), with a metafile beside it that says
 * what went into the bundle.
 *
 *   npm run build [-- --functions DIR --out DIR]
 */
import { build, type Plugin } from 'esbuild';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface BuiltFunction {
  name: string;
  file: string;
  bytes: number;
}

/** The repository's own library folder (shared/), not anything beside the repository. */
const SHARED = fileURLToPath(new URL('../shared/', import.meta.url));
/** SDK modules loaded on first use (the ECS SDK; the FC 3.0 SDK), each shipped as a file of its own. */
const VENDOR_ENTRIES: Record<string, string> = {
  'ecs-sdk-vendor': path.join(SHARED, 'cloud-assistant/ecs-sdk-vendor.ts'),
  'fc3-sdk-vendor': path.join(SHARED, 'chatops/fc3-sdk-vendor.ts'),
};
/** Function → the vendor modules its bundle asked for (filled while building). */
const usesVendor = new Map<string, Set<string>>();
let building = '';

/** Keeps each SDK vendor module out of the main bundle: it becomes `./<name>.js` beside it. */
const vendorApart: Plugin = {
  name: 'sdk-vendor-apart',
  setup(b) {
    b.onResolve({ filter: /(ecs|fc3)-sdk-vendor\.ts$/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const name = path.basename(args.path, '.ts');
      usesVendor.set(building, (usesVendor.get(building) ?? new Set()).add(name));
      return { path: `./${name}.js`, external: true };
    });
  },
};

export async function buildFunctions(functionsDir: string, outDir: string, configDir = 'config'): Promise<BuiltFunction[]> {
  const names = existsSync(functionsDir)
    ? (await readdir(functionsDir, { withFileTypes: true })).filter((d) => d.isDirectory() && existsSync(path.join(functionsDir, d.name, 'index.ts'))).map((d) => d.name)
    : [];
  const built: BuiltFunction[] = [];
  for (const name of names.sort()) {
    building = name;
    const outfile = path.join(outDir, name, 'index.js');
    await mkdir(path.dirname(outfile), { recursive: true });
    const result = await build({
      entryPoints: [path.join(functionsDir, name, 'index.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile,
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
      // urllib (under ali-oss) loads proxy-agent only when a proxy is configured (docs/platform-facts.md §10).
      external: ['proxy-agent'],
      // @alicloud/mns picks its ES5 build (babel-runtime) only on runtimes without async functions;
      // Node 20 never does, so the bundle takes the modern client and leaves the ES5 one out.
      alias: { '@alicloud/mns': '@alicloud/mns/lib/client.js' },
      plugins: [vendorApart],
    });
    // Each SDK vendor goes in a file of its own, loaded on the first call (shared/cloud-assistant/ecs-sdk.ts, shared/chatops/fc3-dispatcher.ts).
    for (const vendor of Object.keys(result.metafile.inputs).length > 0 ? (usesVendor.get(name) ?? []) : []) {
      await build({ entryPoints: [VENDOR_ENTRIES[vendor]!], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: path.join(outDir, name, `${vendor}.js`), logLevel: 'warning', external: ['proxy-agent'] });
    }
    await writeFile(path.join(outDir, name, 'meta.json'), JSON.stringify(result.metafile));
    // The bundles are CommonJS; this project's package.json says "module", and Node would read them so.
    await writeFile(path.join(outDir, name, 'package.json'), '{ "type": "commonjs" }\n');
    // The catalog, policy and job files ship beside each bundle (FLEETRUN_*_FILE default to ./config/).
    if (existsSync(configDir)) await cp(configDir, path.join(outDir, name, 'config'), { recursive: true });
    const bytes = result.metafile.outputs[path.relative(process.cwd(), outfile)]?.bytes ?? 0;
    built.push({ name, file: outfile, bytes });
  }
  return built;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { functions: { type: 'string' }, out: { type: 'string' } } });
  const built = await buildFunctions(values.functions ?? 'functions', values.out ?? 'dist');
  if (built.length === 0) console.log('build: no functions/<name>/index.ts yet; nothing to bundle');
  for (const f of built) console.log(`build: ${f.name.padEnd(14)} ${(f.bytes / 1024).toFixed(0).padStart(6)} KB  ${f.file}`);
}
