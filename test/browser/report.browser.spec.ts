import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { PilotReport } from '../../src/reports/report.types';
import { forestPlotData } from '../../src/reports/rendering/chart-data';
import { fmtPct } from '../../src/reports/rendering/format';
import { CHARTS, SECTIONS } from '../../src/reports/rendering/report-html.renderer';

/**
 * The demo's HTML report (written by `npm run demo` to out/) in headless Chromium from Debian's
 * `chromium` package: every section and chart present and visible, the page's numbers those of the
 * demo's JSON report, no console error, no network request, printable; screenshot and PDF saved
 * under out/. REPORT_HTML / REPORT_JSON / CHROMIUM_PATH override the defaults.
 */
const OUT = resolve(__dirname, '..', '..', 'out');
const HTML = resolve(process.env.REPORT_HTML ?? join(OUT, 'demo-report-aa.html'));
const JSON_REPORT = resolve(process.env.REPORT_JSON ?? join(OUT, 'demo-report-aa.json'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshot and PDF are named after the page: out/<name>.png and out/<name>.pdf. */
const NAME = basename(HTML, '.html');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

describe('the demo report in a real browser', () => {
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(HTML)) throw new Error(`${HTML} is missing: run \`npm run demo\` first (it writes the HTML report to out/)`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
    // A fresh profile per run (launchPersistentContext owns --user-data-dir).
    profile = mkdtempSync(join(tmpdir(), 'pilotlab-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      offline: true,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(HTML).href, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows every section with its heading, and nothing is "not available"', async () => {
    for (const s of SECTIONS) {
      const section = page.locator(`section#${s.id}`);
      await expect(section.isVisible()).resolves.toBe(true);
      await expect(section.locator('h2').first().innerText()).resolves.toBe(s.title);
      await expect(section.locator('.na').count()).resolves.toBe(0);
    }
    await expect(page.locator('h1').innerText()).resolves.not.toBe('');
    await expect(page.locator('#decision .decision-word').first().innerText()).resolves.toMatch(/Decision: (SHIP|EXTEND|STOP)/);
  });

  it('draws every chart as a visible, labelled SVG with marks', async () => {
    for (const c of CHARTS) {
      const svg = page.locator(`figure[data-chart="${c}"] svg`).first();
      await expect(svg.isVisible()).resolves.toBe(true);
      const box = await svg.boundingBox();
      expect(box!.width).toBeGreaterThan(200);
      expect(box!.height).toBeGreaterThan(80);
      await expect(svg.getAttribute('aria-label')).resolves.toMatch(/\S/);
      const marks = await svg.locator('path, line, rect').count();
      expect(marks).toBeGreaterThan(5);
      await expect(page.locator(`figure[data-chart="${c}"] figcaption`).innerText()).resolves.toMatch(/\S/);
    }
  });

  it("shows the JSON report's numbers: one KPI row per result, each plotted lift printed in the forest plot", async () => {
    const report = JSON.parse(readFileSync(JSON_REPORT, 'utf8')) as PilotReport;
    await expect(page.locator('#kpis tbody tr').count()).resolves.toBe(report.kpis.length);
    const forestText = await page.locator('figure[data-chart="forest"] svg').textContent();
    const { rows } = forestPlotData(report as never);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(forestText).toContain(`${fmtPct(r.estimate)} [${fmtPct(r.ci_low)}, ${fmtPct(r.ci_high)}]`);
    const territories = await page.locator('#assignment .region tbody tr').count();
    expect(territories).toBe(report.territories.length);
  });

  it('tells the arms apart without colour: distinct dash patterns in the weekly chart', async () => {
    const dashes = await page
      .locator('figure[data-chart="weekly"] svg path')
      .evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('stroke-dasharray') ?? 'solid'))]);
    expect(dashes.length).toBeGreaterThanOrEqual(2);
  });

  it('prints: navigation hidden, charts still visible, a PDF comes out', async () => {
    await page.emulateMedia({ media: 'print' });
    await expect(page.locator('nav').isVisible()).resolves.toBe(false);
    for (const c of CHARTS) await expect(page.locator(`figure[data-chart="${c}"] svg`).first().isVisible()).resolves.toBe(true);
    const pdf = join(OUT, `${NAME}.pdf`);
    await page.pdf({ path: pdf, format: 'A4', printBackground: true });
    expect(statSync(pdf).size).toBeGreaterThan(10_000);
    await page.emulateMedia({ media: 'screen' });
  });

  it('made no network request and logged no console error; a screenshot is saved', async () => {
    const shot = join(OUT, `${NAME}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
