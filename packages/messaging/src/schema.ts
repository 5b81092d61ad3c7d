import { InvalidOptionError, ValidationError } from './errors.js';

/** A function that accepts a payload (returns `true` or nothing) or rejects it (returns `false` or throws). */
export type PayloadValidator = (payload: unknown) => boolean | undefined | void | Promise<boolean | undefined | void>;

/** A zod-like schema: `safeParse` returns `{ success, data }` or `{ success: false, error }`. */
export interface SafeParseSchema {
  safeParse(value: unknown): { success: true; data?: unknown } | { success: false; error?: unknown };
}

/** A Standard Schema (https://standardschema.dev): zod ≥ 3.24, valibot, arktype, … */
export interface StandardSchemaLike {
  readonly '~standard': {
    validate(value: unknown): StandardSchemaResult | Promise<StandardSchemaResult>;
  };
}
/** What a Standard Schema's `validate` returns: the value, or the issues that refuse it. */
export type StandardSchemaResult = { value: unknown; issues?: undefined } | { issues: readonly unknown[] };

export type PayloadSchema = PayloadValidator | SafeParseSchema | StandardSchemaLike;

/** Outcome of a check: the payload to hand on (a schema's output), or the reasons it was refused. */
export type CheckResult = { ok: true; value: unknown } | { ok: false; error: ValidationError };

export function assertSchema(option: string, schema: unknown): PayloadSchema {
  if (typeof schema === 'function') return schema as PayloadValidator;
  if (typeof schema === 'object' && schema !== null) {
    const standard = (schema as Partial<StandardSchemaLike>)['~standard'];
    if (typeof standard?.validate === 'function') return schema as StandardSchemaLike;
    if (typeof (schema as Partial<SafeParseSchema>).safeParse === 'function') return schema as SafeParseSchema;
  }
  throw new InvalidOptionError(option, schema, 'a validator function, a Standard Schema or an object with safeParse()');
}

/** Runs `schema` on `payload`. Never throws: a throwing validator counts as a rejection. */
export async function checkPayload(schema: PayloadSchema, topic: string, payload: unknown): Promise<CheckResult> {
  try {
    if (typeof schema === 'function') {
      const verdict = await schema(payload);
      return verdict === false ? { ok: false, error: new ValidationError(topic, []) } : { ok: true, value: payload };
    }
    if ('~standard' in schema) {
      const result = await schema['~standard'].validate(payload);
      return result.issues
        ? { ok: false, error: new ValidationError(topic, result.issues) }
        : { ok: true, value: result.value };
    }
    const result = schema.safeParse(payload);
    if (result.success) return { ok: true, value: 'data' in result ? result.data : payload };
    const issues = (result.error as { issues?: unknown } | undefined)?.issues;
    return { ok: false, error: new ValidationError(topic, Array.isArray(issues) ? issues : [], result.error) };
  } catch (error) {
    return {
      ok: false,
      error: new ValidationError(topic, [error instanceof Error ? error.message : String(error)], error),
    };
  }
}
