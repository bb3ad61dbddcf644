import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvironmentVariables } from '../config/env.validation';
import { DependencyHealthService } from './dependency-health.service';

/**
 * The worker's health endpoint: a bare node:http server on WORKER_HEALTH_PORT (0 = none) answering
 * `GET /health` with the same checks and body as the API's (200, or 503 naming the dependency that
 * is down); every other request gets 404 in the API's error shape. Started when the worker context
 * boots, closed on shutdown.
 */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerHealthServer.name);
  private server: Server | null = null;

  constructor(
    private readonly health: DependencyHealthService,
    private readonly env: EnvironmentVariables,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.env.WORKER_HEALTH_PORT === 0) return;
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.env.WORKER_HEALTH_PORT, '0.0.0.0', () => resolve());
    });
    this.server = server;
    this.logger.log(`worker health endpoint on port ${this.port()}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The port the endpoint listens on, or null when it is disabled. */
  port(): number | null {
    return this.server ? (this.server.address() as AddressInfo).port : null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/health') {
      return send(res, 404, { statusCode: 404, code: 'NOT_FOUND', message: 'The worker answers GET /health only', details: null });
    }
    try {
      const { ok, body } = await this.health.check();
      send(res, ok ? 200 : 503, body);
    } catch (err) {
      this.logger.error({ err }, 'worker health check failed');
      send(res, 500, { statusCode: 500, code: 'INTERNAL_ERROR', message: 'The health check failed', details: null });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
