/**
 * Two implementations of the seeds agree: the library's request pre-checks (shared/cloud-assistant/
 * requests) and the local Cloud Assistant's own request schemas (local/ecs/requests), written apart.
 * Generated RunCommand and InvokeCommand requests, clustered around every documented limit
 * (InstanceId 100 / 50, content and parameter size, Timeout, parameter counts and name lengths,
 * RepeatMode and Frequency, Type, ContentEncoding, tags, names, ClientToken, Windows users…), are
 * checked by parseRunCommand / parseInvokeCommand and, separately, sent raw — without the library's
 * pre-check — through the official SDK to the emulator. Both must accept, or both refuse with the
 * same error code and HTTP status. A disagreement is settled from the seeds, never by loosening this.
 *
 * The emulator also knows what only the service can (the instances, the saved command); the fleet
 * and the saved commands here make those checks pass or, for a saved command's own rules, the
 * library side applies them too (checkInvocationOfCommand), so every difference is a real one.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/cloud-assistant/errors.ts';
import { contentParameterNames } from '../../shared/cloud-assistant/requests/common.ts';
import { checkInvocationOfCommand, parseInvokeCommand } from '../../shared/cloud-assistant/requests/invoke-command.ts';
import { parseRunCommand } from '../../shared/cloud-assistant/requests/run-command.ts';
import { generatedFleet } from '../../local/ecs/fleet.ts';
import { b64, Models, REGION, startTestCloud, type TestCloud } from '../support/ecs-test-cloud.ts';

/** Fixed, so a run is repeatable; set FLEETRUN_FUZZ_SEED to explore other cases (a failure prints its seed). */
const SEED = Number(process.env.FLEETRUN_FUZZ_SEED ?? 20_261_201);
const RUN_CASES = 1000;
const INVOKE_CASES = 500;
/** Every instance carries tags t1…t21 too, so ResourceTag lists of any length select someone. */
const FLEET = generatedFleet(120, { env: 'fuzz', ...Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`t${i + 1}`, 'x'])) });
const IDS = FLEET.map((i) => i.id);
/** The bucket OssOutputDelivery may name; the emulator knows it exists. */
const BUCKET = 'fuzz-output';
const ACCOUNT = '1234567890123456';

let cloud: TestCloud;
/** Saved commands InvokeCommand may name, with what the library knows of each. */
const saved: { id: string; script: string; enableParameter: boolean; timeout: number; type: string }[] = [];

beforeAll(async () => {
  cloud = await startTestCloud({
    fleet: FLEET,
    // Accepted requests fan out to up to 100 instances: no processes, just results.
    synthetic: () => ({ durationMs: 5, exitCode: 0, output: 'fuzz' }),
    outputDelivery: { bucketInfo: async (bucket) => (bucket === BUCKET ? { region: REGION, ownerAccountId: ACCOUNT } : undefined), put: async () => {} },
    accountId: ACCOUNT,
    // The delivery role is there already: its creation is not request validation.
    slrExists: true,
  });
  const commands = [
    { script: 'echo {{a}} {{B}}', enableParameter: true, timeout: 60 },
    { script: 'echo no parameters', enableParameter: false, timeout: 120 },
    // Kept content near the 18 KB limit: parameters tip it over.
    { script: `echo {{p}}\n# ${'k'.repeat(13_700)}`, enableParameter: true, timeout: 60 },
    // A Windows command: a Username other than System needs a WindowsPasswordName (seed 000).
    { script: 'echo %USERNAME%', enableParameter: false, timeout: 60, type: 'RunBatScript' },
  ];
  for (const { type = 'RunShellScript', ...c } of commands) {
    const res = await cloud.client.createCommand(
      new Models.CreateCommandRequest({ regionId: REGION, name: 'fuzz', type, commandContent: b64(c.script), contentEncoding: 'Base64', enableParameter: c.enableParameter, timeout: c.timeout }),
    );
    saved.push({ id: res.body.commandId, type, ...c });
  }
}, 60_000);

afterAll(async () => {
  await cloud?.close();
});

type Verdict = { ok: true } | { ok: false; code: string; status: number };
type Raw = Record<string, unknown>;

/** The SDK model's property names: `InstanceId` → `instanceId`, tags' `Key` → `key`. Values as given. */
function toSdkModel(request: Raw): Raw {
  const lower = (k: string) => k[0]!.toLowerCase() + k.slice(1);
  return Object.fromEntries(
    Object.entries(request)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [lower(k), Array.isArray(v) ? v.map((x: unknown) => (x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([tk, tv]) => [lower(tk), tv])) : x)) : v]),
  );
}

function libraryVerdict(check: () => void): Verdict {
  try {
    check();
    return { ok: true };
  } catch (e) {
    // Anything but the API's own error is a crash of the validation.
    if (!(e instanceof ApiError)) throw e;
    return { ok: false, code: e.code, status: e.httpStatus };
  }
}

async function emulatorVerdict(call: () => Promise<unknown>): Promise<Verdict> {
  try {
    await call();
    return { ok: true };
  } catch (e) {
    const err = e as { code?: string; statusCode?: number; data?: { Code?: string } };
    if (typeof err.code !== 'string' || typeof err.statusCode !== 'number' || err.data?.Code !== err.code) throw e;
    return { ok: false, code: err.code, status: err.statusCode };
  }
}

let tokens = 0;
/** A ClientToken nobody used yet: a repeated one would be answered from the first call. */
const freshToken = () => `fz-${process.pid}-${++tokens}`;

// --- generators: a valid request, changed in up to three places, each change near a limit ---

const ids = (n: number) => IDS.slice(0, Math.min(n, IDS.length)).concat(n > IDS.length ? IDS.slice(0, n - IDS.length) : []);
const around = (limit: number) => fc.integer({ min: limit - 2, max: limit + 2 });
const chars = (n: number, c = 'a') => c.repeat(Math.max(0, n));
// Parameters go to the SDK as a map (it writes the JSON): a string would be sent JSON-encoded twice.
const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.double({ noDefaultInfinity: false }));

const common = {
  instances: (limit: number) => fc.oneof(around(limit).map((n) => ({ InstanceId: ids(n) })), fc.constantFrom({ InstanceId: [] }, { InstanceId: [IDS[0], ''] }, { InstanceId: [IDS[0], IDS[0]] }, { InstanceId: undefined })),
  resourceTags: fc.oneof(
    fc.integer({ min: 0, max: 9 }).map((s) => ({ InstanceId: undefined, ResourceTag: [{ Key: 'shard', Value: String(s) }] })),
    fc.constant({ ResourceTag: [{ Key: 'shard', Value: '1' }] }),
    fc.constantFrom(
      { InstanceId: undefined, ResourceTag: [{ Key: '', Value: '1' }] },
      { InstanceId: undefined, ResourceTag: [{ Key: chars(65), Value: '1' }] },
      { InstanceId: undefined, ResourceTag: [{ Key: 'shard', Value: chars(129) }] },
      { InstanceId: undefined, ResourceTag: [{ Key: 'shard', Value: '1' }, { Key: 'shard', Value: '2' }] },
    ),
    around(20).map((n) => ({ InstanceId: undefined, ResourceTag: Array.from({ length: n }, (_, i) => (i === 0 ? { Key: 'shard', Value: '1' } : { Key: `t${i}`, Value: i % 2 ? 'x' : '' })) })),
  ),
  tags: fc.oneof(
    around(20).map((n) => ({ Tag: Array.from({ length: n }, (_, i) => ({ Key: `t${i}`, Value: 'v' })) })),
    fc.tuple(around(64), around(128)).map(([k, v]) => ({ Tag: [{ Key: chars(k, 'k'), Value: chars(v, 'v') }] })),
    fc.constantFrom({ Tag: [{ Key: 'aliyun-x', Value: 'v' }] }, { Tag: [{ Key: 'acs:x', Value: 'v' }] }, { Tag: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] }, { Tag: [{ Value: 'no key' }] }, { Tag: [{ Key: '', Value: 'v' }] }),
  ),
  timeout: fc.oneof(
    fc.oneof(around(10), around(86_400), fc.constantFrom(0, -0, -1, 60, 1.5, 2 ** 31, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, Number.NaN)).map((t) => ({ Timeout: t })),
    fc.constantFrom({ Timeout: '60' }, { Timeout: 'abc' }, { Timeout: '' }, { Timeout: ' 60' }, { Timeout: true }),
  ),
  schedule: fc.oneof(
    fc.constantFrom('Once', 'Period', 'NextRebootOnly', 'EveryReboot', 'DryRun', 'Sometimes', 'once', '').map((m) => ({ RepeatMode: m })),
    fc
      .tuple(
        fc.constantFrom('Period', 'Once', 'DryRun', undefined),
        fc.constantFrom(
          'rate(59s)', 'rate(60s)', 'rate(1m)', 'rate(5m)', 'rate(2h)', 'rate(1d)', 'rate(0m)', 'rate(5x)', 'rate(5m',
          'at(2030-06-06 13:15:30 Asia/Shanghai)', 'at(2031-01-01 00:00:00 GMT+8:00)', 'at(2020-01-01 00:00:00 UTC)', 'at(tomorrow)',
          '0 */5 * * * ?', '0 15 10 ? * * 2030 GMT+8:00', '0 0 0 1 1 ? 2020', '* * * * * *', 'every tuesday', '', ' ',
        ),
        fc.constantFrom(undefined, 30, 120, 600),
      )
      .map(([mode, frequency, timeout]) => ({ RepeatMode: mode, Frequency: frequency, ...(timeout !== undefined ? { Timeout: timeout } : {}) })),
  ),
  lengths: fc.oneof(
    around(255).map((n) => ({ Username: chars(n, 'u') })),
    around(255).map((n) => ({ WindowsPasswordName: chars(n, 'w') })),
    around(1024).map((n) => ({ Launcher: chars(n, 'l') })),
    around(512).map((n) => ({ Launcher: chars(n, '\u00e9') })),
    around(200).map((n) => ({ WorkingDir: `/${chars(n - 1, 'd')}` })),
    fc.constantFrom({ WorkingDir: '/tmp\nx' }, { WorkingDir: '/tmp\0' }, { WorkingDir: '' }),
  ),
  client: fc.oneof(
    fc.constantFrom({ ClientToken: '' }, { ClientToken: 'ünïcode' }, { ClientToken: chars(65, 'c') }),
    // A valid token must be new each time, or the second call is answered from the first.
    fc.constant('fresh').map(() => ({ ClientToken: freshToken() })),
    fc.constant('tab').map(() => ({ ClientToken: `with\t${freshToken()}` })),
  ),
  container: fc.constantFrom(
    { ContainerId: 'a'.repeat(64) }, { ContainerId: `docker://${'b'.repeat(64)}` }, { ContainerId: 'a'.repeat(63) }, { ContainerId: 'xyz' }, { ContainerId: '' },
    { ContainerName: 'web_1.a-b' }, { ContainerName: '-bad' }, { ContainerName: 'a b' },
  ),
  termination: fc.constantFrom('Process', 'ProcessTree', 'process', 'Gently', '').map((m) => ({ TerminationMode: m })),
  delivery: fc.constantFrom(`oss://${BUCKET}`, `oss://${BUCKET}/runs/`, `oss://${BUCKET}//x`, `oss://${BUCKET}/`, 'oss://ab', 'oss://Upper/x', 'http://bucket/x', '').map((o) => ({ OssOutputDelivery: o })),
  region: fc.constantFrom({ RegionId: '' }, { RegionId: undefined }),
  windows: fc.constantFrom(
    { Type: 'RunPowerShellScript', Username: 'admin' },
    { Type: 'RunPowerShellScript', Username: 'admin', WindowsPasswordName: 'pw' },
    { Type: 'RunBatScript', Username: 'System' },
  ),
  parameters: (names: string[]) =>
    fc.oneof(
      around(10).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [names[i % names.length] && i < names.length ? names[i]! : `x${i}`, 'v']))),
      fc.dictionary(fc.constantFrom(...names, ...names.map((n) => n.toUpperCase()), 'other', ''), scalar, { maxKeys: 4, noNullPrototype: true }),
      fc.constantFrom({}, { [names[0]!]: null }, { [names[0]!]: { nested: 1 } }, { [names[0]!]: [1] }, { [chars(64, 'p')]: 'v' }, { [chars(65, 'p')]: 'v' }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 2 ** 53, '', ' ', '\u0000').map((v) => ({ [names[0]!]: v })),
    ),
};

/** RunCommand: content, encoding, type and parameters change together, since they are checked together. */
const runContent = fc.oneof(
  fc.constantFrom('RunShellScript', 'RunBatScript', 'RunPowerShellScript', 'RunPythonScript', '', undefined).map((t) => ({ Type: t })),
  fc.constantFrom('PlainText', 'Base64', 'plaintext', 'BASE64', 'Gzip', '').map((e) => ({ ContentEncoding: e, CommandContent: e.toLowerCase() === 'base64' ? b64('echo encoded') : 'echo plain' })),
  fc.constantFrom({ ContentEncoding: 'Base64', CommandContent: 'not*base64' }, { ContentEncoding: 'Base64', CommandContent: `${b64('echo a')}\n` }, { CommandContent: '' }, { CommandContent: undefined }),
  // Around the content limits: 24 KB (not kept) and 18 KB (kept) of base64, content and parameters together.
  fc.tuple(fc.constantFrom(18_430, 18_431, 18_432, 18_433, 18_435, 13_822, 13_824, 13_825, 13_827), fc.boolean(), fc.boolean()).map(([n, keep, encoded]) => {
    const script = `#${chars(n - 1, 'x')}`;
    return { KeepCommand: keep, CommandContent: encoded ? b64(script) : script, ContentEncoding: encoded ? 'Base64' : 'PlainText' };
  }),
  fc.tuple(fc.integer({ min: 18_300, max: 18_420 }), fc.string({ minLength: 1, maxLength: 60 })).map(([n, value]) => ({
    EnableParameter: true,
    CommandContent: `echo {{a}} #${chars(n, 'y')}`,
    Parameters: { a: value },
  })),
  fc.tuple(around(20), fc.constantFrom(true, true, true, false)).map(([n, enable]) => ({ EnableParameter: enable, CommandContent: Array.from({ length: n }, (_, i) => `echo {{n${i}}}`).join('\n') })),
  fc.tuple(around(64), fc.constantFrom('', 'é', ' x', '.')).map(([n, odd]) => ({ EnableParameter: true, CommandContent: `echo {{${chars(n - odd.length, 'q')}${odd}}}` })),
  fc.tuple(fc.constantFrom(true, false, 'true', 'false', 'yes', undefined), common.parameters(['a', 'b'])).map(([enable, params]) => ({ EnableParameter: enable, CommandContent: 'echo {{a}} {{b}} {{ACS::InstanceId}}', Parameters: params })),
  around(128).map((n) => ({ Name: chars(n, 'n') })),
  around(512).map((n) => ({ Description: chars(n, 'd') })),
);

/** The changes RunCommand and InvokeCommand both take, in the order both draw them (a fixed seed replays the same cases). */
const sharedChanges = [
  common.resourceTags,
  common.tags,
  common.timeout,
  { weight: 2, arbitrary: common.schedule },
  common.lengths,
  common.client,
  common.container,
  common.termination,
  common.delivery,
  common.region,
];

const runRequest = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: runContent },
      common.instances(100),
      ...sharedChanges,
      common.windows,
    ),
    { maxLength: 3 },
  )
  .map((changes) => Object.assign({ RegionId: REGION, Type: 'RunShellScript', CommandContent: 'echo fuzz', InstanceId: [IDS[0]] } as Raw, ...changes));

const invokeRequest = fc
  .tuple(
    fc.nat({ max: 3 }),
    fc.array(
      fc.oneof(
        { weight: 3, arbitrary: common.parameters(['a', 'B', 'p']).map((p) => ({ Parameters: p })) },
        fc.constant({ Parameters: { p: 'v'.repeat(400) } }),
        common.instances(50),
        ...sharedChanges,
        fc.constantFrom({ CommandId: '' }, { CommandId: undefined }),
        fc.constantFrom({ Username: 'admin' }, { Username: 'admin', WindowsPasswordName: 'pw' }, { Username: 'System' }, { Username: 'root' }),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([which, changes]) => ({ which, request: Object.assign({ RegionId: REGION, InstanceId: [IDS[0]] } as Raw, ...changes) }));

/** Both verdicts for one request, and a line that shows it when they differ. */
function describeCase(request: Raw): string {
  return JSON.stringify(request, (_k, v: unknown) => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : Array.isArray(v) && v.length > 6 ? `[${v.length} items]` : v));
}

const base: Raw = { RegionId: REGION, Type: 'RunShellScript', CommandContent: 'echo fuzz', InstanceId: [IDS[0]] };
const placeholders = (n: number, name = (i: number) => `p${i}`) => Array.from({ length: n }, (_, i) => `echo {{${name(i)}}}`).join('\n');
const values = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 'v']));
/** Each limit exactly at and just past its boundary, run on every test run besides the generated cases. */
const RUN_BOUNDARIES: Raw[] = [
  { InstanceId: ids(100) }, { InstanceId: ids(101) },
  { CommandContent: `#${chars(18_431)}` }, { CommandContent: `#${chars(18_432)}` },
  { CommandContent: `#${chars(13_823)}`, KeepCommand: true }, { CommandContent: `#${chars(13_824)}`, KeepCommand: true },
  { Timeout: 86_400 }, { Timeout: 86_401 }, { Timeout: 10 }, { Timeout: 9 }, { Timeout: 2 ** 53 }, { Timeout: 1e21 }, { Timeout: Number.NaN },
  { EnableParameter: true, CommandContent: placeholders(10), Parameters: values(10) }, { EnableParameter: true, CommandContent: placeholders(11), Parameters: values(11) },
  { EnableParameter: true, CommandContent: 'echo {{a}}', Parameters: { [chars(64)]: 'v' } }, { EnableParameter: true, CommandContent: 'echo {{a}}', Parameters: { [chars(65)]: 'v' } },
  { EnableParameter: true, CommandContent: placeholders(20) }, { EnableParameter: true, CommandContent: placeholders(21) },
  { EnableParameter: true, CommandContent: `echo {{${chars(64, 'q')}}}` }, { EnableParameter: true, CommandContent: `echo {{${chars(65, 'q')}}}` },
  { RepeatMode: 'Period', Frequency: 'rate(1m)', Timeout: 30 }, { RepeatMode: 'Period', Frequency: 'rate(59s)' }, { RepeatMode: 'Period', Frequency: 'rate(1m)', Timeout: 60 },
  { RepeatMode: 'Sometimes' }, { RepeatMode: 'Period' }, { Type: 'RunPythonScript' },
  { Tag: Array.from({ length: 20 }, (_, i) => ({ Key: `t${i}`, Value: 'v' })) }, { Tag: Array.from({ length: 21 }, (_, i) => ({ Key: `t${i}`, Value: 'v' })) },
  { CommandContent: 'echo {{a}}', Parameters: { a: '1' } }, { EnableParameter: true, CommandContent: 'echo {{a}}', Parameters: { b: '1' } },
  { EnableParameter: true, CommandContent: 'echo {{a}}', Parameters: { a: Number.NaN } },
  { InstanceId: undefined }, { ContentEncoding: 'Base64', CommandContent: 'not*base64' },
].map((change) => ({ ...base, ...change }));
const INVOKE_BOUNDARIES: { which: number; request: Raw }[] = [
  { which: 0, request: { InstanceId: ids(50) } }, { which: 0, request: { InstanceId: ids(51) } },
  { which: 0, request: { Parameters: { a: '1', B: '2' } } }, { which: 0, request: { Parameters: { c: '1' } } }, { which: 1, request: { Parameters: { a: '1' } } },
  // Saved content takes 18,284 of the 18,432 bytes: a value of 103 characters still fits, 104 do not.
  { which: 2, request: { Parameters: { p: 'v'.repeat(103) } } }, { which: 2, request: { Parameters: { p: 'v'.repeat(104) } } },
  { which: 0, request: { Frequency: 'rate(1m)' } }, { which: 1, request: { Frequency: 'rate(2m)' } }, { which: 1, request: { Frequency: 'rate(3m)' } },
  { which: 0, request: { Timeout: 2 ** 53 } }, { which: 0, request: { Timeout: 1e21 } },
  { which: 0, request: { Timeout: 5 } }, { which: 0, request: { Timeout: 86_401 } },
  { which: 3, request: { Username: 'admin' } }, { which: 3, request: { Username: 'admin', WindowsPasswordName: 'pw' } }, { which: 3, request: { Username: 'System' } },
].map(({ which, request }) => ({ which, request: { RegionId: REGION, InstanceId: [IDS[0]], ...request } }));

const seen = { accepted: 0, refused: new Map<string, number>() };
function record(v: Verdict): void {
  if (v.ok) seen.accepted++;
  else seen.refused.set(v.code, (seen.refused.get(v.code) ?? 0) + 1);
}

describe('RunCommand', () => {
  it(`${RUN_CASES} generated requests: the library and the emulator agree on accept or reject, code and status`, async () => {
    await fc.assert(
      fc.asyncProperty(runRequest, async (request) => {
        const library = libraryVerdict(() => parseRunCommand(request));
        const emulator = await emulatorVerdict(() => cloud.client.runCommand(new Models.RunCommandRequest(toSdkModel(request))));
        expect(emulator, describeCase(request)).toEqual(library);
        record(library);
      }),
      { seed: SEED, numRuns: RUN_CASES, examples: RUN_BOUNDARIES.map((r): [Raw] => [r]) },
    );
  }, 60_000);
});

describe('InvokeCommand', () => {
  it(`${INVOKE_CASES} generated requests: the library (with what it knows of the saved command) and the emulator agree`, async () => {
    await fc.assert(
      fc.asyncProperty(invokeRequest, async ({ which, request }) => {
        const command = saved[which]!;
        // The saved command, unless a change emptied or removed CommandId.
        const sent = 'CommandId' in request ? request : { ...request, CommandId: command.id };
        const library = libraryVerdict(() => {
          const input = parseInvokeCommand(sent);
          checkInvocationOfCommand(
            { ...command, parameterNames: contentParameterNames(command.script) },
            input.Parameters,
            { frequency: input.Frequency, timeoutSeconds: input.Timeout },
            { username: input.Username, windowsPasswordName: input.WindowsPasswordName },
          );
        });
        const emulator = await emulatorVerdict(() => cloud.client.invokeCommand(new Models.InvokeCommandRequest(toSdkModel(sent))));
        expect(emulator, describeCase(sent)).toEqual(library);
        record(library);
      }),
      { seed: SEED, numRuns: INVOKE_CASES, examples: INVOKE_BOUNDARIES.map((r): [{ which: number; request: Raw }] => [r]) },
    );
  }, 60_000);

  it('covered both outcomes and many kinds of refusal', () => {
    expect(seen.accepted).toBeGreaterThan((RUN_CASES + INVOKE_CASES) / 10);
    expect(seen.refused.size, JSON.stringify([...seen.refused])).toBeGreaterThan(30);
  });
});
