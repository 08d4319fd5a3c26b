import { compileExpression, parseTemplate } from './expressions.js';
import type { NodeTypeIndex } from './graph-checks.js';
import { pointer } from './json-pointer.js';
import type { SpecErrorList } from './spec-errors.js';
import type { ErrorPattern, WorkflowNodeBase, WorkflowSpec } from './spec.types.js';

/** Per node: its expressions parse, its type's own checks, and no retry/catch rule hides behind a `*`. */
export function checkNodes(spec: WorkflowSpec<WorkflowNodeBase>, nodeTypes: NodeTypeIndex, errors: SpecErrorList): void {
  spec.nodes.forEach((node, index) => {
    const nodeType = nodeTypes.get(node.type);
    if (nodeType === undefined) return;
    const at = pointer('nodes', index);
    for (const { pointer: field, source, kind } of nodeType.expressions(node)) {
      const parsed = kind === 'expression' ? compileExpression(source) : parseTemplate(source);
      if (!parsed.ok) {
        const where = parsed.position === undefined ? '' : ` (character ${parsed.position})`;
        errors.add({ pointer: `${at}${field}`, code: parsed.problem, message: `${parsed.message}${where}` });
      }
    }
    for (const issue of nodeType.check?.(node) ?? []) {
      errors.add({ pointer: `${at}${issue.pointer}`, code: issue.code, message: issue.message });
    }
    checkRuleOrder(node.retry, `${at}/retry`, errors);
    checkRuleOrder(node.catch, `${at}/catch`, errors);
  });
}

/** Rules are tried in order, so everything after a catch-all is dead (Step Functions refuses it too). */
function checkRuleOrder(rules: readonly { readonly errors: readonly ErrorPattern[] }[] | undefined, at: string, errors: SpecErrorList): void {
  const catchAll = rules?.findIndex((rule) => rule.errors.includes('*')) ?? -1;
  if (catchAll < 0 || rules === undefined) return;
  for (let index = catchAll + 1; index < rules.length; index += 1) {
    errors.add({
      pointer: `${at}/${index}`,
      code: 'policy',
      message: `rule ${index} can never apply: rule ${catchAll} matches every error ('*'), so it must come last`,
    });
  }
}
