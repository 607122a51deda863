// Known flows for the browser tests: a small cluster's traffic over the last few minutes.
const ep = (ns, app, i, identity) => ({
  ID: 100 + identity + i, identity, namespace: ns, pod_name: `${app}-${i}`, labels: [`k8s:app=${app}`, `k8s:io.kubernetes.pod.namespace=${ns}`],
  workloads: [{ name: app, kind: 'Deployment' }],
});
const world = (ip) => ({ identity: 2, labels: ['reserved:world'] });
const tcp = (sport, dport, flags = { SYN: true }) => ({ TCP: { source_port: sport, destination_port: dport, flags } });
const udp = (sport, dport) => ({ UDP: { source_port: sport, destination_port: dport } });
const pol = (kind, namespace, name) => ({ kind, namespace, name });

/** One template per kind of flow; `n` copies of each, spread over the last 5 minutes. */
export const KINDS = [
  { id: 'web', n: 12, f: (i) => ({
    verdict: 'FORWARDED', traffic_direction: 'INGRESS', Type: 'L7',
    IP: { source: '10.0.1.10', destination: '10.0.2.20', ipVersion: 'IPv4' }, l4: tcp(40000 + i, 8080),
    source: ep('production', 'frontend', 0, 1001), destination: ep('production', 'backend', i % 2, 1002),
    l7: { type: 'RESPONSE', http: { code: 200, method: 'GET', url: 'http://backend:8080/api/v1/items', protocol: 'HTTP/1.1' } },
    ingress_allowed_by: [pol('NetworkPolicy', 'production', 'allow-frontend-to-backend')],
  }) },
  { id: 'web500', n: 3, f: (i) => ({
    verdict: 'FORWARDED', traffic_direction: 'INGRESS', Type: 'L7',
    IP: { source: '10.0.1.10', destination: '10.0.2.20', ipVersion: 'IPv4' }, l4: tcp(41000 + i, 8080),
    source: ep('production', 'frontend', 0, 1001), destination: ep('production', 'backend', 0, 1002),
    l7: { type: 'RESPONSE', http: { code: 503, method: 'POST', url: 'http://backend:8080/api/v1/orders', protocol: 'HTTP/1.1' } },
    ingress_allowed_by: [pol('NetworkPolicy', 'production', 'allow-frontend-to-backend')],
  }) },
  { id: 'db-denied', n: 5, f: (i) => ({
    verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', traffic_direction: 'INGRESS', Type: 'L3_L4',
    IP: { source: '10.0.1.10', destination: '10.0.3.30', ipVersion: 'IPv4' }, l4: tcp(42000 + i, 5432),
    source: ep('production', 'frontend', 0, 1001), destination: ep('production', 'database', 0, 1003),
    ingress_denied_by: [pol('CiliumNetworkPolicy', 'production', 'deny-frontend-to-database')],
  }) },
  { id: 'dev-denied', n: 4, f: (i) => ({
    verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', traffic_direction: 'EGRESS', Type: 'L3_L4',
    IP: { source: '10.0.5.50', destination: '10.0.2.20', ipVersion: 'IPv4' }, l4: tcp(43000 + i, 8080),
    source: ep('development', 'tester', 0, 2001), destination: ep('production', 'backend', 0, 1002),
  }) },
  { id: 'dns', n: 6, f: (i) => ({
    verdict: 'FORWARDED', traffic_direction: 'EGRESS', Type: 'L7',
    IP: { source: '10.0.9.2', destination: '1.1.1.1', ipVersion: 'IPv4' }, l4: udp(53000 + i, 53),
    source: ep('kube-system', 'coredns', 0, 3001), destination: world('1.1.1.1'), destination_names: ['one.one.one.one'],
    l7: { type: 'REQUEST', dns: { query: 'example.com.', qtypes: ['A'] } },
    egress_allowed_by: [pol('CiliumClusterwideNetworkPolicy', '', 'allow-dns-out')],
  }) },
  { id: 'scrape', n: 4, f: (i) => ({
    verdict: 'AUDIT', traffic_direction: 'INGRESS', Type: 'L3_L4',
    IP: { source: '10.0.7.70', destination: '10.0.2.20', ipVersion: 'IPv4' }, l4: tcp(44000 + i, 9090, { ACK: true }),
    source: ep('monitoring', 'prometheus', 0, 4001), destination: ep('production', 'backend', 0, 1002),
    ingress_denied_by: [pol('CiliumNetworkPolicy', 'production', 'lockdown-backend')],
  }) },
];

/** The flows in time order, each with `kind`; `node` names the sending node. */
export function makeFlows(node, now = Date.now()) {
  const out = [];
  let k = 0;
  for (const kind of KINDS) for (let i = 0; i < kind.n; i++) out.push({ kind: kind.id, f: kind.f(i), k: k++ });
  // deterministic interleaving over the last 5 minutes
  out.sort((a, b) => ((a.k * 7919) % 101) - ((b.k * 7919) % 101));
  return out.map((x, i) => ({
    ...x.f, kind: x.kind, node_name: node, uuid: `${node}-${x.kind}-${i}`, timeMs: now - 300_000 + i * 1000,
  }));
}
