// report.html: one static page (no server, no scripts, no external files: it opens from disk) with
// every part's method, tables, verdicts and figures inline, the same strings the console printed.
import { tally, type MainJobReport, type Table } from './report.js';
import { formatInterval, type Claim } from './verdict.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function table(t: Table): string {
  return [
    `<table><caption>${esc(t.title)}</caption>`,
    `<thead><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>`,
    `<tbody>${t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

/** Colour by side: the claim's first side (IVON, merged) winning, the second (AdamW, …) winning, or neither. */
function verdictClass(c: Claim): string {
  if (c.verdict === `${c.a} better`) return 'first';
  if (c.verdict === `${c.b} better`) return 'second';
  return 'none';
}

export function reportHtml(r: MainJobReport): string {
  const sections = r.parts.map((p) => {
    const claims = p.claims.length
      ? `<table class="claims"><thead><tr><th>claim</th><th>difference [95% interval]</th><th>verdict</th></tr></thead><tbody>${p.claims
          .map((c) => `<tr><td>${esc(c.statement)}</td><td class="num">${esc(formatInterval(c.interval))}</td><td class="${verdictClass(c)}">${esc(c.verdict)}</td></tr>`)
          .join('\n')}</tbody></table>`
      : '';
    return [
      `<section id="${esc(p.id)}"><h2>${esc(p.title)}</h2>`,
      `<p>${esc(p.method)}</p>`,
      ...p.tables.map(table),
      ...p.notes.map((n) => `<p class="note">${esc(n)}</p>`),
      claims,
      p.claims.length ? `<p class="note">${esc(tally(p.claims))}</p>` : '',
      ...p.figures.map((f) => `<figure>${f.svg.replace(/^<\?xml[^>]*>/, '')}<figcaption>${esc(f.caption)} (${esc(f.file)})</figcaption></figure>`),
      '</section>',
    ].join('\n');
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ivon-edge main job</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; max-width: 1120px; margin: 2em auto; color: #1a202c; line-height: 1.4; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
caption { text-align: left; font-weight: bold; padding-bottom: .3em; }
th, td { border: 1px solid #cbd5e0; padding: 3px 8px; text-align: left; }
td.num { font-family: monospace; }
td.first { background: #c6f6d5; } td.second { background: #feebc8; } td.none { background: #edf2f7; }
figure { margin: 1em 0; overflow-x: auto; } figcaption { color: #4a5568; font-size: 13px; }
.note { color: #4a5568; } .warn { color: #c53030; }
</style></head><body>
<h1>What IVON's posterior buys on a device — ivon-edge main job</h1>
<p>Backend ${esc(r.backend)}; seeds ${esc(r.seeds.join(', '))}; ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU. Every verdict comes from a 95% paired-bootstrap interval: a side is "better" only when the whole interval is on its side of 0.</p>
${r.warnings.length ? `<p class="warn">Posterior warnings: ${r.warnings.map(esc).join('<br>')}</p>` : ''}
${sections.join('\n')}
</body></html>
`;
}
