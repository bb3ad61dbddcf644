import 'reflect-metadata';
import { createApi } from './bootstrap';
import { EnvironmentVariables } from './config/env.validation';

/** HTTP entry point: bootstrap only. */
async function main(): Promise<void> {
  const app = await createApi();
  const env = app.get(EnvironmentVariables);
  await app.listen(env.PORT, '0.0.0.0');
}

void main();
