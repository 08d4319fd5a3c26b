import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { type InvalidParam, ValidationProblem } from './problem-details.filter.js';

type RequestPart = NonNullable<InvalidParam['in']>;

/** RFC 6901: `~` and `/` inside a segment are escaped. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** A UUID in a path (workflow and execution ids), lower-cased as ids are stored. */
export const UuidParam = z.uuid({ error: 'must be a UUID' }).transform((id) => id.toLowerCase());

/** Which part of the request Nest hands a pipe; `custom` decorators are not request parts. */
const PARTS: Readonly<Record<string, RequestPart>> = { body: 'body', query: 'query', param: 'path' };

/**
 * The field names an object schema accepts, through `.default()`, `.optional()`, `.refine()`
 * and `.transform()`; undefined when the schema is not an object. The unknown-query guard
 * reads a route's query parameters from here, so a schema is the only list of them.
 */
export function zodObjectKeys(schema: z.ZodType): readonly string[] | undefined {
  let current: unknown = schema;
  for (let depth = 0; depth < 10; depth++) {
    if (current instanceof z.ZodObject) return Object.keys(current.shape);
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodPrefault) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** zod's issue codes in the kebab-case of the spec validator's codes. */
function issueCode(code: string): string {
  return code === 'custom' ? 'invalid' : code.replaceAll('_', '-');
}

/**
 * Validates one part of a request with a zod schema. Every problem becomes an entry
 * `{ in, pointer, code, message }` in one 400 problem+json; nothing half-valid gets through.
 * The part and, for `@Param('name')` / `@Query('name')`, the name come from Nest, so the pointer
 * of a malformed id names it (`/workflowId`), never `''`. An unknown field of an object is one
 * entry per field, pointing at it.
 */
export class ZodValidationPipe<T extends z.ZodType> implements PipeTransform<unknown, z.output<T>> {
  constructor(
    readonly schema: T,
    private readonly part?: RequestPart,
  ) {}

  transform(value: unknown, metadata?: ArgumentMetadata): z.output<T> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const part = this.part ?? PARTS[metadata?.type ?? 'body'] ?? 'body';
    const prefix = typeof metadata?.data === 'string' && metadata.data !== '' ? [metadata.data] : [];
    const errors: InvalidParam[] = result.error.issues.flatMap((issue): InvalidParam[] =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({
            in: part,
            pointer: jsonPointer([...prefix, ...issue.path, key]),
            code: part === 'body' ? 'unknown-field' : 'unknown-parameter',
            message: part === 'body' ? 'unknown field' : 'unknown parameter',
          }))
        : [{ in: part, pointer: jsonPointer([...prefix, ...issue.path]), code: issueCode(issue.code), message: issue.message }],
    );
    throw new ValidationProblem(errors.slice(0, 100), `The request ${part} is not valid.`);
  }
}

/** The OpenAPI (3.0) schema of a zod schema, for @ApiBody / @ApiResponse: one source of truth. */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', unrepresentable: 'any' }) as Record<string, unknown>;
}
