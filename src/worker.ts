import 'reflect-metadata';
import { createWorker } from './bootstrap';

/** Worker entry point: a Nest application context consuming the queues of WORKER_QUEUES, no HTTP. */
void createWorker();
