#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
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
  const raw: unknown = file ? JSON.parse(fs.readFileSync(file, 'utf8')) : (app.node.tryGetContext('bqsync') ?? cdkJsonSettings());
  if (!raw) throw new Error('no deployment settings: add a "bqsync" object to the context in deploy/cdk.json, or pass -c bqsyncFile=settings.json');
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as DeploySettings;
}

/** Run as `node dist/bin/app.js` (no CDK CLI to pass the context): the settings in deploy/cdk.json. */
function cdkJsonSettings(): unknown {
  const compiled = path.basename(path.dirname(__dirname)) === 'dist';
  const file = path.join(__dirname, compiled ? '../..' : '..', 'cdk.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).context?.bqsync : undefined;
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
