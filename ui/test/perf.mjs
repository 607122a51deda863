// Browser performance of the web UI, measured in chromium with the Long Tasks API and performance.now():
// 100,000 flows loaded and scrolled; live mode at 1,000 flows/s for 30 s; first render of each view;
// a service map of 500 workloads and 2,000 edges. Writes bench/results/ui.json.
//   node ui/test/perf.mjs            (needs a built bin/sieve-relay with the UI; not part of make test)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeFlows } from './flows.mjs';
import { launchBrowser, Node, repo, startRelay } from './support.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const relay = await startRelay();
const browser = await launchBrowser();
const results = { date: new Date().toISOString(), machine: '2 cores shared', targets: { longTaskMs: 50, firstRenderMs: 1000, mapMs: 1000 } };
try {
  const node = new Node(relay.grpc, 'perf-1');
  const base = makeFlows('perf-1');
  const now = Date.now();
  const total = 100_000;
  for (let b = 0; b < total / 5000; b++) {
    const batch = [];
    for (let i = 0; i < 5000; i++) {
      const n = b * 5000 + i;
      batch.push({ ...base[n % base.length], uuid: `perf-${n}`, timeMs: now - 1_800_000 + Math.floor((n * 1_700_000) / total) });
    }
    await node.push(batch);
  }

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

  // first render of each view: navigation start -> the view's content is there
  const first = {};
  for (const [view, sel] of [['flows', '[data-testid=flow-row]'], ['map', '[data-testid=service-map][data-ready=true]'], ['drops', '.u-over'], ['policies', '[data-testid=policy-row]'], ['nodes', '[data-testid=nodes] tbody tr']]) {
    await page.goto(`${relay.base}/${view}?since=1h`);
    await page.waitForSelector(sel, { timeout: 30_000 });
    first[view] = Math.round(await page.evaluate(() => performance.now()));
  }
  results.firstRenderMs = first;

  // 100,000 flows loaded, then scrolled top to bottom over ~5 s
  await page.goto(`${relay.base}/flows?since=1h&limit=100000`);
  const t0 = await nowIn();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=row-count]')?.textContent.replace(/[^0-9]/g, '')) >= n
    && !document.body.textContent.includes('loading…'), total, { timeout: 120_000, polling: 200 });
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
  results.load100k = {
    rows: await rows(), loadedMs: Math.round(loadedMs), longTasksDuringLoad: loadLong.length, maxLongTaskMsDuringLoad: Math.round(Math.max(0, ...loadLong.map((e) => e.ms))),
    scrollMs: Math.round(scrollMs), longTasksDuringScroll: scrollLong.length, maxLongTaskMsDuringScroll: Math.round(Math.max(0, ...scrollLong.map((e) => e.ms))),
  };
  console.log('100k', results.load100k);

  // live: 1,000 flows/s for 30 s (100 flows every 100 ms) into a page following everything
  await page.goto(`${relay.base}/flows?since=5m&limit=100&live=1`);
  await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent.includes('following'), null, { timeout: 20_000 });
  const l0 = await nowIn();
  let sent = 0;
  const start = Date.now();
  for (let tick = 0; tick < 300; tick++) {
    const batch = [];
    for (let i = 0; i < 100; i++) batch.push({ ...base[(sent + i) % base.length], uuid: `live-${sent + i}`, timeMs: Date.now() });
    sent += batch.length;
    node.push(batch).catch(() => {});
    const next = start + (tick + 1) * 100;
    await sleep(Math.max(0, next - Date.now()));
  }
  await sleep(1500);
  const liveLong = await longSince(l0);
  results.live1000 = {
    sent, seconds: Math.round((Date.now() - start) / 100) / 10, rows: await rows(),
    longTasks: liveLong.length, maxLongTaskMs: Math.round(Math.max(0, ...liveLong.map((e) => e.ms))),
  };
  console.log('live', results.live1000);
  node.close();

  // service map: 500 workloads in 10 namespaces, 2,000 edges (some dropped)
  const mapNode = new Node(relay.grpc, 'perf-map');
  const ep = (w) => ({ namespace: `ns-${w % 10}`, pod_name: `wl-${w}-0`, identity: 10000 + w, labels: [`k8s:app=wl-${w}`], workloads: [{ name: `wl-${w}`, kind: 'Deployment' }] });
  const mapFlows = [];
  for (let e = 0; e < 2000; e++) {
    const s = e % 500, d = (s + 1 + Math.floor(e / 500) * 37 + (e % 7)) % 500;
    mapFlows.push({ verdict: e % 11 === 0 ? 'DROPPED' : 'FORWARDED', drop_reason_desc: e % 11 === 0 ? 'POLICY_DENIED' : undefined, uuid: `map-${e}`,
      timeMs: Date.now() - 1000, node_name: 'perf-map', IP: { source: '10.9.0.1', destination: '10.9.0.2' }, l4: { TCP: { source_port: 40000, destination_port: 80 } },
      source: ep(s), destination: ep(d) });
  }
  await mapNode.push(mapFlows);
  mapNode.close();
  const mp = await ctx.newPage();
  await mp.goto(`${relay.base}/map?since=5m`);
  await mp.waitForSelector('[data-testid=service-map][data-ready=true]', { timeout: 60_000 });
  const status = await mp.locator('.mapview .statusbar').textContent();
  const m = status.match(/(\d+) workloads, (\d+) edges · layout (\d+) ms, draw (\d+) ms/);
  const mapLong = await mp.evaluate(() => window.__long);
  results.map = { workloads: +m[1], edges: +m[2], layoutMs: +m[3], drawMs: +m[4], longTasks: mapLong.length, maxLongTaskMs: Math.round(Math.max(0, ...mapLong.map((e) => e.ms))) };
  console.log('map', results.map);
  mkdirSync(path.join(repo, 'ui/target/screenshots'), { recursive: true });
  await mp.screenshot({ path: path.join(repo, 'ui/target/screenshots/map-500.png') });
  await ctx.close();
} finally {
  await browser.close();
  await relay.stop();
}
mkdirSync(path.join(repo, 'bench/results'), { recursive: true });
writeFileSync(path.join(repo, 'bench/results/ui.json'), JSON.stringify(results, null, 2) + '\n');
console.log(JSON.stringify(results, null, 2));
