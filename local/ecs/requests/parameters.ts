/**
 * Custom parameters and command content: `Parameters` (a JSON object on the wire), the `{{name}}`
 * placeholders of a command's content, ContentEncoding and the size limit content and parameters share.
 */
import { EcsApiError } from '../api-error.ts';

export type ParameterValues = Record<string, unknown>;

/**
 * The names of the top-level members of a JSON object text, repeats included (JSON.parse keeps only
 * the last of a repeated name, and the service refuses the repeat). The text has already parsed as
 * an object, so strings and nesting are well formed.
 */
function topLevelNames(json: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let atName = false;
  const token = /"(?:[^"\\]|\\.)*"|[{}[\],:]/g;
  for (const [t] of json.matchAll(token)) {
    if (t === '{' || t === '[') {
      depth++;
      atName = depth === 1 && t === '{';
    } else if (t === '}' || t === ']') depth--;
    else if (t === ',') atName = depth === 1;
    else if (t === ':') atName = false;
    else if (atName && depth === 1) names.push(JSON.parse(t) as string);
  }
  return names;
}

/** Reads the wire's `Parameters`: empty means none; otherwise a JSON object whose names do not repeat. */
export function readParameters(raw: unknown): ParameterValues | undefined {
  if (typeof raw !== 'string') throw new EcsApiError('InvalidParameter.Parameters', 'Parameters is a JSON object text.');
  if (raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new EcsApiError('InvalidParameter.Parameters', 'Parameters is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EcsApiError('InvalidParameter.Parameters', 'Parameters must be a JSON object of name → value.');
  const seen = new Set<string>();
  for (const name of topLevelNames(raw)) {
    if (seen.has(name)) throw new EcsApiError('ParameterKey.Duplicate', `Parameter ${name} appears twice in Parameters.`);
    seen.add(name);
  }
  return value as ParameterValues;
}

/**
 * Seed 000: 0 to 10 pairs, names at most 64 characters; seed 002: a name is never empty and names
 * ignore case. Values are what a script can receive: a string, number or boolean.
 */
export function checkParameterValues(values: ParameterValues | undefined): void {
  if (!values) return;
  const names = Object.keys(values);
  if (names.length > 10) throw new EcsApiError('ParameterCount.ExceedLimit', `${names.length} parameters; at most 10.`);
  const folded = new Set<string>();
  for (const name of names) {
    if (name === '') throw new EcsApiError('CmdParam.EmptyKey', 'A parameter name is empty.');
    if (name.length > 64) throw new EcsApiError('ParameterKey.ExceedLimit', `Parameter name ${name.slice(0, 16)}… is ${name.length} characters; at most 64.`);
    if (folded.has(name.toLowerCase())) throw new EcsApiError('ParameterKey.Duplicate', `Parameter ${name} is given twice (names ignore case).`);
    folded.add(name.toLowerCase());
    const v = values[name];
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw new EcsApiError('ParameterType.NotSupported', `Parameter ${name} is ${v === null ? 'null' : typeof v}; a value is a string, number or boolean.`);
  }
}

/** `{{ name }}`: spaces and line breaks around the name do not count (seed 002). */
const PLACEHOLDER = /\{\{\s*([\s\S]*?)\s*\}\}/g;

/** The custom parameter names a content defines, first spelling of each, built-in `{{ACS::…}}` left out. */
export function placeholderNames(content: string): string[] {
  const byFolded = new Map<string, string>();
  for (const m of content.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (/^acs\s*::/i.test(name)) continue;
    if (!byFolded.has(name.toLowerCase())) byFolded.set(name.toLowerCase(), name);
  }
  return [...byFolded.values()];
}

/**
 * Seed 002: letters, digits, _ and - only; at most 20 names. The 64-byte bound on one name is the
 * current RunCommand page's (its text is cut off in seed 001).
 */
export function checkPlaceholders(content: string): string[] {
  const names = placeholderNames(content);
  for (const name of names) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new EcsApiError('CmdParam.InvalidParamName', `{{${name}}}: a parameter name holds only letters, digits, _ and -.`);
    if (Buffer.byteLength(name) > 64) throw new EcsApiError('CmdParamName.ExceedLimit', `Parameter name ${name.slice(0, 16)}… is over 64 bytes.`);
  }
  if (names.length > 20) throw new EcsApiError('CmdParamCount.ExceedLimit', `The content defines ${names.length} parameters; at most 20.`);
  return names;
}

/** Seed 002: the names passed are a subset of those the content defines (ignoring case). */
export function checkParametersDefined(defined: string[], values: ParameterValues | undefined): void {
  const known = new Set(defined.map((n) => n.toLowerCase()));
  for (const name of Object.keys(values ?? {}))
    if (!known.has(name.toLowerCase())) throw new EcsApiError('Parameter.NotMatched', `Parameter ${name} is not a {{${name}}} of the command.`);
}

/**
 * ContentEncoding: PlainText or Base64 in any letter case; any other value means the operation's
 * default (RunCommand PlainText, CreateCommand Base64).
 */
export function contentEncodingOf(value: string | undefined, fallback: 'PlainText' | 'Base64'): 'PlainText' | 'Base64' {
  const v = value?.toLowerCase();
  return v === 'plaintext' ? 'PlainText' : v === 'base64' ? 'Base64' : fallback;
}

/** The script a content stands for; Base64 that does not decode is CmdContent.DecodeError (seed 001). */
export function decodeContent(content: string, encoding: 'PlainText' | 'Base64'): string {
  if (encoding === 'PlainText') return content;
  const packed = content.replace(/\s/g, '');
  if (packed.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(packed) || /=[^=]/.test(packed))
    throw new EcsApiError('CmdContent.DecodeError', 'CommandContent is not Base64.');
  return Buffer.from(packed, 'base64').toString('utf8');
}

/**
 * Content and parameters, each Base64-encoded, count together (seed 002) against 18 KB for a kept
 * command and 24 KB for one that is not (the current RunCommand page; cut off in seed 001).
 */
export function checkContentSize(script: string, values: ParameterValues | undefined, kept: boolean): void {
  const encoded = (bytes: number) => 4 * Math.ceil(bytes / 3);
  const size = encoded(Buffer.byteLength(script)) + (values ? encoded(Buffer.byteLength(JSON.stringify(values))) : 0);
  const limit = kept ? 18 * 1024 : 24 * 1024;
  if (size > limit) throw new EcsApiError('CmdContent.ExceedLimit', `Content and parameters come to ${size} bytes of Base64; the limit is ${limit}.`);
}
