/**
 * The CDK app, synthesized offline (no AWS account, no Docker engine: an image asset is
 * only staged and hashed at synth time) and checked with aws-cdk-lib/assertions.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BqsyncStack, BqsyncStackProps, TemporalAuth } from '../lib/bqsync-stack';

const DEPLOY = path.join(__dirname, '..');
const REPO = path.join(DEPLOY, '..');

// Values that must never reach the template or the image: the test puts them where a
// careless build would pick them up (an .env file in the build context).
const FAKE_DB_PASSWORD = 'pw-7f3a9c-never-in-template';

/** A Docker build context like the repository's, plus an .env and node_modules that must stay out. */
function buildContext(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-cdk-ctx-'));
  for (const f of ['docker/Dockerfile', 'docker/image-steps.sh', '.dockerignore', 'package.json', 'package-lock.json', 'bqsync.yaml', 'tsconfig.json']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  }
  fs.cpSync(path.join(REPO, 'worker'), path.join(dir, 'worker'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.env'), `SHOP_MYSQL_URL=mysql://app:${FAKE_DB_PASSWORD}@db:3306/shop\n`);
  fs.mkdirSync(path.join(dir, 'node_modules', 'left-pad'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'node_modules', 'left-pad', 'index.js'), '');
  return dir;
}

const context = buildContext();

function props(over: Partial<BqsyncStackProps> = {}): BqsyncStackProps {
  return {
    repoRoot: context,
    temporalAddress: 'ns.acct.tmprl.cloud:7233',
    temporalNamespace: 'ns.acct',
    temporalAuth: { kind: 'apiKey', apiKey: { secret: 'bqsync/temporal-api-key' } },
    gcpServiceAccountKey: { secret: 'bqsync/gcp-key' },
    services: [
      {
        name: 'shop',
        configFile: 'bqsync.yaml',
        secrets: { SHOP_MYSQL_URL: { secret: 'bqsync/shop', field: 'url' } },
        egress: [{ cidr: '10.20.0.0/16', port: 3306, description: 'shop MySQL' }],
        cpu: 2048,
        memoryMiB: 4096,
        desiredCount: 2,
        minCount: 2,
        maxCount: 6,
        ephemeralStorageGiB: 60,
      },
      {
        name: 'billing',
        configFile: 'bqsync.yaml',
        secrets: { BILLING_PG_URL: { secret: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:bqsync/billing-AbCdEf' } },
        egress: [{ cidr: '10.30.1.0/24', port: 5432 }],
      },
    ],
    logRetention: 14,
    ...over,
  };
}

function synth(over: Partial<BqsyncStackProps> = {}): { template: Template; outdir: string; stack: BqsyncStack } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-cdk-out-'));
  const app = new App({ outdir });
  const stack = new BqsyncStack(app, 'Test', props(over));
  const template = Template.fromStack(stack);
  app.synth();
  return { template, outdir, stack };
}

type Resource = { Type: string; Properties: Record<string, any> };
const resources = (t: Template, type: string): [string, Resource][] =>
  Object.entries(t.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
const workerContainers = (t: Template) =>
  resources(t, 'AWS::ECS::TaskDefinition')
    .map(([, r]) => r.Properties.ContainerDefinitions[0])
    .filter((c) => c.Name === 'worker');
const containerNamed = (t: Template, name: string, service: string) =>
  resources(t, 'AWS::ECS::TaskDefinition')
    .filter(([id]) => id.includes(service.replace(/-/g, '')))
    .map(([, r]) => r.Properties.ContainerDefinitions[0])
    .find((c) => c.Name === name);

const { template, outdir } = synth();

test('the image is built from docker/Dockerfile (worker target, the service config as build arg), staged without .env or node_modules', () => {
  const assets = JSON.parse(fs.readFileSync(path.join(outdir, 'Test.assets.json'), 'utf8'));
  const images = Object.values(assets.dockerImages) as { source: { directory: string; dockerFile: string; dockerBuildTarget: string; dockerBuildArgs: Record<string, string> } }[];
  expect(images.length).toBeGreaterThanOrEqual(1);
  for (const { source } of images) {
    expect(source.dockerFile).toBe('docker/Dockerfile');
    expect(source.dockerBuildTarget).toBe('worker');
    expect(source.dockerBuildArgs).toEqual({ BQSYNC_CONFIG_FILE: 'bqsync.yaml' });
    const staged = path.join(outdir, source.directory);
    expect(fs.existsSync(path.join(staged, 'docker', 'Dockerfile'))).toBe(true);
    expect(fs.existsSync(path.join(staged, 'worker'))).toBe(true);
    // .dockerignore keeps local secrets and dependencies out of the build context.
    expect(fs.existsSync(path.join(staged, '.env'))).toBe(false);
    expect(fs.existsSync(path.join(staged, 'node_modules'))).toBe(false);
  }
  for (const c of workerContainers(template)) expect(JSON.stringify(c.Image)).toContain('cdk-hnb659fds-container-assets');
});

test('one Fargate service per worker spec, with CPU, memory, storage and desired count from props', () => {
  template.resourceCountIs('AWS::ECS::Service', 2);
  template.hasResourceProperties('AWS::ECS::TaskDefinition', {
    Cpu: '2048',
    Memory: '4096',
    EphemeralStorage: { SizeInGiB: 60 },
    RequiresCompatibilities: ['FARGATE'],
    ContainerDefinitions: [Match.objectLike({ Name: 'worker', Command: ['worker'] })],
  });
  template.hasResourceProperties('AWS::ECS::TaskDefinition', {
    Cpu: '1024',
    Memory: '2048',
    ContainerDefinitions: [Match.objectLike({ Name: 'worker' })],
  });
  template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2, LaunchType: 'FARGATE' });
  template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 1, LaunchType: 'FARGATE' });
});

test('auto scaling on CPU between the min and max counts', () => {
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6, ScalableDimension: 'ecs:service:DesiredCount' });
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 4 });
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: Match.objectLike({
      PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      TargetValue: 60,
    }),
  });
});

test('source URLs, the GCP key and the Temporal API key come from Secrets Manager as secrets, not environment', () => {
  const shop = containerNamed(template, 'worker', 'shop');
  const billing = containerNamed(template, 'worker', 'billing');
  const secretNames = (c: { Secrets: { Name: string }[] }) => c.Secrets.map((s) => s.Name).sort();
  // Each service gets only its own sources' secrets.
  expect(secretNames(shop)).toEqual(['GOOGLE_APPLICATION_CREDENTIALS_JSON', 'SHOP_MYSQL_URL', 'TEMPORAL_API_KEY']);
  expect(secretNames(billing)).toEqual(['BILLING_PG_URL', 'GOOGLE_APPLICATION_CREDENTIALS_JSON', 'TEMPORAL_API_KEY']);
  const shopUrl = shop.Secrets.find((s: { Name: string }) => s.Name === 'SHOP_MYSQL_URL');
  // A JSON field of a secret by name: ECS's valueFrom "<arn>:url::".
  expect(JSON.stringify(shopUrl.ValueFrom)).toMatch(/secret:bqsync\/shop.*:url::/);
  const billingUrl = billing.Secrets.find((s: { Name: string }) => s.Name === 'BILLING_PG_URL');
  expect(billingUrl.ValueFrom).toBe('arn:aws:secretsmanager:eu-west-1:111111111111:secret:bqsync/billing-AbCdEf');
  for (const c of workerContainers(template)) {
    const envNames = c.Environment.map((e: { Name: string }) => e.Name);
    for (const secret of ['SHOP_MYSQL_URL', 'BILLING_PG_URL', 'TEMPORAL_API_KEY', 'GOOGLE_APPLICATION_CREDENTIALS_JSON']) expect(envNames).not.toContain(secret);
  }
});

test('no plaintext secret anywhere in the template', () => {
  const text = JSON.stringify(template.toJSON());
  expect(text).not.toContain(FAKE_DB_PASSWORD);
  expect(text).not.toMatch(/-----BEGIN/);
  expect(text).not.toMatch(/(mysql|postgres(ql)?):\/\/[^"]*:[^"]*@/);
  // Every plain environment value is a known, non-secret setting.
  const allowed = new Set(['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'BQSYNC_LOG_FORMAT', 'BQSYNC_LOG_LEVEL', 'BQSYNC_SHUTDOWN_GRACE_SECONDS', 'BQSYNC_METRICS_PORT', 'BQSYNC_HEALTH_FILE', 'BQSYNC_SCALE_IN_IDLE_SECONDS']);
  for (const [, td] of resources(template, 'AWS::ECS::TaskDefinition')) {
    for (const c of td.Properties.ContainerDefinitions) for (const e of c.Environment ?? []) expect(allowed).toContain(e.Name);
  }
});

test('CloudWatch Logs with retention, one log group per service', () => {
  template.resourceCountIs('AWS::Logs::LogGroup', 2);
  template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/bqsync/shop', RetentionInDays: 14 });
  for (const c of workerContainers(template)) {
    expect(c.LogConfiguration.LogDriver).toBe('awslogs');
    expect(c.LogConfiguration.Options['awslogs-stream-prefix']).toBe('worker');
  }
});

test('stop timeout 120 s above the 90 s shutdown grace; health check, read-only root, writable /tmp', () => {
  for (const c of workerContainers(template)) {
    expect(c.StopTimeout).toBe(120);
    expect(c.Environment).toContainEqual({ Name: 'BQSYNC_SHUTDOWN_GRACE_SECONDS', Value: '90' });
    expect(c.HealthCheck.Command).toEqual(['CMD', 'node', '/app/dist/worker/healthcheck.js']);
    expect(c.ReadonlyRootFilesystem).toBe(true);
    expect(c.MountPoints).toContainEqual({ ContainerPath: '/tmp', ReadOnly: false, SourceVolume: 'tmp' });
  }
});

test('a grace period that leaves no time to exit before the stop timeout is refused', () => {
  expect(() => synth({ shutdownGraceSeconds: 110 })).toThrow(/shutdownGraceSeconds 110 must be at most stopTimeoutSeconds 120 - 15/);
  expect(() => synth({ stopTimeoutSeconds: 180 })).toThrow(/above Fargate's limit of 120/);
});

test('tasks run in private subnets without public IPs', () => {
  const subnets = Object.fromEntries(resources(template, 'AWS::EC2::Subnet').map(([id, r]) => [id, r.Properties.MapPublicIpOnLaunch]));
  for (const [, svc] of resources(template, 'AWS::ECS::Service')) {
    const net = svc.Properties.NetworkConfiguration.AwsvpcConfiguration;
    expect(net.AssignPublicIp).toBe('DISABLED');
    for (const ref of net.Subnets) expect(subnets[ref.Ref]).toBe(false);
  }
});

test('security groups: no ingress; egress only HTTPS, Temporal and the service own databases', () => {
  const groups = resources(template, 'AWS::EC2::SecurityGroup').filter(([id]) => id.startsWith('Service'));
  expect(groups).toHaveLength(2);
  const egress = (service: string) =>
    groups
      .find(([id]) => id.startsWith(`Service${service}`))![1]
      .Properties.SecurityGroupEgress.map((e: { CidrIp: string; FromPort: number; ToPort: number; IpProtocol: string }) => `${e.IpProtocol} ${e.CidrIp} ${e.FromPort}-${e.ToPort}`)
      .sort();
  expect(egress('shop')).toEqual(['tcp 0.0.0.0/0 443-443', 'tcp 0.0.0.0/0 7233-7233', 'tcp 10.20.0.0/16 3306-3306']);
  expect(egress('billing')).toEqual(['tcp 0.0.0.0/0 443-443', 'tcp 0.0.0.0/0 7233-7233', 'tcp 10.30.1.0/24 5432-5432']);
  for (const [, g] of groups) expect(g.Properties.SecurityGroupIngress).toBeUndefined();
  template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
});

test('IAM: reads only the named secrets, no wildcard except the ECR token, task roles with the task-protection policy alone', () => {
  const policies = resources(template, 'AWS::IAM::Policy');
  const statements = policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
  for (const s of statements) {
    const actions = ([] as string[]).concat(s.Action);
    expect(actions.some((a) => a === '*' || a.endsWith(':*'))).toBe(false);
    if (s.Resource === '*') expect(actions).toEqual(['ecr:GetAuthorizationToken']);
  }
  const secretReads = statements.filter((s) => ([] as string[]).concat(s.Action).includes('secretsmanager:GetSecretValue'));
  expect(secretReads.length).toBeGreaterThan(0);
  for (const s of secretReads) expect(JSON.stringify(s.Resource)).toMatch(/secret:bqsync\//);
  // The worker calls no AWS API itself; its task role lets the ECS agent set the task's
  // scale-in protection, and nothing else.
  const taskRoles = resources(template, 'AWS::ECS::TaskDefinition').map(([, r]) => r.Properties.TaskRoleArn['Fn::GetAtt'][0]);
  for (const role of taskRoles) {
    const attached = policies.filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`));
    const actions = attached.flatMap(([, p]) => (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((st) => ([] as string[]).concat(st.Action)));
    expect(actions.filter((a) => !['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'].includes(a))).toEqual([]);
  }
});

describe('scale-in stops a task mid-sync', () => {
  const workerRoles = () =>
    resources(template, 'AWS::ECS::TaskDefinition')
      .filter(([, r]) => (r.Properties.ContainerDefinitions as { Name: string }[]).some((c) => c.Name === 'worker'))
      .map(([, r]) => r.Properties.TaskRoleArn['Fn::GetAtt'][0] as string);

  test("each worker's task role may set its own task's scale-in protection, on the tasks of its cluster only", () => {
    const policies = resources(template, 'AWS::IAM::Policy');
    expect(workerRoles()).toHaveLength(2);
    for (const role of workerRoles()) {
      const statements = policies
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[]);
      const protection = statements.find((st) => ([] as string[]).concat(st.Action).includes('ecs:UpdateTaskProtection'));
      expect(protection).toBeDefined();
      const resource = JSON.stringify(protection!.Resource);
      expect(resource).toContain(':task/');
      expect(resource).toContain('"Ref":"Cluster'); // the stack's cluster, not every cluster
      expect(resource).not.toBe('"*"');
    }
  });

  test('the worker gets the idle time after which it clears the protection, shorter than the scale-in cooldown', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'worker', Environment: Match.arrayWith([{ Name: 'BQSYNC_SCALE_IN_IDLE_SECONDS', Value: '120' }]) })],
    });
    const cooldowns = resources(template, 'AWS::ApplicationAutoScaling::ScalingPolicy').map(
      ([, p]) => p.Properties.TargetTrackingScalingPolicyConfiguration.ScaleInCooldown as number,
    );
    expect(cooldowns.length).toBe(2);
    for (const c of cooldowns) expect(c).toBeGreaterThan(120);
  });
});

test('Temporal Cloud by API key, by mTLS, or a self-hosted address without secrets', () => {
  for (const c of workerContainers(template)) {
    expect(c.Environment).toContainEqual({ Name: 'TEMPORAL_ADDRESS', Value: 'ns.acct.tmprl.cloud:7233' });
    expect(c.Environment).toContainEqual({ Name: 'TEMPORAL_NAMESPACE', Value: 'ns.acct' });
  }
  const mtls: TemporalAuth = { kind: 'mtls', cert: { secret: 'bqsync/temporal-mtls', field: 'cert' }, key: { secret: 'bqsync/temporal-mtls', field: 'key' } };
  const withMtls = synth({ temporalAuth: mtls }).template;
  const names = workerContainers(withMtls)[0].Secrets.map((s: { Name: string }) => s.Name);
  expect(names).toEqual(expect.arrayContaining(['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY']));
  expect(names).not.toContain('TEMPORAL_API_KEY');
  const selfHosted = synth({ temporalAuth: { kind: 'none' }, temporalAddress: 'temporal.internal:7233' }).template;
  const c = workerContainers(selfHosted)[0];
  expect(c.Secrets.map((s: { Name: string }) => s.Name).filter((n: string) => n.startsWith('TEMPORAL'))).toEqual([]);
  expect(c.Environment).toContainEqual({ Name: 'TEMPORAL_ADDRESS', Value: 'temporal.internal:7233' });
});

test('schedule apply is a one-off task definition with the same image and only the Temporal secrets', () => {
  const apply = containerNamed(template, 'schedule-apply', 'shop');
  expect(apply.Command).toEqual(['schedule', 'apply']);
  expect(apply.Secrets.map((s: { Name: string }) => s.Name)).toEqual(['TEMPORAL_API_KEY']);
  expect(JSON.stringify(apply.Image)).toBe(JSON.stringify(containerNamed(template, 'worker', 'shop').Image));
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  const command = Object.entries(outputs).find(([k]) => k.includes('shop') && k.includes('ScheduleApplyCommand'));
  expect(JSON.stringify(command?.[1].Value)).toContain('aws ecs run-task --launch-type FARGATE');
});

test('cdk synth of the app works offline from deploy/cdk.json', () => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [DEPLOY] }), '-p', DEPLOY], { stdio: 'pipe' });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-cdk-synth-'));
  const cdk = require.resolve('aws-cdk/bin/cdk', { paths: [DEPLOY] });
  execFileSync(process.execPath, [cdk, 'synth', '--no-notices', '--quiet', '--output', out], {
    cwd: DEPLOY,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' },
    stdio: 'pipe',
    timeout: 120_000,
  });
  const synthesized = JSON.parse(fs.readFileSync(path.join(out, 'Bqsync.template.json'), 'utf8'));
  const services = Object.values(synthesized.Resources as Record<string, Resource>).filter((r) => r.Type === 'AWS::ECS::Service');
  expect(services).toHaveLength(1);
  expect(services[0].Properties.DesiredCount).toBe(2);
  // And without the CDK CLI: the compiled app reads deploy/cdk.json itself.
  const direct = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-cdk-direct-'));
  execFileSync(process.execPath, [path.join(DEPLOY, 'dist', 'bin', 'app.js')], { env: { ...process.env, CDK_OUTDIR: direct }, stdio: 'pipe' });
  // The same resources; the CLI only adds path metadata and version reporting.
  const bare = (resources: Record<string, Resource & { Metadata?: unknown }>) =>
    Object.fromEntries(Object.entries(resources).filter(([id]) => id !== 'CDKMetadata').map(([id, { Metadata: _m, ...r }]) => [id, r]));
  const directTemplate = JSON.parse(fs.readFileSync(path.join(direct, 'Bqsync.template.json'), 'utf8'));
  expect(bare(directTemplate.Resources)).toEqual(bare(synthesized.Resources));
});
