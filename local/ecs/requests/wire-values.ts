/**
 * Values as the RPC wire carries them: every parameter is a string (`Timeout=60`, `KeepCommand=true`),
 * lists arrive as `Name.N` and `Name.N.Field`, which `structureParams` (../wire.ts) has already gathered
 * into arrays. The emulator reads only this form; it never sees a typed request.
 */
import { z } from 'zod';
import { EcsApiError, type EcsErrorCode } from '../api-error.ts';

/** `true` / `false` in any letter case; anything else is not a boolean (an assumption: the seeds name only the type). */
export const wireBoolean = z
  .string()
  .regex(/^(true|false)$/i, 'must be true or false')
  .transform((s) => s.toLowerCase() === 'true');

/** Seeds 000/001 type Timeout as Long/integer: decimal digits with an optional minus sign, nothing else. */
export const wireInteger = z
  .string()
  .regex(/^-?\d+$/, 'must be a whole number')
  .transform(Number);

export const wireText = z.string();

/** `InstanceId.N`: the gathered list of ids, none of them empty. */
export const instanceIds = z.array(z.string().min(1, 'an instance id is not empty'));

/** `Tag.N.Key` / `Tag.N.Value` and `ResourceTag.N.*`. */
export const wireTag = z.object({ Key: z.string().optional(), Value: z.string().optional() });
export type WireTag = z.infer<typeof wireTag>;
export const wireTags = z.array(wireTag);

/** How a field is read: a zod schema, or a reader that throws the API's own error for what it refuses. */
export type FieldReader = z.ZodType | ((raw: unknown) => unknown);

export interface FieldSpec<R extends FieldReader = FieldReader, Req extends boolean = boolean> {
  read: R;
  required: Req;
  /** The code for a required field that is absent or empty; default MissingParameter. */
  missing?: EcsErrorCode | undefined;
  /** The code for a value of the wrong form; default InvalidParameter. */
  invalid?: EcsErrorCode | undefined;
  /** A required field sent as '' is read like any value (its own check refuses it later). */
  emptyIsValue?: boolean | undefined;
}

type ValueOf<R> = R extends z.ZodType ? z.output<R> : R extends (raw: unknown) => infer V ? V : never;
export type Fields<S extends Record<string, FieldSpec>> = {
  [K in keyof S]: S[K] extends FieldSpec<infer R, infer Req> ? (Req extends true ? ValueOf<R> : ValueOf<R> | undefined) : never;
};

export function optional<R extends FieldReader>(read: R, invalid?: EcsErrorCode): FieldSpec<R, false> {
  return { read, required: false, invalid };
}
export function required<R extends FieldReader>(read: R, missing?: EcsErrorCode, options?: { emptyIsValue?: boolean }): FieldSpec<R, true> {
  return { read, required: true, missing, emptyIsValue: options?.emptyIsValue };
}

/**
 * Reads the request's fields in the order the operation's document lists them; the first one that is
 * missing or malformed is the answer. A required field sent empty counts as missing; absent optional
 * fields stay absent.
 */
export function readFields<S extends Record<string, FieldSpec>>(params: Record<string, unknown>, spec: S): Fields<S> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec)) {
    const raw = params[name];
    if (raw === undefined || (field.required && raw === '' && !field.emptyIsValue)) {
      if (field.required) throw new EcsApiError(field.missing ?? 'MissingParameter', `${name} is required.`);
      continue;
    }
    if (!(field.read instanceof z.ZodType)) {
      out[name] = field.read(raw);
      continue;
    }
    const parsed = field.read.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new EcsApiError(field.invalid ?? 'InvalidParameter', `${[name, ...issue.path].join('.')}: ${issue.message}`);
    }
    out[name] = parsed.data;
  }
  return out as Fields<S>;
}
