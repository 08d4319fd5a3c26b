import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { NODE_TYPES } from './node-types.js';
import { EXECUTION_ERROR_CODES, NODE_ERROR_CODES } from './policies.js';
import { workflowSpecJsonSchema } from './spec.schema.js';
import { SPEC_ERROR_CODES } from './spec.types.js';
import { validateWorkflowSpec } from './spec.validator.js';

// docs/workflow-spec.md is the language reference; these tests keep it honest.
const markdown = readFileSync(new URL('../../../../../docs/workflow-spec.md', import.meta.url), 'utf8');

function jsonBlocks(text: string): string[] {
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

function completeExample(): unknown {
  const section = markdown.split(/^## Complete example$/m)[1] ?? '';
  const [block] = jsonBlocks(section);
  if (block === undefined) throw new Error('no json block under "## Complete example"');
  return JSON.parse(block);
}

describe('docs/workflow-spec.md', () => {
  it('has a complete example that validates', () => {
    expect(validateWorkflowSpec(completeExample())).toMatchObject({ valid: true, errors: [] });
  });

  it('has a complete example that a third party validates against the published schema', () => {
    expect(new Ajv2020().compile(workflowSpecJsonSchema())(completeExample())).toBe(true);
  });

  it('uses a menu, a validated input, an http.request with retry and catch, a switch, a transform, ussd.end and end in it', () => {
    const { nodes } = completeExample() as { nodes: Record<string, unknown>[] };
    const types = new Set(nodes.map((node) => node['type']));
    for (const type of ['ussd.menu', 'ussd.input', 'http.request', 'switch', 'transform', 'ussd.end', 'end']) expect(types).toContain(type);
    expect(nodes.some((node) => node['type'] === 'ussd.input' && node['validation'] !== undefined)).toBe(true);
    expect(nodes.some((node) => node['type'] === 'http.request' && node['retry'] !== undefined && node['catch'] !== undefined)).toBe(true);
  });

  it('only shows whole specs that validate', () => {
    const specs = jsonBlocks(markdown).map((block) => JSON.parse(block) as Record<string, unknown>).filter((value) => 'specVersion' in value);
    expect(specs.length).toBeGreaterThanOrEqual(2);
    for (const spec of specs) expect(validateWorkflowSpec(spec).errors).toEqual([]);
  });

  it('has a policies example that validates inside a spec', () => {
    const [block] = jsonBlocks(markdown.split(/^## Policies/m)[1] ?? '');
    const node = JSON.parse(block ?? 'null') as { id: string };
    const spec = {
      specVersion: 1,
      settings: { executionTimeoutMs: 60_000, maxSteps: 10 },
      triggers: [{ type: 'http', entry: node.id }],
      nodes: [node, { id: 'show_balance', type: 'end' }, { id: 'service_down', type: 'end' }],
    };
    expect(validateWorkflowSpec(spec).errors).toEqual([]);
  });

  it('documents every node type, static-check code and error code', () => {
    for (const { type } of NODE_TYPES) expect(markdown).toContain(`### \`${type}\``);
    for (const code of SPEC_ERROR_CODES) expect(markdown).toContain(`\`${code}\``);
    for (const code of [...Object.values(NODE_ERROR_CODES), ...Object.values(EXECUTION_ERROR_CODES)]) expect(markdown).toContain(`\`${code}`);
  });
});
