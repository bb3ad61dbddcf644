import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadEnvironment } from '../config/env.validation';
import { buildDataSourceOptions } from './typeorm-options';

/** The TypeORM CLI's data source (`npm run migration:*`), built from the same options as the app. */
export default new DataSource(buildDataSourceOptions(loadEnvironment()));
