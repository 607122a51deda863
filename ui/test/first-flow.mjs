// The time from `make run` (already built: scripts/run.sh, what `make run` runs after its build step) to the
// first flow visible in the web UI, and the UI against the real scenario: a dropped flow's "why" is the policy
// engine's trace through the scenario's manifests. Runs the scenario headless on spare ports with its own lab
// prefix, then stops it (its teardown removes everything it made). Needs root (network namespaces, BPF).
//   node ui/test/first-flow.mjs            prints the figures; merges them into bench/results/ui.json
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, launchBrowser, repo } from './support.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ports = { SIEVE_OBSERVER_PORT: await freePort(), SIEVE_METRICS_PORT: await freePort(), SIEVE_RELAY_GRPC_PORT: await freePort(), SIEVE_RELAY_HTTP_PORT: await freePort() };
const base = `http://127.0.0.1:${ports.SIEVE_RELAY_HTTP_PORT}`;
const t0 = Date.now();
const run = spawn(path.join(repo, 'scripts/run.sh'), ['--headless', '300'], {
  cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), SIEVE_RUN_PREFIX: `ff${process.pid % 100000}`,
    // plaintext: make run's relay speaks TLS by default (its own CA), which this page and fetch() would have to trust
    SIEVE_RUN_TLS: '0' },
});
let log = '';
run.stdout.on('data', (d) => { log += d; });
run.stderr.on('data', (d) => { log += d; });
const browser = await launchBrowser();
const out = {};
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  // the UI answers as soon as the relay is up; the first flow shows once the agent has pushed one
  for (;;) {
    if (run.exitCode !== null) throw new Error(`run.sh exited ${run.exitCode}:\n${log}`);
    if (Date.now() - t0 > 240_000) throw new Error(`no flow in the UI after 240 s:\n${log}`);
    try {
      const r = await page.goto(`${base}/flows?since=5m&live=1`, { timeout: 5_000 });
      if (r?.ok()) break;
    } catch { /* not up yet */ }
    await sleep(250);
  }
  out.uiAnsweredMs = Date.now() - t0;
  await page.waitForSelector('[data-testid=flow-row]', { timeout: 240_000 });
  out.firstFlowVisibleMs = Date.now() - t0;
  console.log(`make run (built) -> UI answers: ${out.uiAnsweredMs} ms, first flow visible: ${out.firstFlowVisibleMs} ms`);
  // a dropped flow of the scenario, explained by the policy engine through the scenario's manifests
  let dropped;
  for (let i = 0; i < 60 && !dropped; i++) {
    const fl = await (await fetch(`${base}/api/v1/flows?since=5m&verdict=DROPPED&protocol=tcp&last=50`)).json();
    dropped = fl.find((f) => f.source?.pod_name && f.destination?.pod_name && !f.l7 && !f.is_reply);
    if (!dropped) await sleep(1000);
  }
  if (dropped) {
    const why = await (await fetch(`${base}/api/v1/why?uuid=${dropped.uuid}`)).json();
    await page.goto(`${base}/flows?since=5m&q=verdict:DROPPED&flow=${dropped.uuid}`);
    await page.getByTestId('why-trace').waitFor({ timeout: 30_000 });
    out.scenarioWhy = {
      flow: `${dropped.source.namespace}/${dropped.source.pod_name} -> ${dropped.destination.namespace}/${dropped.destination.pod_name}`,
      relay: { verdict: why.verdict, agrees: why.agrees, allow: why.allow?.kind, rule: why.ingress?.rule ?? why.egress?.rule },
      ui: await page.getByTestId('why-trace').getAttribute('data-verdict'),
    };
    console.log('scenario why', out.scenarioWhy);
    await page.screenshot({ path: path.join(repo, 'ui/target/screenshots/run-why.png') });
  }
} finally {
  await browser.close();
  try { process.kill(-run.pid, 'SIGINT'); } catch { /* gone */ }
  await new Promise((r) => (run.exitCode !== null ? r() : run.on('exit', r)));
}
const file = path.join(repo, 'bench/results/ui.json');
const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
all.makeRun = { date: new Date().toISOString(), ...out };
writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
