import fc from 'fast-check';
import { diffSpecs, type SpecDiffOperation } from './spec.diff.js';
import { validSpecArbitrary } from './spec.test-helpers.js';

/** Applies index-based operations as a JSON Patch (RFC 6902 add/remove/replace). */
function applyPatch(document: unknown, operations: readonly SpecDiffOperation[]): unknown {
  let root = structuredClone(document);
  for (const operation of operations) {
    const tokens = operation.path === '' ? [] : operation.path.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop();
    if (last === undefined) {
      root = operation.to;
      continue;
    }
    const parent = tokens.reduce<unknown>((value, token) => (value as Record<string, unknown>)[token], root);
    if (Array.isArray(parent)) {
      if (operation.op === 'add') parent.splice(Number(last), 0, operation.to);
      else if (operation.op === 'remove') parent.splice(Number(last), 1);
      else parent[Number(last)] = operation.to;
    } else {
      const record = parent as Record<string, unknown>;
      if (operation.op === 'remove') delete record[last];
      else Object.defineProperty(record, last, { value: operation.to, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

const hasIdArrays = (value: unknown): boolean => JSON.stringify(value).includes('"id":');

describe('diffSpecs', () => {
  it('reports changed, added and removed fields with escaped pointers, keys in order', () => {
    const before = { settings: { maxSteps: 10, executionTimeoutMs: 1000 }, 'a/b': 1, 'c~d': 2 };
    const after = { settings: { maxSteps: 20, executionTimeoutMs: 1000 }, 'a/b': 1, extra: true };
    expect(diffSpecs(before, after)).toEqual([
      { op: 'remove', path: '/c~0d', from: 2 },
      { op: 'add', path: '/extra', to: true },
      { op: 'replace', path: '/settings/maxSteps', from: 10, to: 20 },
    ]);
  });

  it('matches nodes by id: reordering is not a change, edits are field by field', () => {
    const a = { nodes: [{ id: 'menu', type: 'ussd.menu', text: 'Hi' }, { id: 'old', type: 'end' }, { id: 'bye', type: 'end' }] };
    const b = { nodes: [{ id: 'bye', type: 'end' }, { id: 'menu', type: 'ussd.menu', text: 'Hello' }, { id: 'new', type: 'end' }] };
    expect(diffSpecs(a, b)).toEqual([
      { op: 'remove', path: '/nodes/1', from: { id: 'old', type: 'end' } },
      { op: 'replace', path: '/nodes/1/text', from: 'Hi', to: 'Hello' },
      { op: 'add', path: '/nodes/2', to: { id: 'new', type: 'end' } },
    ]);
  });

  it('falls back to indexes when ids repeat or are missing', () => {
    const a = { nodes: [{ id: 'x', v: 1 }, { id: 'x', v: 2 }] };
    const b = { nodes: [{ id: 'x', v: 2 }] };
    expect(diffSpecs(a, b)).toEqual([
      { op: 'replace', path: '/nodes/0/v', from: 1, to: 2 },
      { op: 'remove', path: '/nodes/1', from: { id: 'x', v: 2 } },
    ]);
  });

  it('replaces a value whose kind changed', () => {
    expect(diffSpecs({ a: [1] }, { a: { 0: 1 } })).toEqual([{ op: 'replace', path: '/a', from: [1], to: { 0: 1 } }]);
    expect(diffSpecs(1, 'x')).toEqual([{ op: 'replace', path: '', from: 1, to: 'x' }]);
  });

  it('finds nothing between a spec and its copy', () => {
    fc.assert(
      fc.property(validSpecArbitrary(), (spec) => diffSpecs(spec, structuredClone(spec)).length === 0),
      { numRuns: 100 },
    );
  });

  it('is deterministic, and for documents without id arrays applies as a JSON Patch', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), (a, b) => {
        fc.pre(!hasIdArrays(a) && !hasIdArrays(b));
        const operations = diffSpecs(a, b);
        expect(diffSpecs(a, b)).toEqual(operations);
        expect(applyPatch(a, operations)).toEqual(b);
      }),
      { numRuns: 1000 },
    );
  });

  it('describes an edit of one node of a generated spec as changes under that node only', () => {
    fc.assert(
      fc.property(validSpecArbitrary(), fc.nat(), (spec, choice) => {
        const index = choice % spec.nodes.length;
        const edited = { ...spec, nodes: spec.nodes.map((node, i) => (i === index ? { ...node, name: `${node.name ?? ''}!` } : node)) };
        expect(diffSpecs(spec, edited).map((operation) => operation.path)).toEqual([`/nodes/${index}/name`]);
      }),
      { numRuns: 100 },
    );
  });
});
