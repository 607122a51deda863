// Hubble flows as the relay prints them (jsonpb, proto field names) and what the UI reads of them.

export interface Policy { name?: string; namespace?: string; kind?: string; labels?: string[]; revision?: string }
export interface Workload { name?: string; kind?: string }
export interface Endpoint {
  ID?: number; identity?: number; cluster_name?: string; namespace?: string; labels?: string[]; pod_name?: string; workloads?: Workload[];
}
export interface Flow {
  time?: string; uuid?: string; verdict?: string; drop_reason_desc?: string; Type?: string; node_name?: string;
  IP?: { source?: string; destination?: string; ipVersion?: string; encrypted?: boolean };
  l4?: {
    TCP?: { source_port?: number; destination_port?: number; flags?: Record<string, boolean> };
    UDP?: { source_port?: number; destination_port?: number };
    SCTP?: { source_port?: number; destination_port?: number };
    ICMPv4?: { type?: number; code?: number }; ICMPv6?: { type?: number; code?: number };
  };
  source?: Endpoint; destination?: Endpoint;
  source_names?: string[]; destination_names?: string[];
  l7?: {
    type?: string; latency_ns?: string;
    dns?: { query?: string; ips?: string[]; rcode?: number; qtypes?: string[] };
    http?: { code?: number; method?: string; url?: string; protocol?: string };
    kafka?: { topic?: string; api_key?: string; error_code?: number };
  };
  traffic_direction?: string; is_reply?: boolean;
  egress_allowed_by?: Policy[]; ingress_allowed_by?: Policy[]; egress_denied_by?: Policy[]; ingress_denied_by?: Policy[];
  policy_log?: string[];
  [k: string]: unknown;
}

/** Milliseconds since the epoch, with the nanoseconds kept apart for sorting. */
export function timeMs(f: Flow): number {
  return f.time ? Date.parse(f.time) : 0;
}

/** "world", "host", ... for reserved identities; otherwise undefined. */
export function reservedEntity(e?: Endpoint): string | undefined {
  const l = e?.labels?.find((x) => x.startsWith('reserved:'));
  return l ? l.slice('reserved:'.length) : undefined;
}

export function workload(e?: Endpoint): string {
  return e?.workloads?.[0]?.name ?? '';
}

export function l4Ports(f: Flow): [number | undefined, number | undefined] {
  const p = f.l4?.TCP ?? f.l4?.UDP ?? f.l4?.SCTP;
  return [p?.source_port, p?.destination_port];
}

export function protocol(f: Flow): string {
  const l4 = f.l4;
  if (!l4) return '';
  if (l4.TCP) {
    const flags = Object.entries(l4.TCP.flags ?? {}).filter(([, v]) => v).map(([k]) => k);
    return flags.length ? `TCP ${flags.join(',')}` : 'TCP';
  }
  if (l4.UDP) return 'UDP';
  if (l4.SCTP) return 'SCTP';
  if (l4.ICMPv4) return `ICMPv4 ${l4.ICMPv4.type ?? 0}/${l4.ICMPv4.code ?? 0}`;
  if (l4.ICMPv6) return `ICMPv6 ${l4.ICMPv6.type ?? 0}/${l4.ICMPv6.code ?? 0}`;
  return '';
}

/** "ns/pod", the reserved entity, or the IP. */
export function endpointName(e: Endpoint | undefined, ip: string | undefined, names?: string[]): string {
  if (e?.pod_name) return e.namespace ? `${e.namespace}/${e.pod_name}` : e.pod_name;
  const r = reservedEntity(e);
  if (names?.length) return names[0];
  if (r) return ip ? `${r} (${ip})` : r;
  return ip ?? '';
}

export function l7Summary(f: Flow): string {
  const l7 = f.l7;
  if (!l7) return '';
  if (l7.http) {
    const h = l7.http;
    let path = h.url ?? '';
    try { if (path) { const u = new URL(path); path = u.pathname + u.search; } } catch { /* keep as is */ }
    return `HTTP ${h.method ?? ''} ${path}${h.code ? ' ' + h.code : ''}`.replace(/\s+/g, ' ').trim();
  }
  if (l7.dns) {
    const d = l7.dns;
    const rc = d.rcode ? ` rcode ${d.rcode}` : '';
    return `DNS ${l7.type === 'RESPONSE' ? 'answer' : 'query'} ${d.query ?? ''}${d.ips?.length ? ' → ' + d.ips.join(',') : ''}${rc}`;
  }
  if (l7.kafka) return `Kafka ${l7.kafka.api_key ?? ''} ${l7.kafka.topic ?? ''}`.trim();
  return l7.type ?? '';
}

export interface PolicyRef { effect: 'allow' | 'deny'; direction: 'ingress' | 'egress'; policy: Policy }

/** The policies that decided the flow, as the datapath recorded them. */
export function deciding(f: Flow): PolicyRef[] {
  const out: PolicyRef[] = [];
  for (const p of f.ingress_denied_by ?? []) out.push({ effect: 'deny', direction: 'ingress', policy: p });
  for (const p of f.egress_denied_by ?? []) out.push({ effect: 'deny', direction: 'egress', policy: p });
  for (const p of f.ingress_allowed_by ?? []) out.push({ effect: 'allow', direction: 'ingress', policy: p });
  for (const p of f.egress_allowed_by ?? []) out.push({ effect: 'allow', direction: 'egress', policy: p });
  return out;
}

export function policyName(p: Policy): string {
  return `${p.kind ? p.kind + ' ' : ''}${p.namespace ? p.namespace + '/' : ''}${p.name ?? ''}`;
}

export function policySummary(f: Flow): string {
  const d = deciding(f);
  if (!d.length) return '';
  const first = d[0];
  return `${first.effect === 'deny' ? '✕' : '✓'} ${first.policy.namespace ? first.policy.namespace + '/' : ''}${first.policy.name ?? ''}${d.length > 1 ? ` +${d.length - 1}` : ''}`;
}

/** `hubble observe -o jsonpb` lines: one GetFlowsResponse per flow. */
export function toJsonpbLines(flows: Flow[]): string {
  return flows.map((f) => JSON.stringify({ flow: f, node_name: f.node_name, time: f.time })).join('\n') + (flows.length ? '\n' : '');
}

export const CSV_COLUMNS: [string, (f: Flow) => string | number | undefined][] = [
  ['time', (f) => f.time],
  ['uuid', (f) => f.uuid],
  ['verdict', (f) => f.verdict],
  ['drop_reason', (f) => f.drop_reason_desc],
  ['traffic_direction', (f) => f.traffic_direction],
  ['source_namespace', (f) => f.source?.namespace],
  ['source_pod', (f) => f.source?.pod_name],
  ['source_workload', (f) => workload(f.source)],
  ['source_identity', (f) => f.source?.identity],
  ['source_ip', (f) => f.IP?.source],
  ['source_port', (f) => l4Ports(f)[0]],
  ['destination_namespace', (f) => f.destination?.namespace],
  ['destination_pod', (f) => f.destination?.pod_name],
  ['destination_workload', (f) => workload(f.destination)],
  ['destination_identity', (f) => f.destination?.identity],
  ['destination_ip', (f) => f.IP?.destination],
  ['destination_port', (f) => l4Ports(f)[1]],
  ['protocol', protocol],
  ['l7', l7Summary],
  ['policies', (f) => deciding(f).map((d) => `${d.effect}:${d.policy.kind ?? ''}/${d.policy.namespace ?? ''}/${d.policy.name ?? ''}`).join(' ')],
  ['node', (f) => f.node_name],
];

function csvCell(v: string | number | undefined): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(flows: Flow[]): string {
  const lines = [CSV_COLUMNS.map(([h]) => h).join(',')];
  for (const f of flows) lines.push(CSV_COLUMNS.map(([, g]) => csvCell(g(f))).join(','));
  return lines.join('\n') + '\n';
}

/** Every leaf of the flow as [path, value], in the order of the JSON. */
export function leaves(v: unknown, path = ''): [string, string | number | boolean][] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, `${path}[${i}]`));
  if (typeof v === 'object') return Object.entries(v as object).flatMap(([k, x]) => leaves(x, path ? `${path}.${k}` : k));
  return [[path, v as string | number | boolean]];
}
