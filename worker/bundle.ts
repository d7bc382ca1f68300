import { bundleWorkflowCode } from '@temporalio/worker';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Bundles the workflows once at build time, so that workers start without webpack. */
async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  const out = path.join(__dirname, 'workflow-bundle.js');
  await fs.writeFile(out, code);
  console.log(`workflow bundle written to ${path.relative(process.cwd(), out)} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
