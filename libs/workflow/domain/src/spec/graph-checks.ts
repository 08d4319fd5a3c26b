import { pointer } from './json-pointer.js';
import type { NodeEdge, NodeTypeDefinition } from './node-type.js';
import type { SpecErrorList } from './spec-errors.js';
import type { WorkflowNodeBase, WorkflowSpec } from './spec.types.js';

export type NodeTypeIndex = ReadonlyMap<string, NodeTypeDefinition>;

/** A node's edges: those of its type, then its catch rules'. Pointers are relative to the node. */
export function nodeEdges(node: WorkflowNodeBase, nodeType: NodeTypeDefinition): NodeEdge[] {
  const caught = (node.catch ?? []).map((rule, index) => ({ pointer: pointer('catch', index, 'next'), target: rule.next }));
  return [...nodeType.successors(node), ...caught];
}

/**
 * Ids, edges and triggers, then reachability and termination. The last two run only once
 * every reference resolves: with a typo in an edge they would blame innocent nodes.
 * The spec has passed the schema, so every node's type is in `nodeTypes`.
 */
export function checkGraph(spec: WorkflowSpec<WorkflowNodeBase>, nodeTypes: NodeTypeIndex, errors: SpecErrorList): void {
  const indexById = new Map<string, number>();
  let resolved = true;
  spec.nodes.forEach((node, index) => {
    if (indexById.has(node.id)) {
      resolved = false;
      errors.add({ pointer: pointer('nodes', index, 'id'), code: 'duplicate-node-id', message: `node id '${node.id}' is used twice` });
    } else {
      indexById.set(node.id, index);
    }
  });

  const successors: number[][] = spec.nodes.map((node, index) =>
    nodeEdges(node, typeOf(node, nodeTypes)).flatMap((edge) => {
      const target = indexById.get(edge.target);
      if (target !== undefined) return [target];
      resolved = false;
      errors.add({ pointer: `${pointer('nodes', index)}${edge.pointer}`, code: 'unknown-node', message: `'${edge.target}' is not a node id` });
      return [];
    }),
  );

  const entries = checkTriggers(spec, indexById, errors);
  if (!resolved || entries.length !== spec.triggers.length) return;

  const reached = walk(entries, successors);
  spec.nodes.forEach((node, index) => {
    if (!reached.has(index)) {
      errors.add({ pointer: pointer('nodes', index), code: 'unreachable', message: `node '${node.id}' cannot be reached from any trigger` });
    }
  });

  const predecessors: number[][] = spec.nodes.map(() => []);
  successors.forEach((targets, from) => targets.forEach((to) => predecessors[to]?.push(from)));
  const terminals = spec.nodes.flatMap((node, index) => (typeOf(node, nodeTypes).terminal ? [index] : []));
  const finishing = walk(terminals, predecessors);
  const endTypes = [...nodeTypes.values()].filter((nodeType) => nodeType.terminal).map((nodeType) => nodeType.type);
  spec.nodes.forEach((node, index) => {
    if (reached.has(index) && !finishing.has(index)) {
      errors.add({
        pointer: pointer('nodes', index),
        code: 'no-path-to-end',
        message: `no path from node '${node.id}' reaches an end node (${endTypes.join(', ')})`,
      });
    }
  });
}

/** Returns the entry node index of every trigger whose entry exists. */
function checkTriggers(spec: WorkflowSpec<WorkflowNodeBase>, indexById: ReadonlyMap<string, number>, errors: SpecErrorList): number[] {
  const entries: number[] = [];
  const claims = new Set<string>();
  let httpTriggers = 0;
  spec.triggers.forEach((trigger, index) => {
    const entry = indexById.get(trigger.entry);
    if (entry === undefined) {
      errors.add({ pointer: pointer('triggers', index, 'entry'), code: 'entry', message: `entry '${trigger.entry}' is not a node id` });
    } else {
      entries.push(entry);
    }
    switch (trigger.type) {
      case 'http':
        httpTriggers += 1;
        if (httpTriggers > 1) {
          errors.add({ pointer: pointer('triggers', index), code: 'entry', message: 'a second http trigger would give an API call two entry nodes' });
        }
        break;
      case 'ussd':
        trigger.environments.forEach((environment, position) => {
          const claim = `${trigger.serviceCode} ${environment}`;
          if (claims.has(claim)) {
            errors.add({
              pointer: pointer('triggers', index, 'environments', position),
              code: 'duplicate-ussd-claim',
              message: `${trigger.serviceCode} in ${environment} already has an entry node`,
            });
          }
          claims.add(claim);
        });
        break;
    }
  });
  return entries;
}

function typeOf(node: WorkflowNodeBase, nodeTypes: NodeTypeIndex): NodeTypeDefinition {
  const nodeType = nodeTypes.get(node.type);
  if (nodeType === undefined) throw new Error(`node type '${node.type}' passed the schema but is not registered`);
  return nodeType;
}

function walk(starts: readonly number[], edges: readonly (readonly number[])[]): Set<number> {
  const seen = new Set(starts);
  const pending = [...starts];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    for (const next of edges[current] ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        pending.push(next);
      }
    }
  }
  return seen;
}
