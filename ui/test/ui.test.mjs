// Browser tests of the web UI: Debian's chromium (playwright-core) against a real bin/sieve-relay
// fed over the real ingest gRPC. Screenshots go to ui/target/screenshots/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeFlows } from './flows.mjs';
import { launchBrowser, Node, repo, startRelay, tempDir } from './support.mjs';

const shots = path.join(repo, 'ui/target/screenshots');
mkdirSync(shots, { recursive: true });

let relay, browser, node, flows;
const count = (pred) => flows.filter(pred).length;

before(async () => {
  // the relay explains flows ("why") with the policy engine over the manifests the test flows come from
  relay = await startRelay(['--manifests', path.join(repo, 'ui/test/manifests')]);
  browser = await launchBrowser();
  node = new Node(relay.grpc, 'node-a');
  flows = makeFlows('node-a');
  await node.push(flows);
}, { timeout: 90_000 });

after(async () => {
  node?.close();
  await browser?.close();
  await relay?.stop();
});

async function open(url, { theme = 'dark', width = 1600, height = 900 } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  await ctx.addInitScript((t) => localStorage.setItem('sieve.theme', t), theme);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(relay.base + url);
  return { page, ctx, errors };
}

const rowCount = async (page) => Number((await page.getByTestId('row-count').textContent()).replace(/[^0-9]/g, ''));

async function waitRows(page, n) {
  await page.waitForFunction((want) => {
    const t = document.querySelector('[data-testid=row-count]')?.textContent ?? '';
    return Number(t.replace(/[^0-9]/g, '')) === want && !document.body.textContent.includes('loading…');
  }, n, { timeout: 10_000 }).catch(() => {});
  return rowCount(page);
}

async function shot(page, name) {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file });
  // not blank: a page with content compresses far worse than a flat colour
  assert.ok(statSync(file).size > 15_000, `${file} looks blank (${statSync(file).size} bytes)`);
  return file;
}

async function apiCount(params) {
  const r = await fetch(`${relay.base}/api/v1/flows?${params}`);
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).length;
}

describe('flow explorer', () => {
  test('lists every stored flow, newest first, with the columns', async () => {
    const { page, ctx, errors } = await open('/flows?since=1h');
    assert.equal(await waitRows(page, flows.length), flows.length);
    const first = await page.getByTestId('flow-row').first().getAttribute('data-uuid');
    assert.equal(first, flows[flows.length - 1].uuid, 'newest flow on top');
    const header = await page.locator('.thead').textContent();
    for (const h of ['Time', 'Source', 'Destination', 'Protocol', 'L7', 'Verdict', 'Drop reason', 'Policy', 'Node']) assert.ok(header.includes(h), h);
    const row = await page.locator(`[data-uuid="${flows.find((f) => f.kind === 'web').uuid}"]`).textContent();
    assert.match(row, /production\/frontend-0/);
    assert.match(row, /HTTP GET \/api\/v1\/items 200/);
    await shot(page, 'flows-dark');
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  const cases = [
    ['verdict:DROPPED', (f) => f.verdict === 'DROPPED'],
    ['namespace:kube-system', (f) => f.source.namespace === 'kube-system' || f.destination.namespace === 'kube-system'],
    ['namespace:development,monitoring', (f) => ['development', 'monitoring'].includes(f.source.namespace)],
    ['from-pod:production/frontend to-port:5432', (f) => f.kind === 'db-denied'],
    ['!verdict:DROPPED', (f) => f.verdict !== 'DROPPED'],
    ['!namespace:production', (f) => f.source.namespace !== 'production' && f.destination.namespace !== 'production'],
    ['verdict:FORWARDED !to-port:8080', (f) => f.verdict === 'FORWARDED' && f.l4.TCP?.destination_port !== 8080 && f.l4.UDP?.destination_port !== 8080],
    ['http-status:503', (f) => f.kind === 'web500'],
    ['http-method:GET', (f) => f.kind === 'web'],
    ['from-label:k8s:app=prometheus', (f) => f.kind === 'scrape'],
    ['ip:1.1.1.1', (f) => f.kind === 'dns'],
    ['from-ip:10.0.1.0/24', (f) => f.IP.source.startsWith('10.0.1.')],
    ['protocol:udp', (f) => f.kind === 'dns'],
    ['traffic-direction:egress', (f) => f.traffic_direction === 'EGRESS'],
    ['drop-reason:POLICY_DENIED from-namespace:development', (f) => f.kind === 'dev-denied'],
    ['from-identity:4001', (f) => f.source.identity === 4001],
    ['node-name:node-a verdict:AUDIT', (f) => f.verdict === 'AUDIT'],
    ['port:53', (f) => f.kind === 'dns'],
  ];
  test('each filter narrows to exactly the expected flows, as the REST API answers the same flags', async () => {
    const { page, ctx } = await open('/flows?since=1h');
    let lastFlowsUrl = '';
    page.on('request', (r) => { if (r.url().includes('/api/v1/flows/stream?')) lastFlowsUrl = r.url().replace('/flows/stream?', '/flows?'); });
    await waitRows(page, flows.length);
    for (const [text, pred] of cases) {
      const want = count(pred);
      assert.ok(want > 0 && want < flows.length, `${text}: a case that selects something but not all (${want})`);
      await page.goto(`${relay.base}/flows?since=1h`);
      await waitRows(page, flows.length);
      await page.getByTestId('filter-input').fill(text);
      await page.getByTestId('filter-input').press('Enter');
      const got = await waitRows(page, want);
      assert.equal(got, want, `UI: ${text}`);
      // the request the UI made (the chips as REST parameters) answers the same when asked directly
      assert.ok(new URL(page.url()).searchParams.get('q'), `${text}: filter in the URL`);
      assert.ok(lastFlowsUrl, `${text}: the UI asked the relay`);
      const direct = await (await fetch(lastFlowsUrl)).json();
      assert.equal(direct.length, want, `REST: ${lastFlowsUrl}`);
    }
    await ctx.close();
  });

  test('the same flags straight to the REST API give the expected counts (the grammar maps 1:1 to hubble flags)', async () => {
    assert.equal(await apiCount('since=1h&verdict=DROPPED'), count((f) => f.verdict === 'DROPPED'));
    assert.equal(await apiCount('since=1h&from-pod=production/frontend&to-port=5432'), count((f) => f.kind === 'db-denied'));
    assert.equal(await apiCount(`since=1h&blacklist=${encodeURIComponent('{"verdict":["DROPPED"]}')}`), count((f) => f.verdict !== 'DROPPED'));
  });

  test('chips: a bad filter is named, a chip toggles to negation and is removed', async () => {
    const { page, ctx } = await open('/flows?since=1h');
    await waitRows(page, flows.length);
    await page.getByTestId('filter-input').fill('colour:red');
    await page.getByTestId('filter-input').press('Enter');
    assert.match(await page.getByRole('alert').textContent(), /unknown filter "colour"/);
    await page.getByTestId('filter-input').fill('verdict:DROPPED');
    await page.getByTestId('filter-input').press('Enter');
    assert.equal(await waitRows(page, count((f) => f.verdict === 'DROPPED')), count((f) => f.verdict === 'DROPPED'));
    await page.locator('.chip-toggle').first().click();
    assert.equal(await waitRows(page, count((f) => f.verdict !== 'DROPPED')), count((f) => f.verdict !== 'DROPPED'));
    assert.equal(new URL(page.url()).searchParams.get('q'), '!verdict:DROPPED');
    await shot(page, 'flows-filtered');
    await page.locator('.chip-x').first().click();
    assert.equal(await waitRows(page, flows.length), flows.length);
    await ctx.close();
  });

  test('time range: an absolute from-to window before the flows shows none, one around them shows all', async () => {
    const t0 = new Date(Date.now() - 3 * 3600_000).toISOString(), t1 = new Date(Date.now() - 2 * 3600_000).toISOString();
    const { page, ctx } = await open(`/flows?from=${t0}&to=${t1}`);
    assert.equal(await waitRows(page, 0), 0);
    assert.match(await page.locator('.empty').textContent(), /No flows/);
    await page.goto(`${relay.base}/flows?from=${new Date(Date.now() - 600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`);
    assert.equal(await waitRows(page, flows.length), flows.length);
    await ctx.close();
  });

  test('live mode adds a flow pushed after load; paused, rows stand still until resumed', async () => {
    const { page, ctx } = await open('/flows?since=1h&q=from-namespace:live');
    assert.equal(await waitRows(page, 0), 0);
    await page.getByTestId('live').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent.includes('following'), null, { timeout: 10_000 });
    const mk = (i) => ({
      ...flows[0], uuid: `live-${i}`, timeMs: Date.now(), verdict: 'FORWARDED',
      source: { ...flows[0].source, namespace: 'live', pod_name: `pusher-${i}` }, kind: 'live',
      ingress_allowed_by: [], egress_allowed_by: [], ingress_denied_by: [], egress_denied_by: [],
    });
    // no wait: the relay subscribes before it answers, so "following" means the next flow arrives
    await node.push([mk(1)]);
    flows.push(mk(1));
    assert.equal(await waitRows(page, 1), 1, 'a live flow appears');
    await page.getByTestId('pause').click();
    await node.push([mk(2), mk(3)]);
    flows.push(mk(2), mk(3));
    await page.waitForFunction(() => document.querySelector('[data-testid=pause]')?.textContent.includes('2 new'), null, { timeout: 10_000 });
    assert.equal(await rowCount(page), 1, 'paused: no new rows');
    await shot(page, 'flows-live-paused');
    await page.getByTestId('pause').click();
    assert.equal(await waitRows(page, 3), 3, 'resumed: the kept flows are shown');
    assert.equal(await page.getByTestId('flow-row').first().getAttribute('data-uuid'), 'live-3');
    await ctx.close();
  });
});

describe('flow detail', () => {
  test('shows every field, why it was dropped (the deciding policy), and filters on a click', async () => {
    const dropped = flows.find((f) => f.kind === 'db-denied');
    const { page, ctx } = await open('/flows?since=1h');
    await waitRows(page, flows.length);
    await page.locator(`[data-uuid="${dropped.uuid}"]`).click();
    const detail = page.getByTestId('flow-detail');
    await detail.waitFor();
    assert.match(await detail.getByTestId('why').textContent(), /Denied by a deny rule/);
    assert.match(await detail.getByTestId('why-policy').first().textContent(), /deny.*ingress.*CiliumNetworkPolicy production\/deny-frontend-to-database/);
    const text = await detail.textContent();
    for (const f of ['uuid', 'IP.source', 'l4.TCP.destination_port', 'source.labels[0]', 'destination.pod_name', 'node_name', 'drop_reason_desc']) assert.ok(text.includes(f), f);
    assert.equal(new URL(page.url()).searchParams.get('flow'), dropped.uuid, 'the selected flow is in the URL');
    await shot(page, 'flow-detail-dark');
    await detail.locator('[data-path="destination.pod_name"]').click();
    assert.equal(await waitRows(page, count((f) => f.destination.pod_name === 'database-0')), count((f) => f.destination.pod_name === 'database-0'));
    assert.equal(new URL(page.url()).searchParams.get('q'), 'to-pod:production/database-0');
    // keyboard: down moves the selection
    await page.getByTestId('flow-table').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('.tr.selected').count(), 1);
    await ctx.close();
  });

  test('a shared URL reopens the same view: filters, range and the selected flow', async () => {
    const f = flows.find((x) => x.kind === 'web');
    const { page, ctx } = await open(`/flows?since=1h&q=${encodeURIComponent('verdict:FORWARDED !namespace:kube-system')}&flow=${f.uuid}`, { theme: 'light' });
    await page.getByTestId('flow-detail').waitFor();
    const chips = await page.getByTestId('chip').allTextContents();
    assert.equal(chips.length, 2);
    assert.match(await page.getByTestId('why').textContent(), /Allowed by.*allow-frontend-to-backend/);
    const want = count((x) => x.verdict === 'FORWARDED' && x.source.namespace !== 'kube-system' && x.destination.namespace !== 'kube-system');
    assert.equal(await waitRows(page, want), want);
    await shot(page, 'flow-detail-light');
    await ctx.close();
  });
});

describe('why: the policy engine\'s trace of a flow', () => {
  const why = async (uuid) => {
    const r = await fetch(`${relay.base}/api/v1/why?uuid=${encodeURIComponent(uuid)}`);
    assert.equal(r.status, 200, await r.clone().text());
    return r.json();
  };
  const openDetail = async (f) => {
    const { page, ctx } = await open(`/flows?since=1h&flow=${f.uuid}`);
    await page.getByTestId('why-trace').waitFor({ timeout: 15_000 });
    return { page, ctx, trace: page.getByTestId('why-trace') };
  };

  test('a drop by a deny rule names the rule, as the relay traced it; no added policy can allow it', async () => {
    const f = flows.find((x) => x.kind === 'db-denied');
    const answer = await why(f.uuid);
    assert.equal(answer.verdict, 'DROPPED');
    assert.equal(answer.agrees, true);
    assert.equal(answer.ingress.rule, 'CiliumNetworkPolicy production/deny-frontend-to-database spec.ingressDeny[0]');
    assert.equal(answer.allow.kind, 'deny-rule');
    const { page, ctx, trace } = await openDetail(f);
    assert.equal(await trace.getAttribute('data-verdict'), 'DROPPED');
    assert.ok((await page.getByTestId('why-ingress').textContent()).includes(answer.ingress.rule));
    assert.match(await page.getByTestId('why-allow').textContent(), /deny rule wins over every allow/);
    assert.equal(await page.getByTestId('why-allow').getAttribute('data-kind'), 'deny-rule');
    await shot(page, 'why-deny');
    await ctx.close();
  });

  test('an allowed flow names the allowing rule', async () => {
    const f = flows.find((x) => x.kind === 'web');
    const answer = await why(f.uuid);
    assert.equal(answer.verdict, 'FORWARDED');
    assert.equal(answer.ingress.rule, 'NetworkPolicy production/allow-frontend-to-backend spec.ingress[0]');
    assert.equal(answer.request.l7, 'HTTP GET /api/v1/items', 'the HTTP request is traced too');
    const { page, ctx } = await openDetail(f);
    assert.ok((await page.getByTestId('why-ingress').textContent()).includes(answer.ingress.rule));
    assert.equal(await page.getByTestId('why-allow').count(), 0);
    await ctx.close();
  });

  test('a default-deny drop gets a policy that allows it: checked by the relay and by sieve policy trace', async () => {
    const f = flows.find((x) => x.kind === 'dev-denied');
    const answer = await why(f.uuid);
    assert.equal(answer.verdict, 'DROPPED');
    assert.equal(answer.ingress.dropReason, 133, 'default deny at the backend');
    assert.equal(answer.allow.kind, 'policy');
    assert.equal(answer.allow.verified, true);
    assert.equal(answer.allow.verdictWith, 'FORWARDED');
    const { page, ctx } = await openDetail(f);
    assert.equal((await page.getByTestId('why-yaml').textContent()).trim(), answer.allow.yaml.trim());
    assert.match(await page.getByTestId('why-verified').textContent(), /FORWARDED/);
    await shot(page, 'why-allow');
    await ctx.close();
    // the same suggestion through the CLI's trace: without it DROPPED, with it FORWARDED
    const dir = tempDir();
    try {
      const yaml = path.join(dir.path, 'suggested.yaml');
      writeFileSync(yaml, answer.allow.yaml);
      const trace = (files) => execFileSync(path.join(repo, 'bin/sieve'), ['policy', 'trace', '-f', ...files, '--from', 'development/tester-0',
        '--to', 'production/backend-0', '--dport', '8080/TCP', '-o', 'json'], { encoding: 'utf8' });
      const manifests = path.join(repo, 'ui/test/manifests');
      assert.equal(JSON.parse(trace([manifests])).verdict, 'DROPPED');
      assert.equal(JSON.parse(trace([manifests, yaml])).verdict, 'FORWARDED');
    } finally {
      dir.remove();
    }
  });

  test('an unknown flow is a 404 naming it; a missing uuid a 400', async () => {
    const r = await fetch(`${relay.base}/api/v1/why?uuid=nope`);
    assert.equal(r.status, 404);
    assert.match((await r.json()).error, /no flow with uuid nope/);
    assert.equal((await fetch(`${relay.base}/api/v1/why`)).status, 400);
  });
});

describe('export', () => {
  test('JSON is hubble jsonpb lines of the current rows; CSV has a header and one line each', async () => {
    const { page, ctx } = await open('/flows?since=1h&q=verdict:DROPPED');
    const want = count((f) => f.verdict === 'DROPPED');
    assert.equal(await waitRows(page, want), want);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    const lines = readFileSync(await dl.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, want);
    for (const l of lines) {
      assert.equal(l.flow.verdict, 'DROPPED');
      assert.equal(l.node_name, 'node-a');
      assert.equal(l.time, l.flow.time);
    }
    assert.ok(lines[0].time <= lines[lines.length - 1].time, 'oldest first');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const rows = readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert.match(rows[0], /^time,uuid,verdict,drop_reason/);
    assert.equal(rows.length, want + 1);
    assert.ok(rows.slice(1).every((r) => r.includes(',DROPPED,POLICY_DENIED,')));
    await ctx.close();
  });
});

describe('service map, policies, drops, nodes', () => {
  test('the map draws the workloads and a red edge for the dropped pair; an edge opens its flows', async () => {
    const { page, ctx, errors } = await open('/map?since=1h');
    const map = page.getByTestId('service-map');
    await page.waitForFunction(() => document.querySelector('[data-testid=service-map]')?.dataset.ready === 'true', null, { timeout: 15_000 });
    const nodes = await map.getAttribute('data-nodes'), dropped = await map.getAttribute('data-dropped');
    // frontend, backend, database, tester, coredns, prometheus, world
    assert.ok(Number(nodes) >= 6, `nodes: ${nodes}`);
    assert.equal(Number(dropped), 2, 'frontend→database and tester→backend are dropped');
    await page.waitForTimeout(300);
    await shot(page, 'map-dark');
    // a real click on the red frontend → database edge opens exactly its flows
    const at = await page.evaluate(() => {
      const el = document.querySelector('[data-testid=service-map]');
      const e = el.cy.edges().filter((x) => x.data('source') === 'production/frontend' && x.data('target') === 'production/database');
      const m = e.renderedMidpoint(), r = el.getBoundingClientRect();
      return { x: r.left + m.x, y: r.top + m.y, red: e.hasClass('dropped') };
    });
    assert.ok(at.red, 'the dropped pair is drawn red');
    await page.mouse.click(at.x, at.y);
    // the edge's panel: its flows by port, as the relay counts them
    await page.getByTestId('edge-port').first().waitFor({ timeout: 10_000 });
    assert.equal(new URL(page.url()).searchParams.get('edge'), 'production/frontend>production/database');
    const answer = await (await fetch(`${relay.base}/api/v1/flows/ports?since=1h&from-namespace=production&from-workload=frontend&to-namespace=production&to-workload=database`)).json();
    const dbDenied = count((f) => f.kind === 'db-denied');
    assert.deepEqual(answer.ports, [{ port: 5432, protocol: 'TCP', l7: '', flows: dbDenied, verdicts: { DROPPED: dbDenied } }]);
    const shown = await page.getByTestId('edge-port').evaluateAll((rows) => rows.map((r) => [r.dataset.port, r.dataset.protocol, r.textContent]));
    assert.equal(shown.length, 1);
    assert.deepEqual(shown[0].slice(0, 2), ['5432', 'TCP']);
    assert.match(shown[0][2], new RegExp(`dropped ${dbDenied}`));
    await shot(page, 'map-edge-dark');
    await page.getByTestId('edge-flows').click();
    await page.waitForURL(/\/flows/);
    assert.equal(new URL(page.url()).searchParams.get('q'), 'from-namespace:production from-workload:frontend to-namespace:production to-workload:database');
    assert.equal(await waitRows(page, dbDenied), dbDenied);
    assert.deepEqual(errors, []);
    await ctx.close();
    const light = await open('/map?since=1h', { theme: 'light' });
    await light.page.waitForFunction(() => document.querySelector('[data-testid=service-map]')?.dataset.ready === 'true', null, { timeout: 15_000 });
    await light.page.waitForTimeout(300);
    await shot(light.page, 'map-light');
    await light.ctx.close();
  });

  test('an edge by port and L7 protocol, from a shared URL; a port opens exactly its flows', async () => {
    const web = count((f) => f.kind === 'web' || f.kind === 'web500');
    const answer = await (await fetch(`${relay.base}/api/v1/flows/ports?since=1h&from-namespace=production&from-workload=frontend&to-namespace=production&to-workload=backend`)).json();
    assert.deepEqual(answer.ports, [{ port: 8080, protocol: 'TCP', l7: 'HTTP', flows: web, verdicts: { FORWARDED: web } }]);
    const scrape = await (await fetch(`${relay.base}/api/v1/flows/ports?since=1h&from-workload=prometheus&to-workload=backend`)).json();
    assert.deepEqual(scrape.ports.map((p) => [p.port, p.protocol, p.verdicts]), [[9090, 'TCP', { AUDIT: count((f) => f.kind === 'scrape') }]]);
    const { page, ctx, errors } = await open(`/map?since=1h&edge=${encodeURIComponent('production/frontend>production/backend')}`, { theme: 'light' });
    const row = page.getByTestId('edge-port').first();
    await row.waitFor({ timeout: 15_000 });
    assert.match(await row.textContent(), new RegExp(`8080/TCP\\s*HTTP\\s*${web}\\s*forwarded ${web}`));
    await shot(page, 'map-edge-light');
    await row.click();
    await page.waitForURL(/\/flows/);
    assert.equal(new URL(page.url()).searchParams.get('q'),
      'from-namespace:production from-workload:frontend to-namespace:production to-workload:backend to-port:8080 protocol:http');
    assert.equal(await waitRows(page, web), web);
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test('policies view lists each policy with its counts by verdict', async () => {
    const { page, ctx } = await open('/policies?since=1h');
    await page.getByTestId('policy-row').first().waitFor();
    const text = await page.getByTestId('policies').textContent();
    assert.match(text, /deny-frontend-to-database/);
    assert.match(text, /allow-frontend-to-backend/);
    const row = await page.getByTestId('policy-row').filter({ hasText: 'allow-frontend-to-backend' }).textContent();
    assert.match(row, new RegExp(String(count((f) => f.kind === 'web' || f.kind === 'web500'))));
    await shot(page, 'policies-light');
    await ctx.close();
  });

  const rulesAnswer = async () => {
    const r = await fetch(`${relay.base}/api/v1/policies/rules`);
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.equal(j.available, true, JSON.stringify(j));
    return j;
  };
  const policyOf = (j, ns, name) => j.policies.find((p) => p.namespace === ns && p.name === name);
  const traceCli = (from, to, port) => JSON.parse(execFileSync(path.join(repo, 'bin/sieve'), ['policy', 'trace', '-f', path.join(repo, 'ui/test/manifests'),
    '--from', from, '--to', to, '--dport', port, '-o', 'json'], { encoding: 'utf8' }));
  const openPolicy = async (id, opts) => {
    const { page, ctx, errors } = await open(`/policies?since=1h`, opts);
    await page.locator(`[data-testid=policy-row][data-policy="${id}"]`).click();
    const detail = page.getByTestId('policy-detail');
    await detail.getByTestId('policy-rule').first().waitFor({ timeout: 10_000 });
    return { page, ctx, errors, detail };
  };

  test('a policy shows what its selectors select now, as the relay answers and sieve policy trace decides', async () => {
    const j = await rulesAnswer();
    const p = policyOf(j, 'production', 'allow-frontend-to-backend');
    assert.deepEqual(p.endpoints.map((e) => e.pod), ['production/backend-0', 'production/backend-1']);
    const rule = p.specs[0].rules[0];
    assert.equal(rule.rule, 'NetworkPolicy production/allow-frontend-to-backend spec.ingress[0]');
    assert.deepEqual(rule.peers[0].selects.flatMap((s) => s.pods ?? [s.name]), ['production/frontend-0']);
    // the engine's selections are what the trace decides by: the selected peer on the rule's port is allowed by this
    // rule at each selected endpoint; a peer it does not select is not
    for (const ep of p.endpoints) {
      assert.equal(traceCli('production/frontend-0', ep.pod, '8080/TCP').ingress.rule, rule.rule, ep.pod);
      assert.notEqual(traceCli('development/tester-0', ep.pod, '8080/TCP').ingress.rule, rule.rule, ep.pod);
    }
    const { page, ctx, errors, detail } = await openPolicy('NetworkPolicy:production/allow-frontend-to-backend');
    assert.equal(new URL(page.url()).searchParams.get('policy'), 'NetworkPolicy:production/allow-frontend-to-backend', 'the selection is in the URL');
    assert.deepEqual(await detail.getByTestId('selected-endpoint').allTextContents(), ['production/backend-0', 'production/backend-1audit mode']);
    assert.deepEqual(await detail.getByTestId('rule-text').allTextContents(), [rule.text]);
    assert.equal(rule.text, 'Allow ingress from pods app=frontend in namespace production on 8080/TCP.');
    assert.deepEqual(await detail.getByTestId('peer-selected').allTextContents(), ['production/frontend-0']);
    assert.match(await detail.getByTestId('rule-ports').textContent(), /8080\/TCP/);
    // the flows it allowed over the range, and a click to the flows to its endpoints
    const allowed = count((f) => f.kind === 'web' || f.kind === 'web500');
    assert.match(await detail.getByTestId('policy-flows').textContent(), new RegExp(`allowed${allowed}`));
    await shot(page, 'policy-detail-dark');
    await detail.getByTestId('flows-to').click();
    const toBackend = count((f) => f.destination.pod_name?.startsWith('backend-'));
    assert.equal(await waitRows(page, toBackend), toBackend);
    assert.equal(new URL(page.url()).searchParams.get('q'), 'to-pod:production/backend-0,production/backend-1');
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test('deny rules, L7 rules, entities and CIDRs read as sentences; audit mode shows its would-be drops', async () => {
    const j = await rulesAnswer();
    const deny = policyOf(j, 'production', 'lockdown-backend');
    assert.deepEqual(deny.auditEndpoints, ['production/backend-1']);
    const dr = deny.specs[0].rules[0];
    assert.equal(dr.text, 'Deny ingress from every pod in namespace monitoring on 9090/TCP.');
    assert.deepEqual(dr.peers[0].selects.flatMap((s) => s.pods ?? [s.name]), ['monitoring/prometheus-0']);
    // sieve policy trace: denied by this rule at backend-0, audited at backend-1 (audit mode)
    const t0 = traceCli('monitoring/prometheus-0', 'production/backend-0', '9090/TCP');
    assert.equal(t0.ingress.rule, dr.rule);
    assert.equal(t0.verdict, 'DROPPED');
    const t1 = traceCli('monitoring/prometheus-0', 'production/backend-1', '9090/TCP');
    assert.equal(t1.ingress.rule, dr.rule);
    assert.equal(t1.ingress.audit, true);
    let { page, ctx, detail } = await openPolicy('CiliumNetworkPolicy:production/lockdown-backend', { theme: 'light' });
    assert.equal(await detail.locator('[data-testid=selected-endpoint][data-audit="1"]').textContent(), 'production/backend-1audit mode');
    const audited = count((f) => f.kind === 'scrape');
    assert.match(await detail.getByTestId('policy-audit-note').textContent(), new RegExp(`production/backend-1 is in audit mode.*AUDIT \\(${audited} over the range\\)`));
    assert.match(await detail.getByTestId('policy-audit').textContent(), new RegExp(`${audited}$`));
    assert.equal(await detail.locator('.rule.deny [data-testid=rule-text]').textContent(), dr.text);
    await shot(page, 'policy-detail-audit-light');
    await ctx.close();

    const dns = policyOf(j, '', 'allow-dns-out');
    assert.deepEqual(dns.endpoints.map((e) => e.pod), ['kube-system/coredns-0']);
    const [world, cidr] = dns.specs[0].rules;
    assert.equal(world.text, 'Allow egress to entity world on 53/UDP if the DNS request matches pattern *.');
    assert.ok(world.peers[0].selects.some((s) => s.name === 'world'), 'entity world selects the world identity');
    assert.deepEqual(cidr.peers[0].selects.map((s) => s.name), ['1.1.1.1/32']);
    ({ page, ctx, detail } = await openPolicy('CiliumClusterwideNetworkPolicy:allow-dns-out'));
    assert.deepEqual(await detail.getByTestId('rule-text').allTextContents(), [world.text, cidr.text]);
    assert.equal((await detail.getByTestId('rule-l7').textContent()).trim(), 'DNS pattern *');
    assert.match(await detail.locator('[data-testid=rule-peer][data-kind=cidr]').textContent(), /1\.1\.1\.1\/32/);
    const l7 = policyOf(j, 'monitoring', 'prometheus-scrape').specs[0].rules[0];
    assert.equal(l7.text, 'Allow egress to pods app=backend in namespace production on 9090/TCP if the HTTP request matches GET /metrics.');
    assert.equal(traceCli('monitoring/prometheus-0', 'production/backend-0', '9090/TCP').egress.rule, l7.rule);
    await ctx.close();
  });

  test('drops and nodes views render', async () => {
    const { page, ctx, errors } = await open('/drops?since=1h', { theme: 'light' });
    await page.locator('.u-over').waitFor({ timeout: 10_000 });
    await page.locator('.two').getByText('POLICY_DENIED').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('.page').textContent(), new RegExp(`${count((f) => f.verdict === 'DROPPED')} drops`));
    await shot(page, 'drops-light');
    await page.goto(`${relay.base}/nodes`);
    await page.getByTestId('nodes').getByText('node-a').waitFor();
    await shot(page, 'nodes-light');
    assert.deepEqual(errors, []);
    await ctx.close();
  });
});
