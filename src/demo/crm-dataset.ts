import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCsvBuffer } from '../common/utils/csv';

/** One row of the Maven "CRM Sales Opportunities" sales_pipeline.csv, cells as strings. */
export interface PipelineRow {
  opportunity_id: string;
  sales_agent: string;
  product: string;
  account: string;
  deal_stage: string;
  engage_date: string;
  close_date: string;
  close_value: string;
}

/** One row of sales_teams.csv. */
export interface SalesTeamRow {
  sales_agent: string;
  manager: string;
  regional_office: string;
}

export const DEFAULT_DATA_DIR = resolve(process.cwd(), '..', 'shared', 'data', 'crm-sales-opportunities');

export const DATASET_HELP = [
  'The demo runs on the public "CRM Sales Opportunities" sample data set (Maven Analytics Data Playground,',
  'a fictitious computer-hardware seller; files sales_pipeline.csv and sales_teams.csv).',
  'Download it from https://mavenanalytics.io/data-playground (search "CRM Sales Opportunities"; a Kaggle',
  'mirror is named "crm-sales-opportunities"),',
  'unzip it, and run:  npm run demo -- --data /path/to/CRM+Sales+Opportunities',
];

/**
 * Reads the two files the demo needs from `dir` with the same CSV options as the API (BOM and
 * CRLF tolerant). @throws Error naming the missing file.
 */
export function readCrmDataset(dir: string): { pipeline: PipelineRow[]; teams: SalesTeamRow[]; pipelineBytes: Buffer } {
  const files = { pipeline: join(dir, 'sales_pipeline.csv'), teams: join(dir, 'sales_teams.csv') };
  for (const f of Object.values(files)) if (!existsSync(f)) throw new Error(`missing ${f}`);
  const pipelineBytes = readFileSync(files.pipeline);
  return {
    pipeline: parseCsvBuffer(pipelineBytes) as unknown as PipelineRow[],
    teams: parseCsvBuffer(readFileSync(files.teams)) as unknown as SalesTeamRow[],
    pipelineBytes,
  };
}
