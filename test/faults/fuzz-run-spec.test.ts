/**
 * Never "started" and then silence (issue 13). Generated `run` commands — each catalog command
 * with its own parameters and values that fit or do not, targets of every form, timeouts,
 * concurrency and max-errors counts and percentages (whole, fractional, over 100%, malformed), free-form
 * scripts, and grammar soup — go through handleChat as a user of the signed webhook would send them,
 * against the shipped catalog (config/catalog.yaml) and the demo one (local/demo/catalog.yaml),
 * under a policy that allows everything. Each is either refused at once, with a refusal code and a
 * reason, and nothing is dispatched or recorded; or answered "Run … started" with exactly one
 * dispatch request that the dispatch function's own schema accepts as it travels (JSON, through
 * FC's async invoke and the pending-dispatch record), whose RunSpec startRun takes as it is, and
 * whose fields fit the manifest startRun writes.
 */
import fc from 'fast-check';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_PREFIX, parseAuditKey } from '../../shared/runs/audit.ts';
import { createCodecs, MemoryReplayGuard } from '../../shared/chat/codecs.ts';
import { REFUSALS, type RefusalCode } from '../../shared/chat/refusals.ts';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { dispatchRequestSchema, type DispatchRequest } from '../../shared/chatops/dispatch-request.ts';
import { handleChat, type ChatopsDeps } from '../../shared/chatops/handle-chat.ts';
import { loadCatalog, type Catalog } from '../../shared/config/catalog.ts';
import { parsePolicy } from '../../shared/config/policy.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import { runSpecSchema } from '../../shared/runs/run-spec.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { PROJECT_ROOT } from '../../local/local-cloud.ts';
import { commandText } from '../support/chat-fuzz.ts';
import { MemoryStore } from '../support/memory-store.ts';

const RUNS_PER_CATALOG = 3000;
const SECRET = 'webhook-secret-for-the-run-spec-fuzz';
/** Fixed, so a run is repeatable; set FLEETRUN_FUZZ_SEED to explore other cases (a failure prints its seed). */
const SEED = Number(process.env.FLEETRUN_FUZZ_SEED ?? 20_261_203);
const SEAL_KEY = 'a-seal-key-for-the-run-spec-fuzz-0001';
const POLICY = parsePolicy(`
rules:
  - name: anything
    users: ['webhook:tester']
    commands: ['*']
    allowScript: true
`);
const CATALOG_FILES = ['config/catalog.yaml', 'local/demo/catalog.yaml'];

/** Words that may be quoted: anything with a space or quote goes in double quotes, escaped as the grammar reads them. */
function word(text: string): string {
  return /^[^\s"'“”‘’]+$/.test(text) ? text : `"${text.replace(/(["\\“”])/g, '\\$1')}"`;
}

/** Mostly what the commands take, often not: each part is valid now and then, so whole commands get through. */
const value = fc.oneof(
  // Values that fit a parameter, secret ones included (a secret must be 4 characters or more): the mix must start runs often.
  { weight: 3, arbitrary: fc.constantFrom('/', '/data', '/var/log', 'sshd', 'nginx.service', '45', '5', 's3cr3t-token', 'token-0042', 'pa55-w0rd') },
  { weight: 2, arbitrary: fc.oneof(fc.stringMatching(/^\/[A-Za-z0-9_./-]{0,20}$/), fc.stringMatching(/^[0-9]{1,4}$/), fc.stringMatching(/^[A-Za-z0-9@._-]{1,20}$/)) },
  { weight: 2, arbitrary: fc.oneof(fc.constantFrom('', ' ', '$(id)', "'; rm -rf /'", '{{ACS::InstanceId}}', '\u0000', 'x'.repeat(30_000)), fc.string({ maxLength: 40 })) },
);
const count = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(fc.nat({ max: 2000 }).map(String), fc.nat({ max: 100 }).map((n) => `${n}%`)) },
  { weight: 2, arbitrary: fc.tuple(fc.nat({ max: 150 }), fc.nat({ max: 99 })).map(([n, f]) => `${n}.${f}%`) },
  { weight: 2, arbitrary: fc.constantFrom('10.5%', '2.5%', '0.5%', '101%', '1000%', '010%', '-1', '1e2%', '%', '5 %', 'lots', '999999999', '9007199254740993', '12345678901234567') },
);
const timeout = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(fc.integer({ min: 1, max: 100_000 }).map(String), fc.constantFrom('5m', '2h', '90s')) },
  { weight: 1, arbitrary: fc.constantFrom('0', '0h', '-5', 'ten', '999999999') },
);
const instanceId = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^i-[a-z0-9]{4,20}$/) }, { weight: 1, arbitrary: fc.constantFrom('i-', 'i-ABCD', 'i-x') });
const tagKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('env', 'role', 'Name') }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9:_.-]{1,12}$/) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });
const tagValue = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('demo', 'prod', 'web', '') }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });
const targets = fc.oneof(
  // The targets the policy lets the fuzz's user run on, so that runs start often whatever the seed.
  { weight: 2, arbitrary: fc.constant('env=demo') },
  { weight: 3, arbitrary: fc.array(instanceId, { minLength: 1, maxLength: 4 }).map((ids) => ids.join(' ')) },
  { weight: 3, arbitrary: fc.array(fc.tuple(tagKey, tagValue), { minLength: 1, maxLength: 3 }).map((tags) => tags.map(([k, v]) => `${word(k)}=${word(v)}`).join(' ')) },
  { weight: 1, arbitrary: fc.array(fc.tuple(tagKey, tagValue), { minLength: 1, maxLength: 2 }).map((tags) => `tag ${tags.map(([k, v]) => `${word(k)}=${word(v)}`).join(',')}`) },
  { weight: 1, arbitrary: fc.constantFrom('', 'tag', 'i-abcd env=demo', 'env=demo,env=prod') },
);

/** A `run` as a user might type it for one catalog: its commands and parameter names, and some that are not. */
function runCommand(catalog: Catalog): fc.Arbitrary<string> {
  const names = Object.keys(catalog.commands);
  const params = [...new Set(names.flatMap((n) => Object.keys(catalog.commands[n]!.parameters)))];
  const head = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names) },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/) },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom('df -h', 'uptime', 'echo {{ACS::InstanceId}}', "docker ps --format '{{.Names}}'", 'echo {{x}} {{ACS::InstanceId}}', ' ', 'x'.repeat(30_000)), fc.string({ maxLength: 30 })).map((s) => `script ${word(s)}`) },
  );
  const pair = fc.tuple(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...(params.length ? params : ['x'])) }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/) }), value);
  const sometimes = <T,>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
  const sections = fc.record({
    on: fc.oneof({ weight: 9, arbitrary: targets.map((t) => `on ${t}`) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    with: sometimes(fc.uniqueArray(pair, { minLength: 1, maxLength: 3, selector: ([k]) => k }).map((ps) => `with ${ps.map(([k, v]) => `${k}=${word(v)}`).join(' ')}`)),
    timeout: sometimes(timeout.map((t) => `timeout ${word(t)}`)),
    concurrency: sometimes(count.map((c) => `concurrency ${word(c)}`)),
    maxErrors: sometimes(fc.tuple(fc.constantFrom('max-errors', 'maxerrors', 'max_errors'), count).map(([k, c]) => `${k} ${word(c)}`)),
  });
  return fc.tuple(head, sections, fc.boolean()).map(([h, s, reversed]) => {
    const parts = Object.values(s).filter((p): p is string => p !== undefined);
    if (reversed) parts.reverse();
    return ['run', h, ...parts].join(' ');
  });
}

interface Harness {
  deps: ChatopsDeps;
  store: MemoryStore;
  dispatched: DispatchRequest[];
}

function harness(catalog: Catalog, sealKey: string | undefined): Harness {
  const store = new MemoryStore();
  const dispatched: DispatchRequest[] = [];
  return {
    store,
    dispatched,
    deps: {
      // The thread's origin is listed, as a deployment lists its callback server's.
      codecs: createCodecs({ webhook: { secret: SECRET, callbackOrigins: ['https://thread.example'] } }, new MemoryReplayGuard()),
      catalog,
      policy: POLICY,
      jobs: [],
      store,
      dispatcher: { dispatch: async (r) => void dispatched.push(r) },
      sealKey,
      logger: createLogger({ sink: () => {} }),
    },
  };
}

let delivery = 0;
async function say(h: Harness, text: string, replyTo: boolean) {
  const body = JSON.stringify({ user: 'tester', text, id: `fuzz-${++delivery}`, ...(replyTo ? { callbackUrl: 'https://thread.example/fleetrun' } : {}) });
  const res = await handleChat({ method: 'POST', path: '/webhook', headers: webhookHeaders(SECRET, body), query: {}, body: Buffer.from(body) }, h.deps);
  return { status: res.statusCode, answer: JSON.parse(String(res.body)) as { ok: boolean; code?: RefusalCode; message: string } };
}

/** One message's outcome, checked: refused at once with a reason, or started with a request dispatch accepts. */
async function check(h: Harness, text: string, replyTo: boolean, tally: Record<'refused' | 'started' | 'other', number>): Promise<void> {
  const before = h.dispatched.length;
  const { status, answer } = await say(h, text, replyTo);
  const pending = () => [...h.store.objects.keys()].filter((k) => k.startsWith(runKeys.pendingDispatchPrefix));
  if (!answer.ok) {
    // Refused at once: its code, that code's status, a reason, and nothing handed on or recorded.
    expect(answer.code, text).toBeDefined();
    expect(status, text).toBe(REFUSALS[answer.code!].status);
    expect(answer.message.trim(), text).not.toBe('');
    expect(h.dispatched.length, text).toBe(before);
    tally.refused++;
    return;
  }
  const started = /^Run (r-\S+) started/.exec(answer.message);
  if (!started) {
    expect(h.dispatched.length, `${text} → ${answer.message}`).toBe(before);
    tally.other++;
    return;
  }
  tally.started++;
  expect(h.dispatched.length, text).toBe(before + 1);
  const request = h.dispatched[before]!;
  expect(request.runId).toBe(started[1]);
  // What dispatch gets: the FC async payload, and the pending-dispatch record the schedule tick retries.
  const sent = dispatchRequestSchema.safeParse(JSON.parse(JSON.stringify(request)));
  expect(sent.success, `${text}\n${JSON.stringify(sent.error?.issues)}`).toBe(true);
  const record = h.store.objects.get(runKeys.pendingDispatch(request.runId));
  expect(record, text).toBeDefined();
  const recorded = dispatchRequestSchema.safeParse(JSON.parse(record!.toString('utf8')));
  expect(recorded.success, text).toBe(true);
  expect(recorded.data).toEqual(sent.data);
  expect(pending()).toContain(runKeys.pendingDispatch(request.runId));
  // startRun takes the RunSpec as it is, and it fits the manifest startRun writes.
  const spec = runSpecSchema.safeParse(sent.data);
  expect(spec.success, text).toBe(true);
  const manifest = runManifestSchema.safeParse({
    version: 1,
    runId: request.runId,
    createdAt: new Date().toISOString(),
    requestedBy: spec.data!.requestedBy,
    command: { name: spec.data!.command.name, type: spec.data!.command.type, timeoutSeconds: spec.data!.command.timeoutSeconds },
    targets: [],
    output: { mode: 'fetch' },
    secretParameters: spec.data!.command.secretParameters,
    ...(spec.data!.command.sealedSecrets ? { sealedSecrets: spec.data!.command.sealedSecrets } : {}),
    ...(spec.data!.replyTo ? { replyTo: spec.data!.replyTo } : {}),
  });
  expect(manifest.success, `${text}\n${JSON.stringify(manifest.error?.issues)}`).toBe(true);
  // No secret value travels in clear.
  const secretNames = spec.data!.command.secretParameters;
  for (const name of secretNames) expect(Object.keys(spec.data!.command.parameters)).not.toContain(name);
}

describe.each(CATALOG_FILES)('what a user can type, against %s', (file) => {
  it(`${RUNS_PER_CATALOG} generated commands: each is refused at once with a reason, or started with a request dispatch accepts`, async () => {
    const catalog = await loadCatalog(path.join(PROJECT_ROOT, file));
    const withKey = harness(catalog, SEAL_KEY);
    const withoutKey = harness(catalog, undefined);
    const tally = { refused: 0, started: 0, other: 0 };
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: runCommand(catalog) }, { weight: 1, arbitrary: commandText }), fc.boolean(), fc.nat({ max: 9 }), async (text, replyTo, which) =>
        check(which === 0 ? withoutKey : withKey, text, replyTo, tally),
      ),
      { numRuns: RUNS_PER_CATALOG, seed: SEED },
    );
    // The mix reached both outcomes, often.
    expect(tally.started).toBeGreaterThan(RUNS_PER_CATALOG / 20);
    expect(tally.refused).toBeGreaterThan(RUNS_PER_CATALOG / 4);
  }, 120_000);
});

describe('the command of issue 13', () => {
  it('run disk-check on env=demo with mount=/ max-errors 10.5% is refused at once, and 10% is started', async () => {
    const catalog = await loadCatalog(path.join(PROJECT_ROOT, 'local/demo/catalog.yaml'));
    const h = harness(catalog, SEAL_KEY);
    const refused = await say(h, 'run disk-check on env=demo with mount=/ max-errors 10.5%', true);
    expect(refused).toMatchObject({ status: 400, answer: { ok: false, code: 'BadGrammar' } });
    expect(refused.answer.message).toMatch(/^"max-errors" percentage must be a whole number, as SSM takes it \(like 10%\), got 10\.5%/);
    expect(h.dispatched).toEqual([]);
    // Nothing of a run is written: only the replay marker and the refusal's audit record (runs/audit.ts).
    expect([...h.store.objects.keys()].filter((k) => !k.startsWith('chat/seen/') && !k.startsWith(AUDIT_PREFIX))).toEqual([]);
    expect([...h.store.objects.keys()].filter((k) => k.startsWith(AUDIT_PREFIX)).map((k) => parseAuditKey(k)?.result)).toEqual(['refused']);

    const started = await say(h, 'run disk-check on env=demo with mount=/ max-errors 10%', true);
    expect(started.answer.message).toMatch(/^Run r-\S+ started: disk-check on env=demo/);
    expect(h.dispatched).toHaveLength(1);
    expect(dispatchRequestSchema.parse(JSON.parse(JSON.stringify(h.dispatched[0])))).toMatchObject({ kind: 'run', maxErrors: '10%', targets: { tags: { env: 'demo' } } });
  });
});
