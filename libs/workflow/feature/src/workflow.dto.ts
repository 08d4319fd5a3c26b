import { z } from 'zod';
import { UuidParam } from '@ussd/platform-http';

/**
 * Request and response shapes of the workflow API. The zod schemas validate requests
 * (400 with a JSON pointer per invalid field) and generate the OpenAPI document.
 */
const name = z.string().trim().min(1, 'must not be empty').max(255, 'at most 255 characters');
const description = z.string().max(10_000, 'at most 10000 characters').nullable();
const tag = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'at most 64 characters')
  .regex(/^[\p{L}\p{N}_.:-]+$/u, 'letters, digits and _ . : - only');
const tags = z.array(tag).max(50, 'at most 50 tags').transform((list) => [...new Set(list)]);
const environment = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(50, 'at most 50 characters')
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, _ and - (e.g. production)')
  .nullable();
/** The spec itself is checked by the spec validator; here it only has to be a JSON object. */
const spec = z.record(z.string(), z.unknown(), { error: 'must be a JSON object' });

export const CreateWorkflowBody = z.strictObject({
  name,
  description: description.optional(),
  tags: tags.optional(),
  environment: environment.optional(),
  spec,
});
export type CreateWorkflowBody = z.output<typeof CreateWorkflowBody>;

/** A new version: omitted metadata is carried over from the newest version. */
export const AddVersionBody = CreateWorkflowBody.partial({ name: true });
export type AddVersionBody = z.output<typeof AddVersionBody>;

export const UpdateDraftBody = z
  .strictObject({ name: name.optional(), description: description.optional(), tags: tags.optional(), environment: environment.optional(), spec: spec.optional() })
  .refine((body) => Object.keys(body).length > 0, 'give at least one of name, description, tags, environment, spec');
export type UpdateDraftBody = z.output<typeof UpdateDraftBody>;

export const RollbackBody = z.strictObject({ version: z.number().int().min(1).max(1_000_000) });
export type RollbackBody = z.output<typeof RollbackBody>;

const csvOrList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))
  .pipe(z.array(tag).max(20, 'at most 20 tags'));

export const ListWorkflowsQuery = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    offset: z.coerce.number().int().min(0).max(10_000, 'at most 10000: use the cursor for deeper pages').optional(),
    cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/, 'not a cursor from a previous page').optional(),
    tags: csvOrList.optional(),
    tagMode: z.enum(['any', 'all']).default('any'),
    environment: z.string().max(50).optional(),
    createdBy: z.string().max(255).optional(),
    q: z.string().trim().min(1).max(255).optional(),
  })
  .refine((query) => !(query.offset !== undefined && query.cursor !== undefined), { message: 'use either offset or cursor, not both', path: ['cursor'] });
export type ListWorkflowsQuery = z.output<typeof ListWorkflowsQuery>;

export const DiffQuery = z.strictObject({
  from: z.coerce.number().int().min(1).max(1_000_000),
  to: z.coerce.number().int().min(1).max(1_000_000),
});
export type DiffQuery = z.output<typeof DiffQuery>;

export const WorkflowIdParam = UuidParam;
export const VersionParam = z.coerce.number({ error: 'must be a positive integer' }).int('must be a positive integer').min(1, 'must be a positive integer').max(1_000_000);

export const SpecValidation = z.object({
  valid: z.boolean(),
  errors: z.array(z.object({ pointer: z.string(), code: z.string(), message: z.string() })),
});

export const WorkflowVersionView = z.object({
  id: z.uuid(),
  workflowId: z.uuid(),
  version: z.number().int(),
  status: z.enum(['draft', 'published']),
  name: z.string(),
  description: z.string().nullable(),
  tags: z.array(z.string()),
  environment: z.string().nullable(),
  isActive: z.boolean(),
  createdBy: z.string(),
  createdAt: z.string(),
  publishedAt: z.string().nullable(),
  spec: z.record(z.string(), z.unknown()).optional(),
  validation: SpecValidation.optional(),
});
export type WorkflowVersionView = z.infer<typeof WorkflowVersionView>;

export const WorkflowPage = z.object({
  items: z.array(WorkflowVersionView),
  page: z.object({ limit: z.number(), offset: z.number().nullable(), nextCursor: z.string().nullable(), next: z.string().nullable() }),
});
export type WorkflowPage = z.infer<typeof WorkflowPage>;

export const WorkflowDiff = z.object({
  workflowId: z.uuid(),
  from: z.number(),
  to: z.number(),
  changes: z.array(z.object({ op: z.enum(['add', 'remove', 'replace']), path: z.string(), from: z.unknown().optional(), to: z.unknown().optional() })),
});
export type WorkflowDiff = z.infer<typeof WorkflowDiff>;
