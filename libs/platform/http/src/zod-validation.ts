import type { PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { type InvalidParam, ValidationProblem } from './problem-details.filter.js';

/** RFC 6901: `~` and `/` inside a segment are escaped. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/**
 * Validates one part of a request with a zod schema. Every problem becomes an entry with
 * the JSON pointer of the field, in one 400 problem+json; nothing half-valid gets through.
 */
export class ZodValidationPipe<T extends z.ZodType> implements PipeTransform<unknown, z.output<T>> {
  constructor(
    private readonly schema: T,
    private readonly part: NonNullable<InvalidParam['in']> = 'body',
  ) {}

  transform(value: unknown): z.output<T> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const errors: InvalidParam[] = result.error.issues.slice(0, 100).map((issue) => ({
      in: this.part,
      pointer: jsonPointer(issue.path),
      reason: issue.message,
    }));
    throw new ValidationProblem(errors, `The request ${this.part} is not valid.`);
  }
}

/** The OpenAPI (3.0) schema of a zod schema, for @ApiBody / @ApiResponse: one source of truth. */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', unrepresentable: 'any' }) as Record<string, unknown>;
}
