import type { WorkflowNodeBase } from '@ussd/workflow-domain';
import { BUILTIN_HANDLERS } from './handlers/index.js';
import type { NodeHandler } from './node-handler.js';

/**
 * One handler per node type. `withBuiltins()` has the ten built-in types; a new type is one
 * `register` call (plus its NodeTypeDefinition in workflow-domain for the validator).
 */
export class NodeHandlerRegistry {
  private readonly handlers = new Map<string, NodeHandler>();

  static withBuiltins(): NodeHandlerRegistry {
    const registry = new NodeHandlerRegistry();
    for (const [type, handler] of Object.entries(BUILTIN_HANDLERS)) registry.register(type, handler as NodeHandler);
    return registry;
  }

  /** Throws if `type` already has a handler: two would make behaviour depend on order. */
  register<N extends WorkflowNodeBase>(type: N['type'], handler: NodeHandler<N>): this {
    if (this.handlers.has(type)) throw new Error(`node type '${type}' already has a handler; use replace()`);
    this.handlers.set(type, handler as unknown as NodeHandler);
    return this;
  }

  /** Swaps an existing type's handler (a test double, an instrumented variant). */
  replace<N extends WorkflowNodeBase>(type: N['type'], handler: NodeHandler<N>): this {
    this.handlers.set(type, handler as unknown as NodeHandler);
    return this;
  }

  get(type: string): NodeHandler | undefined {
    return this.handlers.get(type);
  }

  types(): string[] {
    return [...this.handlers.keys()];
  }
}
