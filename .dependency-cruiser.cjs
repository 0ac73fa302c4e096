/**
 * The project's layering rules, checked by `npm test` (test/unit/layering.test.ts runs depcruise).
 * Only run-time imports count where a rule says so: `import type` is erased and shares no code.
 */
const path = require('node:path');

const runtime = { dependencyTypesNot: ['type-only'] };

module.exports = {
  forbidden: [
    {
      name: 'emulators-own-code',
      comment:
        'The local cloud is a witness: an emulator under local/ never runs product code from shared/ (types only). ' +
        'The CLI (local/cli/: the chat thread, and the harness tests and benchmarks drive the local cloud ' +
        'through, local/cli/harness/) and npm start act as users and may.',
      severity: 'error',
      from: { path: '^local/', pathNot: ['^local/cli/', '^local/start\\.ts$'] },
      to: { path: '^shared/', ...runtime },
    },
    {
      name: 'library-stands-alone',
      comment: 'shared/ is the library the functions deploy: it never reaches into functions/, local/, test/, bench/ or scripts/.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|local|test|bench|scripts)/' },
    },
    {
      name: 'functions-are-wiring',
      comment: 'A function is wiring over shared/: it imports no other function and nothing of the local cloud.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^(functions/(?!$1/)|local/|test/|bench/)' },
    },
    {
      name: 'config-below-pipeline',
      comment: 'shared/config reads the environment and the shipped files; the pipeline builds on it, never the reverse.',
      severity: 'error',
      from: { path: '^shared/config/' },
      to: { path: '^shared/(pipeline|chatops|schedule)/', ...runtime },
    },
    {
      name: 'runs-are-data',
      comment: 'shared/runs (manifests, results, summaries, reports) is data and rendering: no cloud clients, no pipeline.',
      severity: 'error',
      from: { path: '^shared/runs/' },
      to: { path: '^(shared/(pipeline|chatops|store|queue|cloud-assistant/ecs)|node_modules/(@alicloud|ali-oss))', ...runtime },
    },
    {
      name: 'chat-codecs-stay-light',
      comment: 'chatops answers within 3 s: the chat codecs never load the ECS SDK or the pipeline (the API limits in cloud-assistant/constants.ts are plain data).',
      severity: 'error',
      from: { path: '^shared/chat/' },
      to: { path: '^(shared/pipeline/|shared/cloud-assistant/(?!constants\\.ts$)|node_modules/@alicloud/ecs20140526)', ...runtime },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes load order matter and hides which module is the lower layer.',
      severity: 'error',
      from: { path: '^(shared|local|functions)/' },
      to: { circular: true, ...runtime },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that does not resolve fails at run time in the bundle or on FC.',
      severity: 'error',
      from: { path: '^(shared|local|functions|scripts|bench)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Imports as the code runs: babel strips `import type` (as verbatimModuleSyntax does), so type-only
    // imports never count. (TypeScript 7 has no compiler API for dependency-cruiser to parse with;
    // .babelrc.depcruise.json is read by nothing else.)
    babelConfig: { fileName: path.join(__dirname, '.babelrc.depcruise.json') },
    tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') },
    tsPreCompilationDeps: false,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|^dist/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json', '.d.ts'] },
  },
};
