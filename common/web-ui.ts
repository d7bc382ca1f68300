/** Where the Temporal Web UI shows a workflow's history. */
export function webUiLink(temporal: { webUrl: string; namespace: string }, workflowId: string, runId?: string): string {
  const base = temporal.webUrl.replace(/\/$/, '');
  const ns = encodeURIComponent(temporal.namespace);
  return `${base}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}/history`;
}
