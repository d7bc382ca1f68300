import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** A secret in Secrets Manager: its name or ARN, and a JSON key when the secret is a JSON object. */
export interface SecretRef {
  secret: string;
  field?: string;
}

/** Where a worker may connect to besides HTTPS: a source database, given as CIDR and port. */
export interface EgressRule {
  cidr: string;
  port: number;
  description?: string;
}

/**
 * One worker service: its own config file (so its own pipelines and task queue), image,
 * secrets, network rules and roles. Sources that need isolation get a service each.
 */
export interface WorkerServiceSpec {
  /** Short name, used in resource names: letters, digits and dashes. */
  name: string;
  /** Config file, relative to the repository root; baked into this service's image. */
  configFile: string;
  /** Environment variables from Secrets Manager: the source URLs the config names (e.g. SHOP_MYSQL_URL). */
  secrets: Record<string, SecretRef>;
  /** Source databases this service reads (besides HTTPS to BigQuery and Temporal). */
  egress: EgressRule[];
  /** Fargate CPU units (256 = 1/4 vCPU) and memory in MiB; a valid Fargate pair. */
  cpu?: number;
  memoryMiB?: number;
  desiredCount?: number;
  minCount?: number;
  maxCount?: number;
  /** Task storage for staging files, in GiB (21-200; Fargate gives 20 by default). */
  ephemeralStorageGiB?: number;
  /** Extra plain environment variables (no secrets). */
  environment?: Record<string, string>;
}

export type TemporalAuth =
  | { kind: 'none' }
  | { kind: 'apiKey'; apiKey: SecretRef }
  | { kind: 'mtls'; cert: SecretRef; key: SecretRef };

export interface BqsyncStackProps extends StackProps {
  /** The repository root: the Docker build context of docker/Dockerfile. */
  repoRoot: string;
  /** Temporal frontend, host:port (Temporal Cloud: <namespace>.<account>.tmprl.cloud:7233). */
  temporalAddress: string;
  temporalNamespace: string;
  temporalAuth: TemporalAuth;
  /** The GCP service account key (JSON) for BigQuery. */
  gcpServiceAccountKey: SecretRef;
  services: WorkerServiceSpec[];
  /** An existing VPC; a new one (2 AZs, one NAT gateway) when absent. */
  vpcId?: string;
  logRetention?: logs.RetentionDays;
  /** Seconds ECS waits after SIGTERM before SIGKILL; Fargate allows at most 120. */
  stopTimeoutSeconds?: number;
  /** Seconds running activities get after SIGTERM; must leave the worker time to exit before the stop timeout. */
  shutdownGraceSeconds?: number;
  /** Port of the worker's Prometheus endpoint. */
  metricsPort?: number;
  /**
   * Seconds a worker must be idle before it clears its task's scale-in protection; shorter
   * than the scale-in cooldown, so that an idle task can go at the next scale-in.
   */
  scaleInIdleSeconds?: number;
}

export const DEFAULTS = {
  cpu: 1024,
  memoryMiB: 2048,
  desiredCount: 1,
  minCount: 1,
  maxCount: 4,
  stopTimeoutSeconds: 120,
  shutdownGraceSeconds: 90,
  metricsPort: 9464,
  scaleInIdleSeconds: 120,
  logRetention: logs.RetentionDays.ONE_MONTH,
};

/** Seconds the worker needs after the grace period to report results and close its connection. */
const EXIT_MARGIN_SECONDS = 15;

function temporalPort(address: string): number {
  const port = Number(address.split(':').pop());
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`temporalAddress "${address}" needs a port, e.g. host:7233`);
  return port;
}

/**
 * bqsync workers as ECS Fargate services in private subnets: image built from
 * docker/Dockerfile, secrets injected from Secrets Manager as environment (never in the
 * image or the template), logs in CloudWatch, CPU-based auto scaling, a stop timeout longer
 * than the worker's shutdown grace, and a one-off task definition for `schedule apply`.
 */
export class BqsyncStack extends Stack {
  readonly cluster: ecs.Cluster;

  constructor(scope: Construct, id: string, props: BqsyncStackProps) {
    super(scope, id, props);
    const stopTimeout = props.stopTimeoutSeconds ?? DEFAULTS.stopTimeoutSeconds;
    const grace = props.shutdownGraceSeconds ?? DEFAULTS.shutdownGraceSeconds;
    const metricsPort = props.metricsPort ?? DEFAULTS.metricsPort;
    if (stopTimeout > 120) throw new Error(`stopTimeoutSeconds ${stopTimeout} is above Fargate's limit of 120`);
    if (grace + EXIT_MARGIN_SECONDS > stopTimeout) {
      throw new Error(
        `shutdownGraceSeconds ${grace} must be at most stopTimeoutSeconds ${stopTimeout} - ${EXIT_MARGIN_SECONDS}, ` +
          'or ECS kills the worker before running activities finish or report',
      );
    }
    if (props.services.length === 0) throw new Error('services is empty: declare at least one worker service');

    const vpc = props.vpcId
      ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId })
      : new ec2.Vpc(this, 'Vpc', {
          maxAzs: 2,
          natGateways: 1,
          subnetConfiguration: [
            { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
            { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          ],
        });
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    const secretCache = new Map<string, secretsmanager.ISecret>();
    const ecsSecret = (ref: SecretRef): ecs.Secret => {
      let secret = secretCache.get(ref.secret);
      if (!secret) {
        const sid = `Secret${secretCache.size}`;
        secret = ref.secret.startsWith('arn:')
          ? secretsmanager.Secret.fromSecretCompleteArn(this, sid, ref.secret)
          : secretsmanager.Secret.fromSecretNameV2(this, sid, ref.secret);
        secretCache.set(ref.secret, secret);
      }
      return ecs.Secret.fromSecretsManager(secret, ref.field);
    };

    const temporalSecrets: Record<string, ecs.Secret> = {};
    if (props.temporalAuth.kind === 'apiKey') temporalSecrets.TEMPORAL_API_KEY = ecsSecret(props.temporalAuth.apiKey);
    if (props.temporalAuth.kind === 'mtls') {
      temporalSecrets.TEMPORAL_TLS_CERT = ecsSecret(props.temporalAuth.cert);
      temporalSecrets.TEMPORAL_TLS_KEY = ecsSecret(props.temporalAuth.key);
    }
    const baseEnvironment = {
      TEMPORAL_ADDRESS: props.temporalAddress,
      TEMPORAL_NAMESPACE: props.temporalNamespace,
      BQSYNC_LOG_FORMAT: 'json',
      BQSYNC_LOG_LEVEL: 'info',
    };
    const gcpKey = { GOOGLE_APPLICATION_CREDENTIALS_JSON: ecsSecret(props.gcpServiceAccountKey) };
    const logRetention = props.logRetention ?? DEFAULTS.logRetention;
    const port = temporalPort(props.temporalAddress);

    for (const spec of props.services) {
      if (!/^[a-z][a-z0-9-]{0,30}$/.test(spec.name)) throw new Error(`service name "${spec.name}": lowercase letters, digits and dashes, at most 31`);
      const scope = new Construct(this, `Service-${spec.name}`);
      const image = ecs.ContainerImage.fromAsset(props.repoRoot, {
        file: 'docker/Dockerfile',
        target: 'worker',
        buildArgs: { BQSYNC_CONFIG_FILE: spec.configFile },
      });

      const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
        vpc,
        allowAllOutbound: false,
        description: `bqsync ${spec.name} workers: HTTPS (BigQuery, AWS APIs), Temporal and their source databases only`,
      });
      securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: BigQuery, Secrets Manager, ECR, CloudWatch Logs');
      if (port !== 443) securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), 'Temporal frontend');
      for (const rule of spec.egress) {
        securityGroup.addEgressRule(ec2.Peer.ipv4(rule.cidr), ec2.Port.tcp(rule.port), rule.description ?? 'source database');
      }

      const logGroup = new logs.LogGroup(scope, 'Logs', {
        logGroupName: `/bqsync/${spec.name}`,
        retention: logRetention,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const sourceSecrets = Object.fromEntries(Object.entries(spec.secrets).map(([env, ref]) => [env, ecsSecret(ref)]));
      const environment = { ...baseEnvironment, ...spec.environment };

      const taskDefinition = new ecs.FargateTaskDefinition(scope, 'Worker', {
        cpu: spec.cpu ?? DEFAULTS.cpu,
        memoryLimitMiB: spec.memoryMiB ?? DEFAULTS.memoryMiB,
        ephemeralStorageGiB: spec.ephemeralStorageGiB,
        runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      });
      // The worker protects its own task from scale-in while it syncs (worker/task-protection.ts):
      // the ECS agent's endpoint calls these APIs with the task role's credentials.
      taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({
          actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
          resources: [this.formatArn({ service: 'ecs', resource: 'task', resourceName: `${this.cluster.clusterName}/*` })],
        }),
      );
      // Staging files need a writable /tmp; everything else stays read-only.
      taskDefinition.addVolume({ name: 'tmp' });
      const container = taskDefinition.addContainer('worker', {
        image,
        command: ['worker'],
        environment: {
          ...environment,
          BQSYNC_SHUTDOWN_GRACE_SECONDS: String(grace),
          BQSYNC_METRICS_PORT: String(metricsPort),
          BQSYNC_HEALTH_FILE: '/tmp/bqsync/worker.health',
          BQSYNC_SCALE_IN_IDLE_SECONDS: String(props.scaleInIdleSeconds ?? DEFAULTS.scaleInIdleSeconds),
        },
        secrets: { ...temporalSecrets, ...gcpKey, ...sourceSecrets },
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'worker' }),
        stopTimeout: Duration.seconds(stopTimeout),
        readonlyRootFilesystem: true,
        portMappings: [{ containerPort: metricsPort, name: 'metrics' }],
        healthCheck: {
          command: ['CMD', 'node', '/app/dist/worker/healthcheck.js'],
          interval: Duration.seconds(30),
          timeout: Duration.seconds(5),
          retries: 3,
          startPeriod: Duration.seconds(60),
        },
      });
      container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });

      const service = new ecs.FargateService(scope, 'Service', {
        cluster: this.cluster,
        taskDefinition,
        desiredCount: spec.desiredCount ?? DEFAULTS.desiredCount,
        assignPublicIp: false,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [securityGroup],
        // New tasks start before old ones stop, and a rollout that fails health checks rolls back.
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        circuitBreaker: { rollback: true },
        enableExecuteCommand: false,
      });
      const scaling = service.autoScaleTaskCount({ minCapacity: spec.minCount ?? DEFAULTS.minCount, maxCapacity: spec.maxCount ?? DEFAULTS.maxCount });
      scaling.scaleOnCpuUtilization('Cpu', {
        targetUtilizationPercent: 60,
        scaleOutCooldown: Duration.minutes(2),
        // Scaling in stops a task (SIGTERM); wait long, so that a night's load does not flap.
        // A task with running syncs is protected from it (scale-in protection, above) and
        // stays; scaling in then stops an idle one, or waits until one is idle.
        scaleInCooldown: Duration.minutes(30),
      });

      // `bqsync schedule apply`, run once per deploy: aws ecs run-task (see the output).
      const applyTask = new ecs.FargateTaskDefinition(scope, 'ScheduleApply', { cpu: 256, memoryLimitMiB: 512 });
      applyTask.addVolume({ name: 'tmp' });
      applyTask
        .addContainer('schedule-apply', {
          image,
          command: ['schedule', 'apply'],
          environment,
          secrets: { ...temporalSecrets },
          logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'schedule-apply' }),
          readonlyRootFilesystem: true,
        })
        .addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });

      const subnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
      new CfnOutput(scope, 'ScheduleApplyCommand', {
        description: `Makes the Temporal Schedules match ${spec.configFile}`,
        value: [
          'aws ecs run-task --launch-type FARGATE',
          `--cluster ${this.cluster.clusterName}`,
          `--task-definition ${applyTask.taskDefinitionArn}`,
          `--network-configuration "awsvpcConfiguration={subnets=[${subnets.join(',')}],securityGroups=[${securityGroup.securityGroupId}],assignPublicIp=DISABLED}"`,
        ].join(' '),
      });
      new CfnOutput(scope, 'ServiceName', { value: service.serviceName });
    }
  }
}

/** The repository root, seen from deploy/lib or deploy/dist/lib. */
export function defaultRepoRoot(): string {
  const compiled = path.basename(path.dirname(__dirname)) === 'dist';
  return path.resolve(__dirname, compiled ? '../../..' : '../..');
}
