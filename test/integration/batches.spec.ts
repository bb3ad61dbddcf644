import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import request from 'supertest';
import { IngestionOutcome, IngestionService } from '../../src/opportunities/ingestion.service';
import { JobProducer } from '../../src/queues/job-producer.service';
import { QUEUES } from '../../src/queues/queue.constants';
import { BatchRequeueScheduler } from '../../src/opportunities/batch-requeue.scheduler';
import { ReportRequeueScheduler } from '../../src/reports/report-requeue.scheduler';
import { ingest, loadTerritories, openOpportunityRow, opportunityRow, postBatch, territory, useIngestionStack } from '../factories';
import { resetDatabase, startStack, TestStack, waitFor, waitForBatch } from '../utils/test-stack';

/** Opportunity batches (JSON and streamed CSV), the ingestion job and territory loads, end to end. */

const count = async (stack: TestStack, table: string): Promise<number> =>
  Number((await stack.dataSource.query(`SELECT count(*) AS n FROM ${table}`))[0].n);

const DAY_REASON = (field: string, raw: string) => `${field} '${raw}' is not a date YYYY-MM-DD (or an ISO timestamp with a zone)`;

describe('opportunity batches', () => {
  const stack = useIngestionStack(['T-DEFAULT', 'West']);

  const getOpportunity = (id: string) => request(stack.http).get(`/opportunities/${encodeURIComponent(id)}`);

  describe('a malformed batch', () => {
    it('keeps its good rows and lists EVERY bad row with its row number and reason', async () => {
      const rows = [
        opportunityRow({ opportunity_id: 'G-1', amount: '$1,200.00' }), // 1 good: "$1,200.00" parses to 1200.00
        opportunityRow({ opportunity_id: 'B-2', engage_date: '2024-02-30' }), // 2 impossible day
        opportunityRow({ opportunity_id: 'B-3', close_date: '10/20/2016' }), // 3 US date format
        opportunityRow({ opportunity_id: 'B-4', amount: '1.2.3' }), // 4 unparseable amount
        opportunityRow({ opportunity_id: null }), // 5 missing id
        opportunityRow({ opportunity_id: 'B-6', territory: 'Atlantis' }), // 6 unknown territory
        opportunityRow({ opportunity_id: 'B-7', close_date: null }), // 7 won without close date
        openOpportunityRow({ opportunity_id: 'G-8', territory: 'West' }), // 8 good open deal
        opportunityRow({ opportunity_id: 'B-9', amount: 'USD 12abc', engage_date: '', created_at: '', close_date: '2024-13-01' }), // 9 several reasons
        opportunityRow({ opportunity_id: 'G-10', amount: '(1,500.00)', stage: 'Lost' }), // 10 good
      ];
      const accepted = await postBatch(stack.http, rows);
      expect(accepted).toMatchObject({ status: 'queued', rows_received: 10, enqueued: true, idempotent_replay: false });
      const status = await waitForBatch(stack.http, accepted.batch_id);

      expect(status).toMatchObject({
        status: 'completed',
        rows_received: 10,
        rows_processed: 10,
        percent_done: 100,
        rows_accepted: 3,
        rows_rejected: 7,
        rows_inserted: 3,
        error: null,
      });
      expect(status.rejected_rows.items).toEqual([
        { row_number: 2, opportunity_id: 'B-2', reasons: [DAY_REASON('engage_date', '2024-02-30')] },
        { row_number: 3, opportunity_id: 'B-3', reasons: [DAY_REASON('close_date', '10/20/2016')] },
        { row_number: 4, opportunity_id: 'B-4', reasons: ["amount '1.2.3' is not a number"] },
        { row_number: 5, opportunity_id: null, reasons: ['opportunity_id is missing'] },
        { row_number: 6, opportunity_id: 'B-6', reasons: ["unknown territory 'Atlantis'"] },
        { row_number: 7, opportunity_id: 'B-7', reasons: ['a won deal needs a close_date'] },
        { row_number: 9, opportunity_id: 'B-9', reasons: ["amount 'USD 12abc' is not a number", DAY_REASON('close_date', '2024-13-01')] },
      ]);

      const stored: { opportunity_id: string; amount: string | null; status: string }[] = await stack.dataSource.query(
        `SELECT opportunity_id, amount::text AS amount, status FROM opportunities ORDER BY opportunity_id`,
      );
      expect(stored).toEqual([
        { opportunity_id: 'G-1', amount: '1200.00', status: 'won' },
        { opportunity_id: 'G-10', amount: '-1500.00', status: 'lost' },
        { opportunity_id: 'G-8', amount: null, status: 'open' },
      ]);
    });

    it('pages the rejected rows', async () => {
      const rows = [1, 2, 3, 4].map((i) => opportunityRow({ opportunity_id: `X-${i}`, territory: 'Nowhere' }));
      const { batch_id } = await postBatch(stack.http, rows);
      await waitForBatch(stack.http, batch_id);
      const page = await request(stack.http).get(`/opportunities/batches/${batch_id}?limit=2&offset=1`);
      expect(page.status).toBe(200);
      expect(page.body.rejected_rows).toMatchObject({ limit: 2, offset: 1 });
      expect(page.body.rejected_rows.items.map((r: { row_number: number }) => r.row_number)).toEqual([2, 3]);
      const bad = await request(stack.http).get(`/opportunities/batches/${batch_id}?limit=abc`);
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('re-sending a batch', () => {
    const rows = () => [
      opportunityRow({ opportunity_id: 'R-1', amount: '100.00' }),
      opportunityRow({ opportunity_id: 'R-2', amount: '200.00' }),
      openOpportunityRow({ opportunity_id: 'R-3' }),
    ];

    it('without a key: a second batch that changes nothing (0 inserted) and the same row count', async () => {
      const first = await ingest(stack.http, rows());
      expect(first).toMatchObject({ rows_accepted: 3, rows_inserted: 3 });
      expect(await count(stack, 'opportunities')).toBe(3);

      const second = await ingest(stack.http, rows());
      expect(second.batch_id).not.toBe(first.batch_id);
      expect(second).toMatchObject({ rows_accepted: 3, rows_inserted: 0, rows_updated: 0, rows_unchanged: 3, rows_stale: 0 });
      expect(await count(stack, 'opportunities')).toBe(3);
    });

    it('with an Idempotency-Key: the same batch_id back (idempotent_replay), one stored batch; other rows under the key → 409', async () => {
      const first = await postBatch(stack.http, rows(), 'key-123');
      expect(first.idempotent_replay).toBe(false);
      await waitForBatch(stack.http, first.batch_id);

      const replay = await postBatch(stack.http, rows(), 'key-123');
      expect(replay).toMatchObject({ batch_id: first.batch_id, idempotent_replay: true, rows_received: 3 });
      // The same rows with their keys in another order are the same content: still a replay.
      const reordered = rows().map((r) => Object.fromEntries(Object.entries(r).reverse()));
      const replay2 = await postBatch(stack.http, reordered, 'key-123');
      expect(replay2).toMatchObject({ batch_id: first.batch_id, idempotent_replay: true });
      expect(await count(stack, 'opportunity_batches')).toBe(1);
      expect(await count(stack, 'opportunities')).toBe(3);

      const conflict = await request(stack.http)
        .post('/opportunities/batches')
        .set('Idempotency-Key', 'key-123')
        .send({ rows: [opportunityRow({ opportunity_id: 'R-1', amount: '999.00' })] });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ statusCode: 409, code: 'IDEMPOTENCY_CONFLICT', details: { batch_id: first.batch_id } });
      expect(await count(stack, 'opportunity_batches')).toBe(1);
      expect((await getOpportunity('R-1')).body.amount).toBe('100.00');
    });

    it('rejects an empty or over-long Idempotency-Key with 400', async () => {
      for (const key of [' ', 'k'.repeat(201)]) {
        const res = await request(stack.http).post('/opportunities/batches').set('Idempotency-Key', key).send({ rows: rows() });
        expect(res.status).toBe(400);
        expect(res.body.details).toEqual([{ path: 'headers.idempotency-key', errors: ['must be 1 to 200 characters'] }]);
      }
      expect(await count(stack, 'opportunity_batches')).toBe(0);
    });
  });

  describe('versions', () => {
    it('a newer version (Engaging → Won with amount and close date) replaces the older one', async () => {
      const v1 = await ingest(stack.http, [
        openOpportunityRow({ opportunity_id: 'V-1', engage_date: '2024-03-01', source_updated_at: '2024-03-02T10:00:00Z' }),
      ]);
      expect(v1.rows_inserted).toBe(1);
      expect((await getOpportunity('V-1')).body).toMatchObject({ stage: 'engaging', status: 'open', amount: null, close_date: null });

      const v2 = await ingest(stack.http, [
        opportunityRow({
          opportunity_id: 'V-1',
          stage: 'Won',
          amount: '$4,321.09',
          engage_date: '2024-03-01',
          close_date: '2024-03-28',
          source_updated_at: '2024-03-28T16:00:00Z',
        }),
      ]);
      expect(v2).toMatchObject({ rows_inserted: 0, rows_updated: 1, rows_stale: 0 });
      const res = await getOpportunity('V-1');
      expect(res.body).toMatchObject({ stage: 'won', status: 'won', amount: '4321.09', close_date: '2024-03-28', batch_id: v2.batch_id });
      expect(await count(stack, 'opportunities')).toBe(1);
    });

    it('within one batch, the later row of the same id wins (same source version)', async () => {
      const status = await ingest(stack.http, [
        opportunityRow({ opportunity_id: 'V-2', amount: '10.00', source_updated_at: undefined }),
        opportunityRow({ opportunity_id: 'V-2', amount: '20.00', source_updated_at: undefined }),
      ]);
      expect(status).toMatchObject({ rows_accepted: 2, rows_inserted: 1, rows_unchanged: 1 });
      expect((await getOpportunity('V-2')).body.amount).toBe('20.00');
    });
    it('within one batch, the newer source version wins whatever the row order (the older row is stale)', async () => {
      const status = await ingest(stack.http, [
        opportunityRow({ opportunity_id: 'V-3', amount: '300.00', source_updated_at: '2024-03-20T12:00:00Z' }),
        opportunityRow({ opportunity_id: 'V-3', amount: '200.00', source_updated_at: '2024-03-10T12:00:00Z' }),
      ]);
      expect(status).toMatchObject({ rows_accepted: 2, rows_inserted: 1, rows_stale: 1, rows_unchanged: 0 });
      const res = await getOpportunity('V-3');
      expect(res.body.amount).toBe('300.00');
      expect(new Date(res.body.source_updated_at).toISOString()).toBe('2024-03-20T12:00:00.000Z');
    });
  });

  describe('CSV streaming upload', () => {
    const CRM_CSV =
      'opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n' +
      'Q7K2M9X4,West,GTX Plus Basic,Acme,Won,2016-10-20,2017-03-01,1054\n' +
      'Z063OYW0,West,GTXPro,Isdom,Lost,2016-10-25,2017-03-11,0\n' +
      'EC4QE1BX,West,MG Special,Acme,Engaging,2016-10-25,,\n';

    it('as multipart (field "file") with the CRM export headers', async () => {
      const res = await request(stack.http)
        .post('/opportunities/batches/csv')
        .attach('file', Buffer.from(CRM_CSV), { filename: 'crm.csv', contentType: 'text/csv' });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ rows_received: 3, enqueued: true, idempotent_replay: false });
      const status = await waitForBatch(stack.http, res.body.batch_id);
      expect(status).toMatchObject({ source: 'csv', status: 'completed', rows_accepted: 3, rows_rejected: 0, rows_inserted: 3 });
      expect(status.column_mapping).toMatchObject({ territory: 'sales_agent', stage: 'deal_stage', amount: 'close_value' });
      expect((await getOpportunity('Q7K2M9X4')).body).toMatchObject({ territory: 'West', status: 'won', amount: '1054.00', close_date: '2017-03-01' });
      expect((await getOpportunity('EC4QE1BX')).body).toMatchObject({ status: 'open', amount: null, close_date: null });
    });

    it('as a text/csv body, with an explicit mapping and an ignored column', async () => {
      const csv = 'deal,owner_code,phase,value,engaged,closed,notes\r\nM-1,T-DEFAULT,Won,"$2,500.00",2024-01-02,2024-02-03,hello\r\n';
      const mapping = JSON.stringify({ opportunity_id: 'deal', territory: 'owner_code', stage: 'phase', amount: 'value', engage_date: 'engaged', close_date: 'closed' });
      const res = await request(stack.http)
        .post(`/opportunities/batches/csv?mapping=${encodeURIComponent(mapping)}`)
        .set('Content-Type', 'text/csv')
        .send(csv);
      expect(res.status).toBe(202);
      const status = await waitForBatch(stack.http, res.body.batch_id);
      expect(status).toMatchObject({ rows_accepted: 1, ignored_columns: ['notes'] });
      expect((await getOpportunity('M-1')).body).toMatchObject({ territory: 'T-DEFAULT', amount: '2500.00', engage_date: '2024-01-02', close_date: '2024-02-03' });
    });

    it('numbers rows from 1 after the header and reports CSV row problems per row', async () => {
      const csv = 'opportunity_id,territory,stage,amount,engage_date,close_date\nC-1,West,Won,"1,200",2024-01-02,2024-01-30\nC-2,West,Won,12abc,2024-01-02,2024-01-30\n';
      const res = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', 'text/csv').send(csv);
      const status = await waitForBatch(stack.http, res.body.batch_id);
      expect(status.rejected_rows.items).toEqual([{ row_number: 2, opportunity_id: 'C-2', reasons: ["amount '12abc' is not a number"] }]);
      expect((await getOpportunity('C-1')).body.amount).toBe('1200.00');
    });

    it('with an Idempotency-Key: the same file is a replay, a different file under the key is a 409', async () => {
      const post = (csv: string) =>
        request(stack.http)
          .post('/opportunities/batches/csv')
          .set('Idempotency-Key', 'csv-key')
          .attach('file', Buffer.from(csv), { filename: 'crm.csv', contentType: 'text/csv' });
      const first = await post(CRM_CSV);
      expect(first.status).toBe(202);
      expect(first.body.idempotent_replay).toBe(false);
      await waitForBatch(stack.http, first.body.batch_id);

      const replay = await post(CRM_CSV);
      expect(replay.status).toBe(202);
      expect(replay.body).toMatchObject({ batch_id: first.body.batch_id, idempotent_replay: true, rows_received: 3 });

      const other = await post(CRM_CSV.replace('1054', '9999'));
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', details: { batch_id: first.body.batch_id } });
      expect(await count(stack, 'opportunity_batches')).toBe(1);
      expect((await getOpportunity('Q7K2M9X4')).body.amount).toBe('1054.00');
    });

    it('a malformed CSV (unclosed quote) → 400 MALFORMED_CSV and no batch stored', async () => {
      const csv = 'opportunity_id,territory,stage\nQ-1,West,Won\n"Q-2,West,Won\n';
      const asBody = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', 'text/csv').send(csv);
      expect(asBody.status).toBe(400);
      expect(asBody.body).toMatchObject({ statusCode: 400, code: 'MALFORMED_CSV' });
      expect(asBody.body.message).toMatch(/^CSV could not be parsed: /);

      const asFile = await request(stack.http)
        .post('/opportunities/batches/csv')
        .attach('file', Buffer.from(csv), { filename: 'bad.csv', contentType: 'text/csv' });
      expect(asFile.status).toBe(400);
      expect(asFile.body.code).toBe('MALFORMED_CSV');

      expect(await count(stack, 'opportunity_batches')).toBe(0);
      expect(await count(stack, `information_schema.tables WHERE table_schema = 'opportunity_staging'`)).toBe(0); // no staged rows either
    });

    it('rejects a CSV with a ragged row, a header-only CSV, a mapping to a missing column and other media types', async () => {
      const ragged = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', 'text/csv').send('opportunity_id,territory\nA,West,extra\n');
      expect(ragged.status).toBe(400);
      expect(ragged.body.code).toBe('MALFORMED_CSV');

      const headerOnly = await request(stack.http).post('/opportunities/batches/csv').set('Content-Type', 'text/csv').send('opportunity_id,territory\n');
      expect(headerOnly.status).toBe(400);
      expect(headerOnly.body.code).toBe('MALFORMED_CSV');

      const mapping = await request(stack.http)
        .post(`/opportunities/batches/csv?mapping=${encodeURIComponent(JSON.stringify({ territory: 'nope' }))}`)
        .set('Content-Type', 'text/csv')
        .send('opportunity_id,territory\nA,West\n');
      expect(mapping.status).toBe(400);
      expect(mapping.body.details).toEqual([{ path: 'mapping.territory', errors: ["column 'nope' is not in the CSV header"] }]);

      const json = await request(stack.http).post('/opportunities/batches/csv').send({ rows: [] });
      expect(json.status).toBe(415);
      expect(json.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');

      expect(await count(stack, 'opportunity_batches')).toBe(0);
    });
  });

  describe('territories', () => {
    it('POST twice with the same code → one row, updated', async () => {
      await resetDatabase(stack.dataSource);
      const first = await request(stack.http).post('/territories').send([territory({ code: 'Ada Park', name: 'Old name', region: 'Central' })]);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ received: 1, created: 1, updated: 0 });

      const second = await request(stack.http)
        .post('/territories')
        .send([territory({ code: 'Ada Park', name: 'New name', region: 'East', attributes: { quota: 1.5 } })]);
      expect(second.body).toEqual({ received: 1, created: 0, updated: 1 });
      expect(await count(stack, 'territories')).toBe(1);
      const got = await request(stack.http).get(`/territories/${encodeURIComponent('Ada Park')}`);
      expect(got.body).toMatchObject({ code: 'Ada Park', name: 'New name', region: 'East', attributes: { quota: 1.5 } });
    });

    it('unknown fields → 400 naming the path; nothing written', async () => {
      await resetDatabase(stack.dataSource);
      const res = await request(stack.http)
        .post('/territories')
        .send([territory({ code: 'A' }), { ...territory({ code: 'B' }), colour: 'red' }, { ...territory({ code: 'C' }), attributes: { quota: '12' } }]);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.map((d: { path: string }) => d.path)).toEqual(['1.colour', '2.attributes']);
      expect(await count(stack, 'territories')).toBe(0);
    });

    it('duplicate codes within one request → 400; nothing written', async () => {
      await resetDatabase(stack.dataSource);
      const res = await request(stack.http).post('/territories').send([territory({ code: 'D' }), territory({ code: 'E' }), territory({ code: 'D' })]);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: '2.code', errors: ["code 'D' repeats item 0"] }] });
      expect(await count(stack, 'territories')).toBe(0);
    });
  });
});

describe('opportunity batches with the worker down', () => {
  let stack: TestStack;
  let queue: Queue;

  beforeEach(async () => {
    stack = await startStack({ withWorker: false });
    queue = stack.app.get<Queue>(getQueueToken(QUEUES.ingestion));
    await resetDatabase(stack.dataSource);
    await loadTerritories(stack.http, [territory({ code: 'T-DEFAULT' })]);
  });

  afterEach(async () => {
    await stack?.close();
  });

  const rows = () => [
    opportunityRow({ opportunity_id: 'W-1', amount: '10.00' }),
    opportunityRow({ opportunity_id: 'W-2', amount: '20.00' }),
    opportunityRow({ opportunity_id: 'W-1', amount: '15.00' }), // same id again: still one opportunity
  ];
  const waitingJobs = () => waitFor(async () => (await queue.getJobCounts('waiting')).waiting || undefined, 'a waiting ingestion job');

  it('202 while no worker runs; the batch stays queued; a worker started later completes it exactly once', async () => {
    const accepted = await postBatch(stack.http, rows());
    expect(accepted).toMatchObject({ status: 'queued', enqueued: true });
    expect(await waitingJobs()).toBe(1);

    const queued = await request(stack.http).get(`/opportunities/batches/${accepted.batch_id}`);
    expect(queued.body).toMatchObject({ status: 'queued', rows_processed: 0, rows_accepted: 0 });
    expect(await count(stack, 'opportunities')).toBe(0);
    // The requeue sweeper sees a batch that IS in Redis and adds nothing.
    expect(await stack.app.get(BatchRequeueScheduler).sweep()).toBe(0);
    expect(await stack.app.get(ReportRequeueScheduler).sweep()).toBe(0);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(1);

    await stack.startWorker();
    const done = await waitForBatch(stack.http, accepted.batch_id);
    expect(done).toMatchObject({ status: 'completed', rows_accepted: 3, rows_inserted: 2, rows_unchanged: 1 });
    const distinct = new Set(rows().map((r) => r.opportunity_id)).size;
    expect(await count(stack, 'opportunities')).toBe(distinct);
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 1, 'the job to be marked completed');
    expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'active')).toMatchObject({ completed: 1, failed: 0, waiting: 0, active: 0 });
    expect((await request(stack.http).get('/opportunities/W-1')).body.amount).toBe('15.00');
  });

  it('processing the same batch twice (directly, then by two queued jobs) runs it once and counts nothing twice', async () => {
    const accepted = await postBatch(stack.http, rows());
    expect(await waitingJobs()).toBe(1);
    const ingestion = stack.app.get(IngestionService);

    const first = await ingestion.processBatch(accepted.batch_id);
    expect(first).toEqual({
      batch_id: accepted.batch_id,
      skipped: false,
      accepted: 3,
      rejected: 0,
      counts: { inserted: 2, updated: 0, unchanged: 1, stale: 0 },
      data_version: expect.any(Number),
    });
    const again = await ingestion.processBatch(accepted.batch_id);
    expect(again.skipped).toBe(true);

    // A duplicate job for the same batch (a second add, as a retry or the requeue sweeper would do).
    expect(await stack.app.get(JobProducer).enqueueBatch(accepted.batch_id)).toBe(true);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(2);
    await stack.startWorker();
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === 2, 'both jobs to complete');
    const outcomes = (await queue.getCompleted()).map((j) => (j.returnvalue as IngestionOutcome).skipped);
    expect(outcomes).toEqual([true, true]);

    const status = (await request(stack.http).get(`/opportunities/batches/${accepted.batch_id}`)).body;
    expect(status).toMatchObject({ status: 'completed', rows_accepted: 3, rows_inserted: 2, rows_unchanged: 1, rows_updated: 0 });
    expect(await count(stack, 'opportunities')).toBe(2);
    expect(await count(stack, 'opportunity_batch_rejections')).toBe(0);
  });
});
