const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** One version of one workflow: the unit that executions pin. */
export interface WorkflowVersionRef {
  readonly workflowId: string;
  readonly version: number;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Parses `{workflowId}@{version}` (as written in logs and CLIs). Throws with the
 * reason when either half is malformed, so a bad id is a 400, never a database error.
 */
export function parseWorkflowVersionRef(text: string): WorkflowVersionRef {
  const at = text.lastIndexOf('@');
  const workflowId = at < 0 ? text : text.slice(0, at);
  const versionText = at < 0 ? '' : text.slice(at + 1);
  if (!isUuid(workflowId)) throw new Error(`workflow id must be a UUID, got ${JSON.stringify(workflowId.slice(0, 64))}`);
  if (!/^[1-9]\d{0,8}$/.test(versionText)) throw new Error(`version must be a positive integer, got ${JSON.stringify(versionText.slice(0, 16))}`);
  return { workflowId: workflowId.toLowerCase(), version: Number(versionText) };
}

export function formatWorkflowVersionRef(ref: WorkflowVersionRef): string {
  return `${ref.workflowId}@${ref.version}`;
}
