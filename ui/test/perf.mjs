// Browser performance of the web UI, measured in chromium with the Long Tasks API and performance.now():
// first render of each view; 100,000 flows loaded and scrolled; live mode at 1,000 flows/s for 30 s; a service
// map of 500 workloads and 2,000 edges. Writes bench/results/ui.json.
//   node ui/test/perf.mjs       (scripts/bench-ui.sh; needs a built bin/sieve-relay with the UI)
// With SIEVE_UI_BASELINE_DIST=DIR (a `vite build` of an earlier UI, scripts/bench-ui.sh makes one) the same
// measurements run against that UI too, in the same run, over the same relay and flows: each variant's dist is
// served by a small static server here that passes /api/ through to the relay.
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { makeFlows } from './flows.mjs';
import { freePort, launchBrowser, Node, repo, startRelay } from './support.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LIVE_SECONDS = Number(process.env.SIEVE_UI_LIVE_SECONDS ?? 30);
const relay = await startRelay();
const browser = await launchBrowser();
const results = {
  date: new Date().toISOString(), machine: '2 cores, shared with other builds and tests (load average in `load`)',
  targets: { longTaskMs: 50, firstRenderMs: 1000, mapMs: 1000 },
};
const servers = [];

/** Serves a UI build (index.html for the app's routes) and passes /api/ through to the relay, streaming. */
async function serveDist(dist) {
  const port = await freePort();
  const target = new URL(relay.base);
  const types = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.svg': 'image/svg+xml' };
  const srv = http.createServer((req, res) => {
    if (req.url.startsWith('/api/')) {
      const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        res.flushHeaders(); // an SSE answer opens now, not at its first event
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy()); // the browser went away (a request's own 'close' comes when its body ends)
      req.pipe(up);
      return;
    }
    let f = path.join(dist, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!f.startsWith(dist) || !existsSync(f) || statSync(f).isDirectory()) f = path.join(dist, 'index.html');
    res.writeHead(200, { 'content-type': types[path.extname(f)] ?? 'application/octet-stream' });
    createReadStream(f).pipe(res);
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  servers.push(srv);
  return `http://127.0.0.1:${port}`;
}

const loadavg = async () => (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

const iso = (ms) => new Date(ms).toISOString();

const ONLY_MAP = process.env.SIEVE_UI_ONLY === 'map';
const summary = (l) => ({ count: l.length, maxMs: Math.round(Math.max(0, ...l.map((e) => e.ms))) });

async function measure(name, base, node, base0) {
  const out = { load: {} };
  if (!ONLY_MAP) await measurePage(name, base, node, base0, out);
  await measureMap(name, base, base0, out);
  return out;
}

async function measurePage(name, base, node, base0, out) {
  const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  await ctx.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ start: e.startTime, ms: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  });
  const page = await ctx.newPage();
  const rows = () => page.evaluate(() => Number(document.querySelector('[data-testid=row-count]')?.textContent.replace(/[^0-9]/g, '') ?? 0));
  const longSince = (t) => page.evaluate((t0) => window.__long.filter((e) => e.start >= t0), t);
  const nowIn = () => page.evaluate(() => performance.now());

  // first render of each view: navigation start -> the view's content is there (a fresh page each time)
  out.load.firstRender = await loadavg();
  out.firstRenderMs = {};
  // the map's first frame is its workloads in a grid per namespace; a small map is then laid out by ELK (mapRefined)
  const drawnMap = name === 'baseline' ? '[data-testid=service-map][data-ready=true]' : '[data-testid=service-map][data-drawn=true]';
  for (const [view, sel] of [['flows', '[data-testid=flow-row]'], ['map', drawnMap], ['drops', '.u-over'], ['policies', '[data-testid=policy-row]'], ['nodes', '[data-testid=nodes] tbody tr']]) {
    const p = await ctx.newPage();
    // the range of the 100,000 flows (not the big map's flows, which have a view of their own below)
    await p.goto(`${base}/${view}?from=${iso(base0.from)}&to=${iso(base0.to)}`);
    await p.waitForSelector(sel, { timeout: 120_000 });
    out.firstRenderMs[view] = Math.round(await p.evaluate(() => performance.now()));
    if (view === 'map') {
      await p.waitForSelector('[data-testid=service-map][data-ready=true]', { timeout: 120_000 });
      out.firstRenderMs.mapRefined = Math.round(await p.evaluate(() => performance.now()));
    }
    await p.close();
  }

  // 100,000 flows loaded, then scrolled top to bottom in 300 steps
  out.load.load100k = await loadavg();
  await page.goto(`${base}/flows?from=${iso(base0.from)}&to=${iso(base0.to)}&limit=100000`);
  const t0 = await nowIn();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=row-count]')?.textContent.replace(/[^0-9]/g, '')) >= n
    && !document.body.textContent.includes('loading…'), base0.total, { timeout: 300_000, polling: 200 });
  const loadedMs = (await nowIn()) - t0;
  const loadLong = await longSince(0);
  const s0 = await nowIn();
  await page.evaluate(async () => {
    const el = document.querySelector('[data-testid=flow-table]');
    const steps = 300;
    for (let i = 0; i <= steps; i++) {
      el.scrollTop = (el.scrollHeight * i) / steps;
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 10)));
    }
  });
  const scrollMs = (await nowIn()) - s0;
  const scrollLong = await longSince(s0);
  // and scrolled like a reader: 100 px wheel steps over 600 rows
  const w0 = await nowIn();
  await page.locator('[data-testid=flow-table]').hover();
  for (let i = 0; i < 150; i++) { await page.mouse.wheel(0, 100); await sleep(16); }
  const wheelLong = await longSince(w0);
  const l = summary(loadLong), s = summary(scrollLong), w = summary(wheelLong);
  out.load100k = {
    rows: await rows(), loadedMs: Math.round(loadedMs), longTasksDuringLoad: l.count, maxLongTaskMsDuringLoad: l.maxMs,
    scrollMs: Math.round(scrollMs), longTasksDuringScroll: s.count, maxLongTaskMsDuringScroll: s.maxMs,
    longTasksDuringWheel: w.count, maxLongTaskMsDuringWheel: w.maxMs,
  };
  console.log(name, '100k', out.load100k);

  // live: 1,000 flows/s (100 every 100 ms) into a page following everything
  out.load.live = await loadavg();
  await page.goto(`${base}/flows?since=5m&limit=100&live=1`);
  await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent.includes('following'), null, { timeout: 30_000 });
  const l0 = await nowIn();
  let sent = 0;
  const start = Date.now();
  for (let tick = 0; tick < LIVE_SECONDS * 10; tick++) {
    const batch = [];
    for (let i = 0; i < 100; i++) batch.push({ ...base0.flows[(sent + i) % base0.flows.length], uuid: `live-${name}-${sent + i}`, timeMs: Date.now() });
    sent += batch.length;
    node.push(batch).catch(() => {});
    await sleep(Math.max(0, start + (tick + 1) * 100 - Date.now()));
  }
  await sleep(1500);
  const liveLong = summary(await longSince(l0));
  out.live1000 = { sent, seconds: Math.round((Date.now() - start) / 100) / 10, rows: await rows(), longTasks: liveLong.count, maxLongTaskMs: liveLong.maxMs };
  console.log(name, 'live', out.live1000);
  await ctx.close();
}

async function measureMap(name, base, base0, out) {

  // the service map of 500 workloads / 2,000 edges, in a fresh page
  out.load.map = await loadavg();
  const mctx = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  await mctx.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push({ start: e.startTime, ms: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  });
  const mp = await mctx.newPage();
  await mp.goto(`${base}/map?from=${iso(base0.mapAt - 60_000)}&to=${iso(base0.mapAt + 60_000)}`);
  const first = name === 'baseline' ? null : mp.waitForSelector('[data-testid=service-map][data-drawn=true]', { timeout: 300_000 }).then(() => mp.evaluate(() => performance.now()));
  await mp.waitForSelector('[data-testid=service-map][data-ready=true]', { timeout: 300_000 });
  const ready = await mp.evaluate(() => performance.now());
  const firstFrame = first ? await first : ready;
  const status = await mp.locator('.mapview .statusbar').textContent();
  const m = status.match(/(\d+) workloads, (\d+) edges · layout (\d+) ms, draw (\d+) ms/);
  const mapLong = summary(await mp.evaluate(() => window.__long));
  out.map = { workloads: +m[1], edges: +m[2], layoutMs: +m[3], drawMs: +m[4], pageToFirstFrameMs: Math.round(firstFrame), pageToDrawnMs: Math.round(ready), longTasks: mapLong.count, maxLongTaskMs: mapLong.maxMs };
  console.log(name, 'map', out.map);
  mkdirSync(path.join(repo, 'ui/target/screenshots'), { recursive: true });
  await mp.screenshot({ path: path.join(repo, `ui/target/screenshots/map-500-${name}.png`) });
  await mctx.close();
}

try {
  const node = new Node(relay.grpc, 'perf-1');
  const flows = makeFlows('perf-1');
  const now = Date.now();
  const total = 100_000;
  // the 100,000 flows over 30 minutes ending 3 hours ago; the map's flows 2 hours ago; live flows now
  const from = now - 3 * 3600_000 - 1_800_000, to = now - 3 * 3600_000, mapAt = now - 2 * 3600_000;
  for (let b = 0; b < (ONLY_MAP ? 0 : total / 5000); b++) {
    const batch = [];
    for (let i = 0; i < 5000; i++) {
      const n = b * 5000 + i;
      batch.push({ ...flows[n % flows.length], uuid: `perf-${n}`, timeMs: from + Math.floor((n * (to - from)) / total) });
    }
    await node.push(batch);
  }
  // service map: 500 workloads in 10 namespaces, 2,000 edges (some dropped)
  const mapNode = new Node(relay.grpc, 'perf-map');
  const ep = (w) => ({ namespace: `ns-${w % 10}`, pod_name: `wl-${w}-0`, identity: 10000 + w, labels: [`k8s:app=wl-${w}`], workloads: [{ name: `wl-${w}`, kind: 'Deployment' }] });
  const mapFlows = [];
  for (let e = 0; e < 2000; e++) {
    const s = e % 500, d = (s + 1 + Math.floor(e / 500) * 37 + (e % 7)) % 500;
    mapFlows.push({ verdict: e % 11 === 0 ? 'DROPPED' : 'FORWARDED', drop_reason_desc: e % 11 === 0 ? 'POLICY_DENIED' : undefined, uuid: `map-${e}`,
      timeMs: mapAt, node_name: 'perf-map', IP: { source: '10.9.0.1', destination: '10.9.0.2' }, l4: { TCP: { source_port: 40000, destination_port: 80 } },
      source: ep(s), destination: ep(d) });
  }
  await mapNode.push(mapFlows);
  mapNode.close();

  const variants = [['current', relay.base]];
  if (process.env.SIEVE_UI_BASELINE_DIST) {
    variants.unshift(['baseline', await serveDist(path.resolve(process.env.SIEVE_UI_BASELINE_DIST))]);
    results.baseline = process.env.SIEVE_UI_BASELINE_REF ?? process.env.SIEVE_UI_BASELINE_DIST;
  }
  for (const [name, base] of variants) results[name] = await measure(name, base, node, { total, flows, from, to: to + 1000, mapAt });
  node.close();
} finally {
  await browser.close();
  for (const s of servers) s.close();
  await relay.stop();
}
mkdirSync(path.join(repo, 'bench/results'), { recursive: true });
if (!ONLY_MAP) writeFileSync(path.join(repo, 'bench/results/ui.json'), JSON.stringify(results, null, 2) + '\n');
console.log(JSON.stringify(results, null, 2));
