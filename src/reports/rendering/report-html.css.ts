/** The report page's inline stylesheet (screen and print; no external reference). */
export const CSS = `
:root { --ink: #111; --muted: #555; --rule: #bbb; }
* { box-sizing: border-box; }
body { font-family: Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1200px; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0.2rem 0; } h2 { font-size: 1.35rem; border-bottom: 2px solid var(--ink); padding-bottom: 0.2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 0.4rem; }
nav ol { columns: 2; padding-left: 1.2rem; } a { color: #0b4f8a; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.88rem; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
th, td { border: 1px solid var(--rule); padding: 0.3rem 0.45rem; vertical-align: top; text-align: left; }
thead th { background: #eee; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.n { color: var(--muted); font-size: 0.85em; } .note { color: var(--muted); font-size: 0.88rem; max-width: 60rem; }
.na { font-style: italic; border-left: 4px solid var(--rule); padding-left: 0.6rem; }
.wide { overflow-x: auto; }
.decision { border: 3px solid var(--ink); padding: 0.6rem 1rem; max-width: 60rem; }
.decision-ship { border-style: solid; } .decision-extend { border-style: dashed; } .decision-stop { border-style: double; border-width: 6px; }
.decision-word { font-size: 1.5rem; margin: 0.2rem 0; } .headline { font-size: 1.1rem; }
.stance { font-size: 0.85em; color: var(--muted); }
.regions { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 0.8rem; }
.region { border: 1px solid var(--rule); padding: 0.3rem 0.7rem; } .region table { width: 100%; }
.arm { display: inline-block; padding: 0 0.4rem; border: 1px solid var(--ink); }
.arm-treatment { background: #1f4e79; color: #fff; border-style: solid; } .arm-control { background: #fff; border-style: dashed; }
figure.chart { margin: 0.5rem 0 1.2rem; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.88rem; color: var(--muted); max-width: 60rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; font-size: 0.92rem; } dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; }
.banner { border: 2px dashed var(--ink); padding: 0.5rem 0.8rem; font-weight: bold; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media print {
  @page { margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav, .exports { display: none; }
  h2 { break-after: avoid; } table, figure, .decision, .region { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
