import { formatWorkflowVersionRef, isUuid, parseWorkflowVersionRef } from './workflow-ref.js';

describe('workflow version refs', () => {
  const id = '3f1c2a9e-8d4b-4c1a-9b2e-0f6a7c5d4e3b';

  it('round-trips id@version and lower-cases the id', () => {
    const ref = parseWorkflowVersionRef(`${id.toUpperCase()}@12`);
    expect(ref).toEqual({ workflowId: id, version: 12 });
    expect(formatWorkflowVersionRef(ref)).toBe(`${id}@12`);
  });

  it.each([
    ['no version', id, /version must be a positive integer/],
    ['version zero', `${id}@0`, /version must be a positive integer/],
    ['a non-uuid id', 'wf-1@1', /workflow id must be a UUID/],
    ['sql in the id', `'; DROP TABLE workflows; --@1`, /workflow id must be a UUID/],
    ['a huge version', `${id}@99999999999`, /version must be a positive integer/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseWorkflowVersionRef(text)).toThrow(message);
  });

  it('recognises UUIDs', () => {
    expect(isUuid(id)).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
  });
});
