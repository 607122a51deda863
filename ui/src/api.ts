// The relay's REST/SSE API (relay/README.md), same origin as the UI.
import type { Flow } from './flow';

export class ApiError extends Error {
  constructor(public status: number, message: string) { super(message); }
}

const early = new Map<string, Promise<unknown>>();

/**
 * Starts a request before its view asks for it (src/early.ts, at start-up, while the view's code still loads); the
 * view's first identical request takes the answer instead of asking again.
 */
export function prefetch(path: string, params?: URLSearchParams): void {
  const url = urlOf(path, params);
  const p = get(path, params);
  p.catch(() => {}); // the view sees the error when it takes the answer
  early.set(url, p);
}

const urlOf = (path: string, params?: URLSearchParams) => (params && [...params.keys()].length ? `${path}?${params}` : path);

async function get<T>(path: string, params?: URLSearchParams, signal?: AbortSignal): Promise<T> {
  const url = urlOf(path, params);
  const pre = early.get(url);
  if (pre) { early.delete(url); return pre as Promise<T>; }
  const r = await fetch(url, { signal, headers: { accept: 'application/json' } });
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try { const j = await r.json(); if (j?.error) msg = j.error; } catch { /* not JSON */ }
    throw new ApiError(r.status, msg);
  }
  return r.json() as Promise<T>;
}

export const fetchFlows = (p: URLSearchParams, signal?: AbortSignal) => get<Flow[]>('/api/v1/flows', p, signal);

export interface Bucket { start: number; flows: number; drops: number; byVerdict: Record<string, number> }
export const fetchCounts = (p: URLSearchParams, signal?: AbortSignal) => get<Bucket[]>('/api/v1/flows/counts', p, signal);

export interface MapNode { id: string; namespace: string; workload: string; flows: number }
export interface MapEdge { source: string; destination: string; flows: number; verdicts: Record<string, number> }
export const fetchServiceMap = (p: URLSearchParams, signal?: AbortSignal) =>
  get<{ nodes: MapNode[]; edges: MapEdge[] }>('/api/v1/service-map', p, signal);

export interface PortCount { port: number; protocol: string; l7: string; flows: number; verdicts: Record<string, number> }
export interface PortCounts { flows: number; complete: boolean; ports: PortCount[] }
export const fetchPorts = (p: URLSearchParams, signal?: AbortSignal) => get<PortCounts>('/api/v1/flows/ports', p, signal);

export interface PolicyUse { effect: string; kind: string; namespace: string; name: string; flows: number; byVerdict: Record<string, number> }
export const fetchPolicies = (p: URLSearchParams, signal?: AbortSignal) => get<PolicyUse[]>('/api/v1/policies', p, signal);

/** The policies of the relay's manifests as the policy engine holds them (relay: GET /api/v1/policies/rules). */
export interface PolicySelection { identity: number; kind: 'pods' | 'reserved' | 'cidr' | 'fqdn' | 'identity'; name: string; pods?: string[] }
export interface PolicyPeer { kind: 'endpoints' | 'cidr' | 'entity' | 'fqdn' | 'service' | 'any'; text: string; selector?: string; all: boolean; selects: PolicySelection[]; note?: string }
export interface PolicyRule {
  path: string; rule: string; direction: 'INGRESS' | 'EGRESS'; deny: boolean; effect: 'allow' | 'allow-l7' | 'deny'; text: string;
  peers: PolicyPeer[]; requires?: string[]; toPorts: { ports: string[]; l7Protocol?: string; l7?: string[] }[]; icmps?: string[];
}
export interface PolicyEndpoint { pod: string; identity: number; ips: string[]; audit: boolean }
export interface PolicySpec {
  path: string; description?: string; endpointSelector?: string; nodeSelector?: string; nodes?: string[];
  endpoints: PolicyEndpoint[]; defaultDeny: { ingress: boolean; egress: boolean }; rules: PolicyRule[];
}
export interface PolicyDef { kind: string; namespace: string; name: string; file: string; document: number; endpoints: PolicyEndpoint[]; auditEndpoints: string[]; specs: PolicySpec[] }
export interface PolicyRules { available: boolean; message?: string; manifests?: string[]; manifestErrors?: string[]; policies: PolicyDef[] }
export const fetchPolicyRules = (signal?: AbortSignal) => get<PolicyRules>('/api/v1/policies/rules', undefined, signal);

export interface TraceSide { verdict: string; enforced: boolean; audit: boolean; rule: string | null; policies: string[]; dropReason: number; reason: string }
export interface Why {
  uuid: string; flowVerdict: string; available: boolean; message?: string; traceError?: string; manifests?: string[]; manifestErrors?: string[];
  request?: { from: string; to: string; port: number; protocol: string; l7?: string };
  verdict?: string; agrees?: boolean; egress?: TraceSide; ingress?: TraceSide; l7?: { verdict: string; rule: string | null; reason: string }; reason?: string;
  allow?: { kind: 'deny-rule' | 'policy' | 'none'; text: string; rule?: string; yaml?: string; verified?: boolean; verdictWith?: string };
}
/** The policy engine's trace of a flow's connection through the relay's manifests (relay: GET /api/v1/why). */
export const fetchWhy = (uuid: string, signal?: AbortSignal) => get<Why>('/api/v1/why', new URLSearchParams({ uuid }), signal);

export interface NodeInfo {
  name: string; connected: boolean; streams: number; address: string; firstSeenMs: number; lastSeenMs: number;
  flows: number; batches: number; lostFlows: number; rejectedBatches: number; spoolBatches: number; spoolBytes: number; lastBatchDelayMs: number;
}
export const fetchNodes = (signal?: AbortSignal) => get<NodeInfo[]>('/api/v1/nodes', undefined, signal);
export const fetchStatus = (signal?: AbortSignal) => get<Record<string, unknown>>('/api/v1/status', undefined, signal);

/** Follows new flows over SSE (event data = one Hubble jsonpb flow, or {"lost_events":...}). */
export function followFlows(p: URLSearchParams, onFlow: (f: Flow) => void, onLost: (n: number) => void, onState: (s: 'open' | 'error') => void): () => void {
  const q = new URLSearchParams(p);
  q.delete('since'); q.delete('until'); q.delete('last'); q.delete('first');
  q.set('follow', 'true');
  const es = new EventSource(`/api/v1/flows/stream?${q}`);
  es.onopen = () => onState('open');
  es.onerror = () => onState('error');
  es.onmessage = (ev) => {
    const j = JSON.parse(ev.data);
    if (j.lost_events) onLost(Number(j.lost_events.num_events_lost ?? 0));
    else onFlow(j as Flow);
  };
  return () => es.close();
}

/**
 * Stored flows (oldest first) over SSE without follow, read as a stream: each network chunk is parsed
 * on its own, so even 100,000 flows never hold the main thread for long, and rows show as they come.
 */
export async function streamFlows(p: URLSearchParams, onBatch: (fs: Flow[]) => void, signal?: AbortSignal): Promise<void> {
  const r = await fetch(`/api/v1/flows/stream?${p}`, { signal, headers: { accept: 'text/event-stream' } });
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try { const j = await r.json(); if (j?.error) msg = j.error; } catch { /* not JSON */ }
    throw new ApiError(r.status, msg);
  }
  const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    const out: Flow[] = [];
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let data = '';
      for (const line of ev.split('\n')) if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5);
      if (!data) continue;
      const j = JSON.parse(data);
      if (!j.lost_events) out.push(j as Flow);
    }
    if (out.length) onBatch(out);
  }
}
