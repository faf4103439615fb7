/**
 * The live page: one HTML document with inline CSS and script (no build step, no external asset,
 * works offline). The script polls /live.json every 2 s and draws what it says; the charts come as
 * SVG from the server (the shared chart builder), every other value is set as text.
 */
export const POLL_MS = 2000;

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:16px auto;max-width:1100px;color:#1d2430;padding:0 12px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 4px;border-top:1px solid #dde2ea;padding-top:12px}
.meta{color:#4a5566}.on{color:#b91c1c;font-weight:600}.off{color:#15803d}.firing{color:#b91c1c;font-weight:600}
table{border-collapse:collapse;margin:6px 0}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}th{color:#4a5566;font-weight:600}
.recent{max-height:260px;overflow:auto;border:1px solid #eceff4}.charts{display:flex;flex-wrap:wrap;gap:8px}.chart-box{border:1px solid #eceff4;padding:4px}.chart-box b{display:block}
svg{max-width:100%;height:auto}.err{color:#b91c1c}.reason{font-family:ui-monospace,monospace}`;

const SCRIPT = `(() => {
  const token = new URLSearchParams(location.search).get('token');
  const headers = token ? { authorization: 'Bearer ' + token } : {};
  const iso = (t) => t == null ? '-' : new Date(t).toISOString().replace('.000Z', 'Z').replace('T', ' ');
  const el = (tag, attrs, ...kids) => { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v); for (const k of kids) e.append(k); return e; };
  const row = (cells, head) => el('tr', {}, ...cells.map((c) => el(head ? 'th' : 'td', {}, c)));
  const num = (v) => v == null ? 'none' : String(Number(v.toPrecision(4)));
  function render(s) {
    document.getElementById('version').textContent = s.ruleSet.version;
    document.getElementById('count').textContent = String(s.ruleSet.rules);
    const ks = document.getElementById('kill');
    ks.textContent = s.ruleSet.killSwitch ? 'ON (every rule records suppressions only)' : 'off';
    ks.className = s.ruleSet.killSwitch ? 'on' : 'off';
    document.getElementById('updated').textContent = iso(s.generatedAt) + ', ' + s.batches + ' batches, last ' + iso(s.lastBatchAt);
    const firing = s.rules.flatMap((r) => r.scopes.filter((sc) => sc.status === 'firing').map((sc) => r.id + ' in ' + sc.scope + ' since ' + iso(sc.firingSince)));
    document.getElementById('firing').replaceChildren(...(firing.length ? firing.map((f) => el('li', { class: 'firing' }, f)) : [el('li', { class: 'meta' }, 'nothing firing')]));
    const quiet = s.rules.filter((r) => r.scopes.length === 0);
    document.getElementById('quiet').textContent = quiet.length ? 'No evaluation yet: ' + quiet.map((r) => r.id + ' (' + r.version + ')').join(', ') : '';
    const rules = document.getElementById('rules');
    rules.replaceChildren(...s.rules.filter((r) => r.scopes.length > 0).map((r) => {
      const sec = el('section', { 'data-rule': r.id });
      sec.append(el('h2', {}, r.id + ' ', el('span', { class: 'meta' }, 'version ' + r.version)));
      sec.append(el('p', { class: 'meta' }, (r.conditions ? 'fires while ' + r.conditions : r.aggregate + ' of ' + r.cpi + ', fires ' + r.direction + ' ' + num(r.threshold) + ', clears at ' + num(r.clear)) + (r.killSwitch ? ' · KILL SWITCH ON' : '') + ' · firing now in ' + r.firing + ' scope(s)'));
      const t = el('table', { class: 'scopes' }, row(['scope', 'status', 'firing since', 'last value', 'at', 'budget used'], true));
      for (const sc of r.scopes) {
        const st = el('span', { class: sc.status === 'firing' ? 'firing' : '' }, sc.status === 'firing' ? 'FIRING' : sc.status);
        t.append(row([sc.scope, st, iso(sc.firingSince), num(sc.value), iso(sc.at), sc.budget ? sc.budget.used + ' of ' + sc.budget.max : '-']));
      }
      sec.append(t);
      const charts = el('div', { class: 'charts' });
      for (const sc of r.scopes) if (sc.svg) { const box = el('div', { class: 'chart-box' }, el('b', {}, sc.scope)); box.insertAdjacentHTML('beforeend', sc.svg); charts.append(box); }
      sec.append(charts);
      return sec;
    }));
    const d = document.getElementById('decisions');
    d.replaceChildren(row(['time (UTC)', 'rule', 'scope', 'customer', 'outcome', 'reason'], true), ...s.decisions.map((x) =>
      row([iso(x.at), x.ruleId, x.scope, x.customerId, x.outcome, el('span', { class: 'reason' }, x.reason || '')])));
    document.getElementById('error').textContent = '';
  }
  async function poll() {
    try {
      const res = await fetch('live.json', { headers, cache: 'no-store' });
      if (!res.ok) throw new Error(res.status + ' ' + (await res.text()));
      render(await res.json());
    } catch (err) { document.getElementById('error').textContent = 'not updated: ' + err.message; }
    setTimeout(poll, ${POLL_MS});
  }
  poll();
})();`;

export function livePageHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>cpiwatch live</title><style>${CSS}</style></head><body>
<h1>cpiwatch live</h1>
<p class="meta">rules version <b id="version">-</b> (<span id="count">0</span> rules) · kill switch <span id="kill">-</span> · updated <span id="updated">-</span> <span id="error" class="err"></span></p>
<h2>Firing now</h2>
<ul id="firing"></ul>
<h2>Recent decisions</h2>
<p class="meta">Offers and suppressions with their reason, newest first (customer ids only).</p>
<div class="recent"><table id="decisions"></table></div>
<div id="rules"></div>
<p id="quiet" class="meta"></p>
<script>${SCRIPT}</script>
</body></html>
`;
}
