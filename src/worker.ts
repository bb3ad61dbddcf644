import 'reflect-metadata';
import { createWorker } from './bootstrap';

/**
 * Worker entry point: a Nest application context consuming the queues of WORKER_QUEUES; its only
 * HTTP is GET /health on WORKER_HEALTH_PORT when that is set (src/health/worker-health.server.ts).
 */
void createWorker();
