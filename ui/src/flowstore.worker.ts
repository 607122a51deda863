// The flow explorer's flows live here, off the main thread: the history stream (SSE, read as chunks) and the
// live follow are fetched and parsed here, the table's rows are computed here, and the page asks only for the
// rows on screen (`window`), one flow (`get`), or an export (sent back as a transferred buffer). So loading
// 100,000 flows, their garbage and their parsing never block the page.
/// <reference lib="webworker" />
import { followFlows, streamFlows } from './api';
import { timeMs, toCsv, toJsonpbLines, type Flow } from './flow';
import { toRow, type Row } from './rows';

export type Request =
  | { type: 'load'; id: number; history: string; follow?: string; early?: boolean }
  | { type: 'pause'; paused: boolean }
  | { type: 'window'; id: number; start: number; end: number }
  | { type: 'get'; uuid: string }
  | { type: 'at'; index: number; reason: string }
  | { type: 'export'; kind: 'json' | 'csv' };

export interface State {
  type: 'state'; id: number; total: number; loading: boolean; took: number; error: string;
  live: 'off' | 'open' | 'error'; pending: number; lost: number; newestMs: number; version: number;
}
export type Reply =
  | State
  | { type: 'window'; id: number; version: number; start: number; rows: Row[] }
  | { type: 'flow'; uuid: string; flow?: Flow; index: number }
  | { type: 'at'; index: number; uuid?: string; reason: string }
  | { type: 'export'; kind: 'json' | 'csv'; buffer: ArrayBuffer };

const MAX_ROWS = 200_000;
const post = (m: Reply, transfer: Transferable[] = []) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m, transfer);

let flows: Flow[] = []; // oldest first
let rows: Row[] = [];
let seen = new Set<string>();
let state: State = { type: 'state', id: 0, total: 0, loading: false, took: 0, error: '', live: 'off', pending: 0, lost: 0, newestMs: 0, version: 0 };
let dirty = false;
let abort: AbortController | undefined;
let closeLive: (() => void) | undefined;
let paused = false;
let held: Flow[] = []; // live flows kept aside while paused or while history still loads
let historyDone = false;

const key = (f: Flow) => f.uuid ?? `${f.time}|${f.node_name}|${f.IP?.source}|${f.IP?.destination}`;

function add(fs: Flow[]) {
  for (const f of fs) {
    const k = key(f);
    if (seen.has(k)) continue;
    seen.add(k);
    flows.push(f);
    rows.push(toRow(f));
  }
  if (flows.length > MAX_ROWS) {
    const cut = flows.length - MAX_ROWS;
    for (const f of flows.slice(0, cut)) seen.delete(key(f));
    flows = flows.slice(cut);
    rows = rows.slice(cut);
  }
  changed();
}

function changed() {
  state.total = rows.length;
  state.newestMs = flows.length ? timeMs(flows[flows.length - 1]) : 0;
  state.version++;
  markDirty();
}

// the page hears about changes at most 5 times a second: each is one re-render of the rows on screen. The first
// change after a quiet spell goes at once (the first rows of a load show without waiting for the next tick).
let lastPost = 0;
setInterval(() => { if (dirty) postState(); }, 200);

function postState() {
  dirty = false;
  lastPost = performance.now();
  post({ ...state });
}

function markDirty() {
  dirty = true;
  if (performance.now() - lastPost >= 200) postState();
}

function flushHeld() {
  if (!held.length || paused || !historyDone) return;
  const h = held;
  held = [];
  state.pending = 0;
  add(h);
}

// the load src/early.ts asked for at start-up; the view's first identical load takes it over instead of restarting it
let earlyKey: string | undefined;

function load(m: Extract<Request, { type: 'load' }>) {
  const k = `${m.history}|${m.follow ?? ''}`;
  const taken = !m.early && earlyKey === k;
  earlyKey = m.early ? k : undefined;
  if (taken) { state.id = m.id; markDirty(); return; }
  abort?.abort();
  closeLive?.();
  closeLive = undefined;
  flows = [];
  rows = [];
  seen = new Set();
  held = [];
  historyDone = false;
  state = { type: 'state', id: m.id, total: 0, loading: true, took: 0, error: '', live: 'off', pending: 0, lost: 0, newestMs: 0, version: state.version + 1 };
  dirty = true;
  const ac = new AbortController();
  abort = ac;
  const t0 = performance.now();
  const qs = (u: string) => new URLSearchParams(u);
  if (!m.history) { state.loading = false; historyDone = true; return; } // nothing to show (a filter error)
  streamFlows(qs(m.history), (fs) => add(fs), ac.signal)
    .then(() => { state.took = performance.now() - t0; state.error = ''; })
    .catch((e) => { if (!ac.signal.aborted) { flows = []; rows = []; state.error = e.message; changed(); } })
    .finally(() => {
      if (ac.signal.aborted) return;
      state.loading = false;
      historyDone = true;
      flushHeld();
      markDirty();
    });
  if (m.follow !== undefined) {
    closeLive = followFlows(qs(m.follow), (f) => {
      held.push(f);
      if (paused || !historyDone) { state.pending = held.length; dirty = true; }
    }, (n) => { state.lost += n; dirty = true; }, (s) => { state.live = s; dirty = true; });
  }
}

// live flows are added a few times a second, not one by one
setInterval(flushHeld, 200);

function row(i: number): number {
  return rows.length - 1 - i; // index 0 = the newest
}

self.onmessage = (ev: MessageEvent<Request>) => {
  const m = ev.data;
  switch (m.type) {
    case 'load': load(m); break;
    case 'pause':
      paused = m.paused;
      if (paused) { state.pending = held.length; dirty = true; } else flushHeld();
      break;
    case 'window': {
      const out: Row[] = [];
      const end = Math.min(m.end, rows.length);
      for (let i = Math.max(0, m.start); i < end; i++) out.push(rows[row(i)]);
      post({ type: 'window', id: m.id, version: state.version, start: Math.max(0, m.start), rows: out });
      break;
    }
    case 'get': {
      let index = -1;
      for (let j = flows.length - 1; j >= 0; j--) if (flows[j].uuid === m.uuid) { index = row(j); break; }
      post({ type: 'flow', uuid: m.uuid, flow: index >= 0 ? flows[row(index)] : undefined, index });
      break;
    }
    case 'at': {
      const j = row(m.index);
      post({ type: 'at', index: m.index, uuid: j >= 0 && j < rows.length ? rows[j].uuid : undefined, reason: m.reason });
      break;
    }
    case 'export': {
      const ordered = flows; // oldest first, as hubble prints
      const text = m.kind === 'json' ? toJsonpbLines(ordered) : toCsv(ordered);
      const buf = new TextEncoder().encode(text).buffer as ArrayBuffer;
      post({ type: 'export', kind: m.kind, buffer: buf }, [buf]);
      break;
    }
  }
};
