/**
 * The report page's stylesheet and script, inlined into every page. No framework: the script
 * sorts a table by a clicked heading and filters rows by words and state, which stays quick at
 * 10,000 rows (the text of each row is read once, rows are only hidden or moved), and the browser
 * lays out only the sections on screen (content-visibility), so a large page opens quickly.
 */

export const REPORT_STYLE = `
:root{--fg:#1b1f24;--muted:#5b6570;--line:#d5dbe1;--bad:#b42318;--warn:#9a6700;--ok:#1a7f37;--bg2:#f4f6f8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1400px;padding:1rem 1.5rem}
h1{margin:.2rem 0}h2{margin:2rem 0 .5rem;border-bottom:2px solid var(--line)}h3{margin:1rem 0 .3rem}
h3 small,td small{color:var(--muted);font-weight:normal}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0}dt{color:var(--muted)}dd{margin:0}
.summary{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0}
.summary li{border:1px solid var(--line);border-radius:6px;padding:.3rem .7rem}.summary b{font-size:1.2rem}
.summary .bad{border-color:var(--bad);color:var(--bad)}.summary .warn{border-color:var(--warn);color:var(--warn)}
.tools{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid var(--line);z-index:1}
.tools input{width:24rem;max-width:60vw}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
th,td{border-bottom:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:var(--bg2)}th button{all:unset;cursor:pointer;font-weight:600}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
code{font-size:12px;word-break:break-all}
.grants{margin:0;padding-left:1rem}.reason{max-width:40rem}
.st.failed,.bad{color:var(--bad);font-weight:600}.st.change{color:var(--warn);font-weight:600}.st.access,.ok{color:var(--ok)}
.st.none{color:var(--muted)}.minus{color:var(--bad)}.plus{color:var(--ok)}
#failed{border:2px solid var(--bad)}#failed th{background:#fde8e6}
.fill{display:flex;flex-wrap:wrap;gap:.3rem 2rem}.meter{display:flex;align-items:center;gap:.5rem}
.bar{width:12rem;height:.8rem;background:var(--bg2);border:1px solid var(--line);border-radius:4px;overflow:hidden}
.bar span{display:block;height:100%;background:var(--ok)}.bar.high span{background:var(--warn)}.bar.full span{background:var(--bad)}
[hidden]{display:none!important}
@media screen{article.role,#providers,#no-access{content-visibility:auto;contain-intrinsic-size:auto 600px}}
@media print{
  .tools{display:none}body{max-width:none;padding:0;font-size:10pt}
  .bar,.bar span{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  h2{break-after:avoid}tr,.meter{break-inside:avoid}thead{display:table-header-group}
  th button::after{content:""!important}a{color:inherit;text-decoration:none}
}
`.trim();

export const REPORT_SCRIPT = `
(() => {
  const filter = document.getElementById('filter');
  const show = document.getElementById('show');
  const shown = document.getElementById('shown');
  const rows = Array.from(document.querySelectorAll('tr[data-state]'));
  const texts = new Map();
  const textOf = (tr) => {
    let text = texts.get(tr);
    if (text === undefined) {
      const role = tr.closest('article');
      text = ((role ? role.dataset.name + ' ' : '') + tr.textContent).toLowerCase();
      texts.set(tr, text);
    }
    return text;
  };
  const apply = () => {
    const words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    const state = show.value;
    let visible = 0;
    for (const tr of rows) {
      const hide = (state !== 'all' && tr.dataset.state !== state) || !words.every((w) => textOf(tr).includes(w));
      tr.hidden = hide;
      if (!hide) visible++;
    }
    const filtering = words.length > 0 || state !== 'all';
    for (const block of document.querySelectorAll('article.role, main table')) {
      block.hidden = filtering && !block.querySelector('tr[data-state]:not([hidden])');
    }
    shown.textContent = filtering ? visible + ' of ' + rows.length + ' rows shown' : '';
  };
  let timer;
  filter.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(apply, 120); });
  show.addEventListener('change', apply);
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  document.addEventListener('click', (event) => {
    const th = event.target.closest('table.sortable th');
    if (!th) return;
    const headings = Array.from(th.parentNode.children);
    const column = headings.indexOf(th);
    const ascending = th.getAttribute('aria-sort') !== 'ascending';
    for (const h of headings) h.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    const body = th.closest('table').tBodies[0];
    const keyed = Array.from(body.rows, (tr) => {
      const cell = tr.cells[column];
      return [cell ? (cell.dataset.sort ?? cell.textContent) : '', tr];
    });
    keyed.sort((a, b) => (ascending ? 1 : -1) * collator.compare(a[0], b[0]));
    body.append(...keyed.map((k) => k[1]));
  });
})();
`.trim();
