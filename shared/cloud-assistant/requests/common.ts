/**
 * Pieces shared by the request schemas: values that arrive either typed (from the library) or as
 * the strings of the RPC wire (from the local emulator), and checks several operations make.
 *
 * Every check reports the API's own error code in `params.apiCode`, so `parseApiRequest` can turn
 * the first problem into the `ApiError` the service itself would answer with.
 */
import { z } from 'zod';
import { ApiError, type ApiErrorCode } from '../errors.ts';
import { BUILT_IN_PARAMETERS, LIMITS } from '../constants.ts';

/** Where checks report problems: a zod refinement context, or `collectingSink` outside zod. */
export interface IssueSink {
  addIssue(issue: { code: 'custom'; message: string; path: string[]; params: { apiCode: ApiErrorCode } }): void;
}

/** Wraps a sink to tell whether any check failed, so a transform can stop before building output. */
export function countingSink(inner: IssueSink): IssueSink & { readonly count: number } {
  let count = 0;
  return {
    addIssue: (issue) => {
      count++;
      inner.addIssue(issue);
    },
    get count() {
      return count;
    },
  };
}

/**
 * A sink for running checks outside a schema; `first` is the error the API would answer with.
 * @param statuses the operation's own HTTP status for codes it answers differently (`OPERATION_HTTP_STATUS`)
 */
export function collectingSink(statuses: Partial<Record<ApiErrorCode, number>> = {}): IssueSink & { readonly first: ApiError | undefined } {
  const errors: ApiError[] = [];
  return {
    addIssue: (issue) =>
      void errors.push(new ApiError(issue.params.apiCode, issue.message, { httpStatus: statuses[issue.params.apiCode] })),
    get first() {
      return errors[0];
    },
  };
}

/** Adds an issue carrying the API error code it stands for. */
export function fail(ctx: IssueSink, apiCode: ApiErrorCode, message: string, path: string[] = []): void {
  ctx.addIssue({ code: 'custom', message, path, params: { apiCode } });
}

/** A boolean the SDK sends as `"true"` / `"false"`. */
export const wireBoolean = z.union(
  [z.boolean(), z.enum(['true', 'false', 'True', 'False']).transform((s) => s.toLowerCase() === 'true')],
  { error: 'must be true or false' },
);

/**
 * An integer the SDK sends as its decimal string. A number is judged by that string, as the service
 * sees it: 2^53 is a whole number (too big, perhaps, but an integer the API's Long can hold), while
 * 1e21 goes out as "1e+21", which no Long parses.
 */
export const wireInteger = z.union(
  [
    z.number().refine((n) => /^-?\d+$/.test(String(n)), 'must be a whole number'),
    z.string().regex(/^-?\d+$/, 'must be a whole number').transform(Number),
  ],
  { error: 'must be a whole number' },
);

/** `InstanceId.N`: a list of ids; the wire decoder collects `InstanceId.1..N` into an array. */
export const instanceIdList = z.array(z.string().min(1, 'an instance id cannot be empty'));

export const tagPair = z.object({ Key: z.string().optional(), Value: z.string().optional() });
export type TagPair = z.infer<typeof tagPair>;

const RESERVED_TAG_PREFIXES = ['aliyun', 'acs:'];

/** Tag.N (tags on the execution or command): 0..20 pairs, keys non-empty, unique and ≤64, values ≤128. */
export function checkTags(tags: TagPair[] | undefined, ctx: IssueSink, max: number = LIMITS.tags): void {
  if (!tags) return;
  if (tags.length > max) {
    fail(ctx, 'NumberExceed.Tags', `Tag has ${tags.length} pairs; at most ${max} are allowed.`, ['Tag']);
    return;
  }
  const seen = new Set<string>();
  tags.forEach((t, i) => {
    const path = ['Tag', String(i)];
    if (t.Key === undefined || t.Key === '') return fail(ctx, 'MissingParameter.TagKey', `Tag.${i + 1}.Key is empty.`, path);
    if (t.Key.length > LIMITS.tagKeyLength || RESERVED_TAG_PREFIXES.some((p) => t.Key!.toLowerCase().startsWith(p)))
      return fail(ctx, 'InvalidTagKey.Malformed', `Tag.${i + 1}.Key must be at most ${LIMITS.tagKeyLength} characters and not start with aliyun or acs:.`, path);
    if ((t.Value ?? '').length > LIMITS.tagValueLength)
      return fail(ctx, 'InvalidTagValue.Malformed', `Tag.${i + 1}.Value must be at most ${LIMITS.tagValueLength} characters.`, path);
    if (seen.has(t.Key)) return fail(ctx, 'Duplicate.TagKey', `Tag key "${t.Key}" appears twice.`, path);
    seen.add(t.Key);
  });
}

/** ResourceTag.N (selects instances by tag): same shape as Tag, with its own error codes; `max` undefined: no count is documented. */
export function checkResourceTags(tags: TagPair[] | undefined, ctx: IssueSink, max: number | undefined): void {
  if (!tags) return;
  if (max !== undefined && tags.length > max) {
    fail(ctx, 'NumberExceed.ResourceTags', `ResourceTag has ${tags.length} pairs; at most ${max} are allowed.`, ['ResourceTag']);
    return;
  }
  const seen = new Set<string>();
  tags.forEach((t, i) => {
    const path = ['ResourceTag', String(i)];
    if (t.Key === undefined || t.Key === '')
      return fail(ctx, 'MissingParameter.ResourceTagKey', `ResourceTag.${i + 1}.Key is empty.`, path);
    if (t.Key.length > LIMITS.tagKeyLength)
      return fail(ctx, 'InvalidResourceTagKey.Malformed', `ResourceTag.${i + 1}.Key must be at most ${LIMITS.tagKeyLength} characters.`, path);
    if ((t.Value ?? '').length > LIMITS.tagValueLength)
      return fail(ctx, 'InvalidResourceTagValue.Malformed', `ResourceTag.${i + 1}.Value must be at most ${LIMITS.tagValueLength} characters.`, path);
    if (seen.has(t.Key)) return fail(ctx, 'Duplicate.ResourceTagKey', `ResourceTag key "${t.Key}" appears twice.`, path);
    seen.add(t.Key);
  });
}

/** Targets: InstanceId.N or ResourceTag.N, never both, never neither. */
export function checkTargets(
  ids: string[] | undefined,
  resourceTags: TagPair[] | undefined,
  ctx: IssueSink,
  limits: { instances: number; resourceTags: number | undefined },
): void {
  const hasIds = (ids?.length ?? 0) > 0;
  const hasTags = (resourceTags?.length ?? 0) > 0;
  if (hasIds && hasTags)
    return fail(ctx, 'InvalidResourceTag.ConflictWithInstanceIds', 'Give either InstanceId or ResourceTag, not both.', ['InstanceId']);
  if (!hasIds && !hasTags) return fail(ctx, 'MissingParam.InstanceId', 'Give InstanceId.N or ResourceTag.N to choose the instances.', ['InstanceId']);
  if (ids && ids.length > limits.instances)
    return fail(ctx, 'InstanceIds.ExceedLimit', `${ids.length} instance ids given; one call takes at most ${limits.instances}.`, ['InstanceId']);
  checkResourceTags(resourceTags, ctx, limits.resourceTags);
}

/** A custom parameter value: strings, numbers and booleans are what the agent can substitute. */
const parameterValue = z.unknown();

/**
 * The member names of the JSON object `text`, in order and with repeats, which `JSON.parse` would
 * silently collapse. `text` must already have parsed as an object.
 */
function jsonObjectKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

/**
 * `Parameters`: a map, or (on the wire) its JSON text. Structural problems become the API's
 * codes here rather than zod's, so the transform never throws. A name repeated in the JSON text
 * is a duplicate even though `JSON.parse` would keep only its last value.
 */
export const parametersField = z.union([z.string(), z.record(z.string(), parameterValue)], {
  error: 'must be a JSON object of name → value',
}).transform((raw, ctx) => {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return undefined;
    try {
      value = JSON.parse(raw);
    } catch {
      fail(ctx, 'InvalidParameter.Parameters', 'Parameters must be a JSON object of name → value.', ['Parameters']);
      return z.NEVER;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(ctx, 'InvalidParameter.Parameters', 'Parameters must be a JSON object of name → value.', ['Parameters']);
    return z.NEVER;
  }
  if (typeof raw === 'string') {
    const seen = new Set<string>();
    for (const key of jsonObjectKeys(raw)) {
      if (seen.has(key)) {
        fail(ctx, 'ParameterKey.Duplicate', `Parameter "${key}" is given twice in the Parameters JSON.`, ['Parameters']);
        return z.NEVER;
      }
      seen.add(key);
    }
  }
  return value as Record<string, unknown>;
});

export type Parameters = Record<string, string | number | boolean>;

/** Parameters: ≤10 pairs, keys non-empty, ≤64 characters, unique ignoring case, values scalar (numbers finite). */
export function checkParameters(params: Record<string, unknown> | undefined, ctx: IssueSink): void {
  if (!params) return;
  const keys = Object.keys(params);
  if (keys.length > LIMITS.parameterPairs)
    return fail(ctx, 'ParameterCount.ExceedLimit', `Parameters has ${keys.length} pairs; at most ${LIMITS.parameterPairs} are allowed.`, ['Parameters']);
  const seen = new Set<string>();
  for (const key of keys) {
    if (key === '') return fail(ctx, 'CmdParam.EmptyKey', 'A key in Parameters is empty.', ['Parameters']);
    if (key.length > LIMITS.parameterKeyLength)
      return fail(ctx, 'ParameterKey.ExceedLimit', `Parameter key "${key.slice(0, 20)}…" is longer than ${LIMITS.parameterKeyLength} characters.`, ['Parameters']);
    // Parameter names are case-insensitive, so "Name" and "name" name the same parameter.
    const folded = key.toLowerCase();
    if (seen.has(folded)) return fail(ctx, 'ParameterKey.Duplicate', `Parameter "${key}" is given twice (names ignore case).`, ['Parameters']);
    seen.add(folded);
    const v = params[key];
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      return fail(ctx, 'ParameterType.NotSupported', `Parameter "${key}" must be a string, number or boolean.`, ['Parameters']);
    // Parameters travel as JSON, where NaN and Infinity become null: the service would see no value at all.
    if (typeof v === 'number' && !Number.isFinite(v))
      return fail(ctx, 'ParameterType.NotSupported', `Parameter "${key}" is ${v}; a number must be finite to be sent.`, ['Parameters']);
  }
}

const TEMPLATE = /\{\{\s*([\s\S]*?)\s*\}\}/g;
const CUSTOM_NAME = /^[A-Za-z0-9_-]+$/;
const BUILT_IN = /^acs\s*::/i;

/** The `{{name}}` custom parameter names in a command's content (built-ins `{{ACS::…}}` excluded). */
export function contentParameterNames(content: string): string[] {
  const names = new Map<string, string>();
  for (const m of content.matchAll(TEMPLATE)) {
    const name = m[1] ?? '';
    if (BUILT_IN.test(name)) continue;
    const folded = name.toLowerCase();
    if (!names.has(folded)) names.set(folded, name);
  }
  return [...names.values()];
}

export function isKnownBuiltIn(name: string): boolean {
  const m = /^acs\s*::\s*(.+)$/i.exec(name.trim());
  return !!m && (BUILT_IN_PARAMETERS as readonly string[]).includes(m[1]!.trim());
}

/** Checks the `{{name}}` placeholders in content: ≤20 distinct names, characters and length. */
export function checkContentParameters(content: string, ctx: IssueSink): string[] {
  const names = contentParameterNames(content);
  for (const name of names) {
    if (!CUSTOM_NAME.test(name))
      fail(ctx, 'CmdParam.InvalidParamName', `"{{${name}}}": a parameter name may hold only letters, digits, _ and -.`, ['CommandContent']);
    else if (Buffer.byteLength(name) > LIMITS.contentParameterNameBytes)
      fail(ctx, 'CmdParamName.ExceedLimit', `Parameter name "${name.slice(0, 20)}…" is longer than ${LIMITS.contentParameterNameBytes} bytes.`, ['CommandContent']);
    else continue;
    return names;
  }
  if (names.length > LIMITS.contentParameterNames)
    fail(ctx, 'CmdParamCount.ExceedLimit', `The content defines ${names.length} parameters; at most ${LIMITS.contentParameterNames} are allowed.`, ['CommandContent']);
  return names;
}

/** Every key given in Parameters must be a parameter the content defines. */
export function checkParametersMatch(names: string[], params: Record<string, unknown> | undefined, ctx: IssueSink): void {
  if (!params) return;
  const defined = new Set(names.map((n) => n.toLowerCase()));
  for (const key of Object.keys(params)) {
    if (!defined.has(key.toLowerCase()))
      return fail(ctx, 'Parameter.NotMatched', `Parameter "${key}" is not used as {{${key}}} in the command content.`, ['Parameters']);
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes CommandContent per ContentEncoding; `undefined` (with an issue) when Base64 is not valid. */
export function decodeContent(content: string, encoding: 'PlainText' | 'Base64', ctx: IssueSink): string | undefined {
  if (encoding === 'PlainText') return content;
  const compact = content.replace(/\s+/g, '');
  if (!BASE64.test(compact)) {
    fail(ctx, 'CmdContent.DecodeError', 'CommandContent is not valid Base64 (ContentEncoding is Base64).', ['CommandContent']);
    return undefined;
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** ContentEncoding is case-insensitive and an unknown value silently means the default (seeds 001, 002). */
export function contentEncoding(fallback: 'PlainText' | 'Base64') {
  return z
    .string()
    .optional()
    .transform((v): 'PlainText' | 'Base64' => {
      const lower = v?.toLowerCase();
      if (lower === 'plaintext') return 'PlainText';
      if (lower === 'base64') return 'Base64';
      return fallback;
    });
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** Content and parameters, both Base64-encoded, count together against one limit (seed 001, 002). */
export function checkContentSize(plainContent: string, params: Record<string, unknown> | undefined, limit: number, ctx: IssueSink): void {
  const size = base64Length(Buffer.byteLength(plainContent)) + (params ? base64Length(Buffer.byteLength(JSON.stringify(params))) : 0);
  if (size > limit)
    fail(ctx, 'CmdContent.ExceedLimit', `Command content and parameters take ${size} bytes in Base64; the limit is ${limit} bytes (${limit / 1024} KB).`, ['CommandContent']);
}

export function checkLength(
  value: string | undefined,
  max: number,
  code: ApiErrorCode,
  field: string,
  ctx: IssueSink,
  unit: 'characters' | 'bytes' = 'characters',
): void {
  if (value === undefined) return;
  const len = unit === 'bytes' ? Buffer.byteLength(value) : value.length;
  if (len > max) fail(ctx, code, `${field} is ${len} ${unit}; at most ${max} are allowed.`, [field]);
}

/** Seed 000: "only ASCII characters and cannot exceed 64 characters". An empty token is no token. */
const CLIENT_TOKEN = /^[\x00-\x7f]{1,64}$/;
export function checkClientToken(token: string | undefined, ctx: IssueSink): void {
  if (token && !CLIENT_TOKEN.test(token))
    fail(ctx, 'InvalidClientToken.Malformed', `ClientToken must be at most ${LIMITS.clientTokenLength} ASCII characters.`, ['ClientToken']);
}

/**
 * Seed 000: a ContainerId is 64 hexadecimal digits and may carry its runtime's scheme (the list of
 * schemes is cut off there; docker, containerd and cri-o are Alibaba's current page). No seed gives a
 * rule for ContainerName, so none is checked.
 */
const CONTAINER_ID = /^(?:(?:docker|containerd|cri-o):\/\/)?[0-9a-f]{64}$/;
export function checkContainer(id: string | undefined, _name: string | undefined, ctx: IssueSink): void {
  if (id !== undefined && id !== '' && !CONTAINER_ID.test(id))
    fail(ctx, 'InvalidContainerId.Malformed', 'ContainerId must be 64 hexadecimal characters, optionally prefixed docker://, containerd:// or cri-o://.', ['ContainerId']);
}

const OSS_DELIVERY = /^oss:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])(?:\/(.*))?$/;
/** `oss://bucket[/prefix]`: where the service writes each instance's full output. */
export function parseOssOutputDelivery(value: string): { bucket: string; prefix: string } | undefined {
  const m = OSS_DELIVERY.exec(value);
  return m ? { bucket: m[1]!, prefix: m[2] ?? '' } : undefined;
}
export function checkOssOutputDelivery(value: string | undefined, ctx: IssueSink): void {
  if (value === undefined || value === '') return;
  const parsed = parseOssOutputDelivery(value);
  if (!parsed) return fail(ctx, 'InvalidParameter.OssOutputDelivery', 'OssOutputDelivery must look like oss://bucket/prefix.', ['OssOutputDelivery']);
  // OSS's object-key rule: no leading /, at most 1023 bytes; an empty path segment makes no sense in a prefix.
  if (parsed.prefix.startsWith('/') || parsed.prefix.includes('//') || Buffer.byteLength(parsed.prefix) > 1023)
    fail(ctx, 'InvalidOssOutputDelivery.KeyPrefixMalformed', 'The OSS key prefix in OssOutputDelivery must not start with / or contain //.', ['OssOutputDelivery']);
}

/** Seed 001: at most 200 characters. It names InvalidParameterCharacter.CommandWorkingDir but not which characters, so none are refused. */
export function checkWorkingDir(dir: string | undefined, ctx: IssueSink): void {
  if (dir === undefined) return;
  if (dir.length > LIMITS.workingDirLength)
    fail(ctx, 'InvalidParameter.WorkingDir', `WorkingDir is ${dir.length} characters; at most ${LIMITS.workingDirLength} are allowed.`, ['WorkingDir']);
}

/** Windows commands run as someone other than System need the name of a stored password. */
export function checkWindowsUser(type: string, username: string | undefined, passwordName: string | undefined, ctx: IssueSink): void {
  const windows = type === 'RunBatScript' || type === 'RunPowerShellScript';
  if (windows && username && username.toLowerCase() !== 'system' && !passwordName)
    fail(ctx, 'WindowsPasswordName.Missed', 'WindowsPasswordName is required to run a Windows command as a user other than System.', ['WindowsPasswordName']);
}

/** Maps the field that failed zod's own structural checks to the code the API uses for it. */
export interface FieldCodes {
  missing?: Partial<Record<string, ApiErrorCode>>;
  invalid?: Partial<Record<string, ApiErrorCode>>;
  /** The operation's own HTTP status for codes it answers differently (`OPERATION_HTTP_STATUS`). */
  statuses?: Partial<Record<ApiErrorCode, number>>;
}

/**
 * Parses a request with its schema and turns the first problem into the API's error. Structural
 * problems (a missing or mistyped field) come first, then the limits in the order each schema
 * checks them.
 */
export function parseApiRequest<S extends z.ZodType>(schema: S, input: unknown, codes: FieldCodes = {}): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const apiCode = (issue as { params?: { apiCode?: ApiErrorCode } }).params?.apiCode;
  if (apiCode) throw new ApiError(apiCode, issue.message, { cause: result.error, httpStatus: codes.statuses?.[apiCode] });
  const given = input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[field] : undefined;
  // An empty value is a missing one only where a non-empty string is required; an optional Timeout
  // or boolean sent empty is simply not a valid value (seeds 000/001 mark them optional).
  if (given === undefined || (given === '' && issue.code === 'too_small')) {
    const code = codes.missing?.[field] ?? 'MissingParameter';
    throw new ApiError(code, `${field} is required.`, { cause: result.error, httpStatus: codes.statuses?.[code] });
  }
  const code = codes.invalid?.[field] ?? 'InvalidParameter';
  throw new ApiError(code, `${[field, ...issue.path.slice(1)].join('.')}: ${issue.message}`, {
    cause: result.error,
    httpStatus: codes.statuses?.[code],
  });
}
