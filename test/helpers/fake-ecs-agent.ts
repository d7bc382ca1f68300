/**
 * A stand-in for the ECS container agent's task scale-in protection endpoint, at the
 * protocol level only: it answers PUT /task-protection/v1/state with JSON bodies shaped as
 * the agent's (`protection`, or `error` with a code and message) and records each request.
 * It does not call ECS: whether ECS honours the protection is not tested here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProtectionRequest {
  at: number;
  body: { ProtectionEnabled?: boolean; ExpiresInMinutes?: number };
}

export interface FakeEcsAgent {
  /** What ECS_AGENT_URI would be. */
  uri: string;
  requests: ProtectionRequest[];
  /** Answer every request with this error from now on (e.g. the task role lacks the permission). */
  failWith(error: { status: number; code: string; message: string } | undefined): void;
  close(): Promise<void>;
}

const TASK_ARN = 'arn:aws:ecs:eu-west-1:111111111111:task/bqsync/0123456789abcdef';

export async function startFakeEcsAgent(): Promise<FakeEcsAgent> {
  const requests: ProtectionRequest[] = [];
  let failure: { status: number; code: string; message: string } | undefined;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const reply = (status: number, body: object) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'PUT' || !req.url?.endsWith('/task-protection/v1/state')) return reply(404, { error: { Code: 'ResourceNotFoundException', Message: 'no such path' } });
      const body = JSON.parse(text) as ProtectionRequest['body'];
      requests.push({ at: Date.now(), body });
      if (failure) return reply(failure.status, { error: { Arn: TASK_ARN, Code: failure.code, Message: failure.message } });
      if (typeof body.ProtectionEnabled !== 'boolean') {
        return reply(400, { error: { Arn: TASK_ARN, Code: 'InvalidParameterException', Message: "Invalid request: does not contain 'ProtectionEnabled' field" } });
      }
      const expires = body.ProtectionEnabled ? new Date(Date.now() + (body.ExpiresInMinutes ?? 120) * 60_000).toISOString() : null;
      reply(200, { protection: { ExpirationDate: expires, ProtectionEnabled: body.ProtectionEnabled, TaskArn: TASK_ARN } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // The agent's URI has a path of its own (/api/<task endpoint id>), which the endpoint extends.
    uri: `http://127.0.0.1:${port}/api/task-endpoint-id`,
    requests,
    failWith: (f) => (failure = f),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
