#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BqsyncStack, defaultRepoRoot, TemporalAuth, WorkerServiceSpec } from '../lib/bqsync-stack';

/**
 * The bqsync deployment. Settings come from CDK context: cdk.json's "bqsync" object, or
 * `-c bqsync='{"...": ...}'` / `-c bqsyncFile=path.json` on the command line.
 */
export interface DeploySettings {
  stackName?: string;
  account?: string;
  region?: string;
  vpcId?: string;
  temporalAddress: string;
  temporalNamespace: string;
  temporalAuth: TemporalAuth;
  gcpServiceAccountKey: { secret: string; field?: string };
  services: WorkerServiceSpec[];
  logRetentionDays?: number;
  stopTimeoutSeconds?: number;
  shutdownGraceSeconds?: number;
}

export function settingsFromContext(app: App): DeploySettings {
  const file = app.node.tryGetContext('bqsyncFile') as string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const raw: unknown = file ? JSON.parse(require('node:fs').readFileSync(file, 'utf8')) : app.node.tryGetContext('bqsync');
  if (!raw) throw new Error('no deployment settings: add a "bqsync" object to the context in deploy/cdk.json, or pass -c bqsyncFile=settings.json');
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as DeploySettings;
}

export function buildApp(app: App = new App()): App {
  const s = settingsFromContext(app);
  new BqsyncStack(app, s.stackName ?? 'Bqsync', {
    env: s.account || s.region ? { account: s.account, region: s.region } : undefined,
    repoRoot: defaultRepoRoot(),
    vpcId: s.vpcId,
    temporalAddress: s.temporalAddress,
    temporalNamespace: s.temporalNamespace,
    temporalAuth: s.temporalAuth,
    gcpServiceAccountKey: s.gcpServiceAccountKey,
    services: s.services,
    logRetention: s.logRetentionDays as RetentionDays | undefined,
    stopTimeoutSeconds: s.stopTimeoutSeconds,
    shutdownGraceSeconds: s.shutdownGraceSeconds,
  });
  return app;
}

if (require.main === module) buildApp().synth();
