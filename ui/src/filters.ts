// The explorer's filter grammar: `sieve observe` / `hubble observe` flags written as chips.
//
//   verdict:DROPPED from-pod:prod/frontend to-port:5432 !namespace:kube-system http-status:5+
//
// A chip is `name:value[,value...]`; names are the flags (and the relay's REST query parameters, see
// relay/README.md); `!name:value` negates it (hubble's --not). Same-named chips OR, different ones AND.
// Positive chips become the REST parameters as they are; the negated ones are gathered into one
// blacklist FlowFilter the way hubble's --not does (either-side names split into a source and a
// destination filter). Values with spaces go in double quotes.

export const FILTER_NAMES = [
  'verdict', 'drop-reason', 'traffic-direction', 'namespace', 'from-namespace', 'to-namespace', 'pod', 'from-pod', 'to-pod',
  'label', 'from-label', 'to-label', 'from-identity', 'to-identity', 'ip', 'from-ip', 'to-ip', 'port', 'from-port', 'to-port',
  'protocol', 'fqdn', 'http-method', 'http-path', 'http-status', 'node-name', 'uuid', 'workload', 'from-workload', 'to-workload',
] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

const ALIASES: Record<string, FilterName> = {
  ns: 'namespace', 'from-ns': 'from-namespace', 'to-ns': 'to-namespace', node: 'node-name', status: 'http-status',
  method: 'http-method', path: 'http-path', dir: 'traffic-direction', direction: 'traffic-direction', reason: 'drop-reason',
  proto: 'protocol', 'src-pod': 'from-pod', 'dst-pod': 'to-pod', 'src-ip': 'from-ip', 'dst-ip': 'to-ip',
  'src-port': 'from-port', 'dst-port': 'to-port',
};

export const VERDICTS = ['FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED'];
export const DIRECTIONS = ['INGRESS', 'EGRESS'];
export const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv4', 'icmpv6', 'sctp', 'http', 'dns', 'kafka'];

export interface Chip { name: FilterName; values: string[]; negate: boolean }

export class FilterError extends Error {}

function tokens(text: string): string[] {
  const out: string[] = [];
  const re = /\s*((?:[^\s"]+|"[^"]*")+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push(m[1]);
  return out;
}

function splitValues(v: string): string[] {
  const out: string[] = [];
  const re = /("([^"]*)"|[^,]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v))) {
    const x = (m[2] ?? m[1]).trim();
    if (x) out.push(x);
  }
  return out;
}

/** A bare word: a verdict, an IP/CIDR, a port number or a namespace/pod. */
function bare(word: string): Chip {
  const up = word.toUpperCase();
  if (VERDICTS.includes(up)) return { name: 'verdict', values: [up], negate: false };
  if (/^[0-9a-f.:]+(\/\d+)?$/i.test(word) && /[.:]/.test(word)) return { name: 'ip', values: [word], negate: false };
  if (/^\d+$/.test(word)) return { name: 'port', values: [word], negate: false };
  if (word.includes('/')) return { name: 'pod', values: [word], negate: false };
  throw new FilterError(`"${word}": write name:value (e.g. namespace:${word}); names: ${FILTER_NAMES.join(', ')}`);
}

function check(c: Chip): Chip {
  for (const v of c.values) {
    switch (c.name) {
      case 'verdict':
        if (!VERDICTS.includes(v.toUpperCase())) throw new FilterError(`verdict: unknown verdict "${v}" (${VERDICTS.join(', ')})`);
        break;
      case 'traffic-direction':
        if (!DIRECTIONS.includes(v.toUpperCase())) throw new FilterError(`traffic-direction: "${v}" is not ingress or egress`);
        break;
      case 'from-identity': case 'to-identity':
        if (!/^\d+$/.test(v)) throw new FilterError(`${c.name}: not a number: "${v}"`);
        break;
      case 'port': case 'from-port': case 'to-port':
        if (!/^\d+$/.test(v) || +v > 65535) throw new FilterError(`${c.name}: not a port: "${v}"`);
        break;
    }
  }
  const upper = c.name === 'verdict' || c.name === 'traffic-direction' || c.name === 'drop-reason';
  return upper ? { ...c, values: c.values.map((v) => v.toUpperCase()) } : c;
}

export function parseFilters(text: string): Chip[] {
  const chips: Chip[] = [];
  for (let tok of tokens(text)) {
    let negate = false;
    if (tok.startsWith('!')) { negate = true; tok = tok.slice(1); }
    const i = tok.indexOf(':');
    // "ip:fd00::1" — the name is what comes before the first colon; a bare IPv6 address has no name
    const rawName = i > 0 ? tok.slice(0, i).toLowerCase() : '';
    const known = (FILTER_NAMES as readonly string[]).includes(rawName) || rawName in ALIASES;
    if (!known) {
      if (i > 0 && /^[a-z][a-z-]*$/.test(rawName)) throw new FilterError(`unknown filter "${rawName}"; names: ${FILTER_NAMES.join(', ')}`);
      const c = bare(tok);
      chips.push({ ...c, negate });
      continue;
    }
    const name = (ALIASES[rawName] ?? rawName) as FilterName;
    const values = splitValues(tok.slice(i + 1));
    if (!values.length) throw new FilterError(`${name}: needs a value`);
    chips.push(check({ name, values, negate }));
  }
  return chips;
}

function quote(v: string): string {
  return /[\s,"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v;
}

export function chipText(c: Chip): string {
  return `${c.negate ? '!' : ''}${c.name}:${c.values.map(quote).join(',')}`;
}

export function formatFilters(chips: Chip[]): string {
  return chips.map(chipText).join(' ');
}

/** Adds a chip unless an equal one is there. */
export function addChip(chips: Chip[], c: Chip): Chip[] {
  const t = chipText(c);
  return chips.some((x) => chipText(x) === t) ? chips : [...chips, c];
}

// hubble flag -> FlowFilter field (jsonpb names), for the blacklist
const SIDE: Record<string, [string, string]> = {
  pod: ['source_pod', 'destination_pod'], namespace: ['source_pod', 'destination_pod'], ip: ['source_ip', 'destination_ip'],
  label: ['source_label', 'destination_label'], port: ['source_port', 'destination_port'], fqdn: ['source_fqdn', 'destination_fqdn'],
  workload: ['source_workload', 'destination_workload'],
};
const ONE: Record<string, string> = {
  verdict: 'verdict', 'drop-reason': 'drop_reason_desc', 'traffic-direction': 'traffic_direction', 'from-pod': 'source_pod',
  'to-pod': 'destination_pod', 'from-namespace': 'source_pod', 'to-namespace': 'destination_pod', 'from-ip': 'source_ip',
  'to-ip': 'destination_ip', protocol: 'protocol', 'from-port': 'source_port', 'to-port': 'destination_port',
  'from-identity': 'source_identity', 'to-identity': 'destination_identity', 'from-label': 'source_label', 'to-label': 'destination_label',
  'node-name': 'node_name', 'http-status': 'http_status_code', 'http-method': 'http_method', 'http-path': 'http_path', uuid: 'uuid',
  'from-workload': 'source_workload', 'to-workload': 'destination_workload',
};

type FieldValue = string | number | { name: string; kind?: string };

function fieldValue(name: string, v: string): FieldValue {
  if (name === 'namespace' || name === 'from-namespace' || name === 'to-namespace') return v + '/';
  if (name.endsWith('workload')) { const i = v.indexOf('/'); return i < 0 ? { name: v } : { kind: v.slice(0, i), name: v.slice(i + 1) }; }
  if (name === 'from-identity' || name === 'to-identity') return Number(v);
  return v;
}

type FF = Record<string, FieldValue[]>;

/** The negated chips as hubble's --not makes them: one filter, or a source and a destination filter. */
export function blacklist(chips: Chip[]): FF[] {
  const neg = chips.filter((c) => c.negate);
  if (!neg.length) return [];
  const base: FF = {};
  const left: FF = {}, right: FF = {};
  let sided = false;
  const add = (ff: FF, field: string, v: FieldValue) => { (ff[field] ??= []).push(v); };
  for (const c of neg) {
    for (const v of c.values) {
      if (SIDE[c.name]) {
        sided = true;
        add(left, SIDE[c.name][0], fieldValue(c.name, v));
        add(right, SIDE[c.name][1], fieldValue(c.name, v));
      } else add(base, ONE[c.name], fieldValue(c.name, v));
    }
  }
  if (!sided) return [base];
  const merge = (a: FF, b: FF): FF => {
    const out: FF = {};
    for (const [k, v] of Object.entries(a)) out[k] = [...v];
    for (const [k, v] of Object.entries(b)) out[k] = [...(out[k] ?? []), ...v];
    return out;
  };
  return [merge(base, left), merge(base, right)];
}

/** REST query parameters (relay/README.md: the hubble flag names) for the chips. */
export function toParams(chips: Chip[], p = new URLSearchParams()): URLSearchParams {
  for (const c of chips) if (!c.negate) for (const v of c.values) p.append(c.name, v);
  for (const f of blacklist(chips)) p.append('blacklist', JSON.stringify(f));
  return p;
}

/** Time range of a view: the last N minutes, or from..to (ISO). */
export type Range = { last: string } | { from: string; to: string };

export function rangeParams(r: Range, p: URLSearchParams): URLSearchParams {
  if ('last' in r) p.set('since', r.last);
  else {
    if (r.from) p.set('since', new Date(r.from).toISOString());
    if (r.to) p.set('until', new Date(r.to).toISOString());
  }
  return p;
}

/** The chip a click on a detail field adds (undefined when that field is no filter). */
export function chipFor(path: string, value: string | number | boolean, namespace?: string): Chip | undefined {
  const v = String(value);
  const c = (name: FilterName, val = v): Chip => ({ name, values: [val], negate: false });
  const side = path.startsWith('source.') || path.startsWith('IP.source') || path.startsWith('source_names') ? 'from' : 'to';
  if (path === 'verdict') return c('verdict');
  if (path === 'drop_reason_desc') return c('drop-reason');
  if (path === 'traffic_direction') return c('traffic-direction');
  if (path === 'node_name') return c('node-name');
  if (path === 'uuid') return c('uuid');
  if (path === 'IP.source' || path === 'IP.destination') return c(`${side}-ip` as FilterName);
  if (/^(source|destination)\.pod_name$/.test(path)) return c(`${side}-pod` as FilterName, namespace ? `${namespace}/${v}` : v);
  if (/^(source|destination)\.namespace$/.test(path)) return c(`${side}-namespace` as FilterName);
  if (/^(source|destination)\.identity$/.test(path)) return c(`${side}-identity` as FilterName);
  if (/^(source|destination)\.labels\[\d+\]$/.test(path)) return c(`${side}-label` as FilterName);
  if (/^(source|destination)_names\[\d+\]$/.test(path)) return c('fqdn');
  if (/^l4\.(TCP|UDP|SCTP)\.source_port$/.test(path)) return c('from-port');
  if (/^l4\.(TCP|UDP|SCTP)\.destination_port$/.test(path)) return c('to-port');
  if (/^l4\.(TCP|UDP|SCTP|ICMPv4|ICMPv6)/.test(path)) return c('protocol', path.split('.')[1].toLowerCase());
  if (path === 'l7.http.method') return c('http-method');
  if (path === 'l7.http.code') return c('http-status');
  if (path === 'l7.http.url') {
    try { return c('http-path', new URL(v).pathname); } catch { return c('http-path'); }
  }
  if (path === 'l7.dns.query') return c('fqdn', v.replace(/\.$/, ''));
  return undefined;
}
