import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { followFlows, streamFlows } from '../api';
import { download, ErrorLine, fmtCount, rangeOf, TimeRange, VerdictBadge } from '../components';
import {
  addChip, chipText, FILTER_NAMES, FilterError, formatFilters, parseFilters, rangeParams, toParams, type Chip,
} from '../filters';
import {
  endpointName, l4Ports, l7Summary, policySummary, protocol, reservedEntity, timeMs, toCsv, toJsonpbLines, workload, type Flow,
} from '../flow';
import { setParams } from '../router';
import { FlowDetail } from './FlowDetail';

interface Column { id: string; label: string; width: string; cell: (f: Flow) => ReactNode; title?: (f: Flow) => string }

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function fmtTime(f: Flow): string {
  if (!f.time) return '';
  const d = new Date(f.time);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function ep(f: Flow, side: 'source' | 'destination'): ReactNode {
  const e = f[side];
  const ip = side === 'source' ? f.IP?.source : f.IP?.destination;
  const names = side === 'source' ? f.source_names : f.destination_names;
  if (e?.pod_name) return <><span className="ns">{e.namespace}/</span>{e.pod_name}</>;
  const r = reservedEntity(e);
  if (r) return <><span className="entity">{r}</span> <span className="muted">{names?.[0] ?? ip}</span></>;
  return names?.[0] ?? ip ?? '';
}

export const COLUMNS: Column[] = [
  { id: 'time', label: 'Time', width: '104px', cell: fmtTime, title: (f) => f.time ?? '' },
  { id: 'source', label: 'Source', width: 'minmax(160px,1.3fr)', cell: (f) => ep(f, 'source'), title: (f) => endpointName(f.source, f.IP?.source, f.source_names) },
  { id: 'src_workload', label: 'Src workload', width: 'minmax(90px,.7fr)', cell: (f) => workload(f.source) },
  { id: 'src_namespace', label: 'Src namespace', width: 'minmax(90px,.6fr)', cell: (f) => f.source?.namespace ?? '' },
  { id: 'src_identity', label: 'Src identity', width: '84px', cell: (f) => f.source?.identity ?? '' },
  { id: 'src_ip', label: 'Src IP', width: 'minmax(96px,.6fr)', cell: (f) => f.IP?.source ?? '' },
  { id: 'src_port', label: 'Src port', width: '64px', cell: (f) => l4Ports(f)[0] ?? '' },
  { id: 'destination', label: 'Destination', width: 'minmax(160px,1.3fr)', cell: (f) => ep(f, 'destination'), title: (f) => endpointName(f.destination, f.IP?.destination, f.destination_names) },
  { id: 'dst_workload', label: 'Dst workload', width: 'minmax(90px,.7fr)', cell: (f) => workload(f.destination) },
  { id: 'dst_namespace', label: 'Dst namespace', width: 'minmax(90px,.6fr)', cell: (f) => f.destination?.namespace ?? '' },
  { id: 'dst_identity', label: 'Dst identity', width: '84px', cell: (f) => f.destination?.identity ?? '' },
  { id: 'dst_ip', label: 'Dst IP', width: 'minmax(96px,.6fr)', cell: (f) => f.IP?.destination ?? '' },
  { id: 'dst_port', label: 'Dst port', width: '64px', cell: (f) => l4Ports(f)[1] ?? '' },
  { id: 'protocol', label: 'Protocol', width: '92px', cell: protocol },
  { id: 'l7', label: 'L7', width: 'minmax(120px,1fr)', cell: l7Summary },
  { id: 'verdict', label: 'Verdict', width: '96px', cell: (f) => <VerdictBadge verdict={f.verdict} /> },
  { id: 'drop_reason', label: 'Drop reason', width: 'minmax(90px,.7fr)', cell: (f) => f.drop_reason_desc ?? '' },
  { id: 'direction', label: 'Direction', width: '72px', cell: (f) => (f.traffic_direction ?? '').toLowerCase() },
  { id: 'policy', label: 'Policy', width: 'minmax(110px,.8fr)', cell: policySummary },
  { id: 'node', label: 'Node', width: 'minmax(70px,.5fr)', cell: (f) => f.node_name ?? '' },
];
const DEFAULT_COLUMNS = ['time', 'source', 'destination', 'dst_port', 'protocol', 'l7', 'verdict', 'drop_reason', 'policy', 'node'];
const ROW = 24;
const MAX_ROWS = 200_000;
const LIMITS = ['100', '1000', '10000', '100000'];

function loadColumns(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem('sieve.columns') ?? 'null');
    if (Array.isArray(v) && v.every((x) => COLUMNS.some((c) => c.id === x))) return v;
  } catch { /* default */ }
  return DEFAULT_COLUMNS;
}

const key = (f: Flow) => f.uuid ?? `${f.time}|${f.node_name}|${f.IP?.source}|${f.IP?.destination}`;

export function FlowsView({ params }: { params: URLSearchParams }) {
  const q = params.get('q') ?? '';
  const live = params.get('live') === '1';
  const limit = params.get('limit') ?? '1000';
  const selected = params.get('flow') ?? '';
  const range = rangeOf(params);
  const rangeKey = JSON.stringify(range);
  const set = (c: Record<string, string | undefined>, push = false) => setParams('flows', params, c, push);

  let chips: Chip[] = [];
  let filterError = '';
  try { chips = parseFilters(q); } catch (e) { filterError = (e as Error).message; }
  const apiParams = useMemo(() => toParams(chips), [q]); // eslint-disable-line react-hooks/exhaustive-deps

  const [rows, setRows] = useState<Flow[]>([]); // newest first
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const [took, setTook] = useState(0);
  const [paused, setPaused] = useState(false);
  const [pending, setPending] = useState(0);
  const [liveState, setLiveState] = useState<'off' | 'open' | 'error'>('off');
  const [lost, setLost] = useState(0);
  const [columns, setColumns] = useState<string[]>(loadColumns);
  const [chooser, setChooser] = useState(false);
  const [input, setInput] = useState('');
  const [inputError, setInputError] = useState('');
  const buffer = useRef<Flow[]>([]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useEffect(() => { localStorage.setItem('sieve.columns', JSON.stringify(columns)); }, [columns]);

  // history: the newest `limit` flows of the range, streamed in and shown as they come
  useEffect(() => {
    if (filterError) { setRows([]); return; }
    const ac = new AbortController();
    const p = rangeParams(range, new URLSearchParams(apiParams));
    p.set('last', limit);
    setLoading(true);
    setRows([]);
    const t0 = performance.now();
    const got: Flow[] = [];
    let shown = 0;
    const show = () => { if (got.length !== shown) { shown = got.length; setRows(got.slice().reverse()); } };
    const timer = setInterval(show, 300);
    streamFlows(p, (fs) => { for (const f of fs) got.push(f); }, ac.signal)
      .then(() => { show(); setError(''); setTook(performance.now() - t0); })
      .catch((e) => { if (!ac.signal.aborted) { setRows([]); setError(e.message); } })
      .finally(() => { clearInterval(timer); if (!ac.signal.aborted) setLoading(false); });
    return () => { clearInterval(timer); ac.abort(); };
  }, [apiParams, rangeKey, limit, filterError]); // eslint-disable-line react-hooks/exhaustive-deps

  // live: new flows over SSE, flushed a few times a second; paused = kept aside, rows stand still
  useEffect(() => {
    if (!live || filterError) { setLiveState('off'); return; }
    buffer.current = [];
    setPending(0);
    const close = followFlows(apiParams, (f) => { buffer.current.push(f); }, (n) => setLost((l) => l + n), setLiveState);
    const timer = setInterval(() => {
      if (!buffer.current.length) return;
      if (pausedRef.current) { setPending(buffer.current.length); return; }
      const add = buffer.current.reverse();
      buffer.current = [];
      setPending(0);
      setRows((r) => {
        const seen = new Set(r.slice(0, 2000).map(key));
        const fresh = add.filter((f) => !seen.has(key(f)));
        const next = fresh.concat(r);
        return next.length > MAX_ROWS ? next.slice(0, MAX_ROWS) : next;
      });
    }, 200);
    return () => { close(); clearInterval(timer); setLiveState('off'); };
  }, [live, apiParams, filterError]);

  useEffect(() => { if (!paused && buffer.current.length) setPending(buffer.current.length); }, [paused]);

  const visible = useMemo(() => columns.map((id) => COLUMNS.find((c) => c.id === id)!).filter(Boolean), [columns]);
  const grid = visible.map((c) => c.width).join(' ');

  const scroller = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 24 });
  const selIndex = useMemo(() => (selected ? rows.findIndex((f) => f.uuid === selected) : -1), [rows, selected]);
  const selFlow = selIndex >= 0 ? rows[selIndex] : undefined;

  const select = useCallback((f?: Flow) => setParams('flows', params, { flow: f?.uuid }, false), [params]);

  const onKey = (e: React.KeyboardEvent) => {
    if (!rows.length) return;
    let i = selIndex;
    if (e.key === 'ArrowDown' || e.key === 'j') i = Math.min(rows.length - 1, i + 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') i = Math.max(0, i - 1);
    else if (e.key === 'PageDown') i = Math.min(rows.length - 1, i + 20);
    else if (e.key === 'PageUp') i = Math.max(0, i - 20);
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = rows.length - 1;
    else if (e.key === 'Escape') { select(undefined); return; }
    else return;
    e.preventDefault();
    select(rows[i]);
    virt.scrollToIndex(i, { align: 'auto' });
  };

  const setChips = (next: Chip[]) => set({ q: formatFilters(next) || undefined, flow: undefined }, true);
  const addFilter = (c: Chip) => setChips(addChip(chips, c));
  const submitInput = () => {
    if (!input.trim()) return;
    try {
      const add = parseFilters(input);
      let next = chips;
      for (const c of add) next = addChip(next, c);
      setInputError('');
      setInput('');
      setChips(next);
    } catch (e) {
      if (e instanceof FilterError) setInputError(e.message);
      else throw e;
    }
  };

  const exportRows = (kind: 'json' | 'csv') => {
    const ordered = rows.slice().reverse(); // oldest first, as hubble prints
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    if (kind === 'json') download(`sieve-flows-${stamp}.json`, 'application/x-ndjson', toJsonpbLines(ordered));
    else download(`sieve-flows-${stamp}.csv`, 'text/csv', toCsv(ordered));
  };

  const newest = rows.length ? timeMs(rows[0]) : 0;
  return (
    <div className={`flows ${selFlow ? 'with-detail' : ''}`}>
      <div className="toolbar">
        <div className="filterbox" onClick={() => document.getElementById('filter-input')?.focus()}>
          {chips.map((c, i) => (
            <span key={chipText(c) + i} className={`chip ${c.negate ? 'neg' : ''}`} data-testid="chip">
              <button className="chip-toggle" title={c.negate ? 'Include instead' : 'Exclude instead (--not)'}
                      onClick={(e) => { e.stopPropagation(); setChips(chips.map((x, j) => (j === i ? { ...x, negate: !x.negate } : x))); }}>
                {c.negate ? '≠' : '='}
              </button>
              <span className="chip-name">{c.name}</span>
              <span className="chip-value">{c.values.join(', ')}</span>
              <button className="chip-x" aria-label={`remove ${chipText(c)}`}
                      onClick={(e) => { e.stopPropagation(); setChips(chips.filter((_, j) => j !== i)); }}>×</button>
            </span>
          ))}
          <input id="filter-input" data-testid="filter-input" list="filter-names" value={input} spellCheck={false}
                 placeholder={chips.length ? 'add filter…' : 'filter: verdict:DROPPED namespace:prod to-port:5432 !from-label:app=test …'}
                 onChange={(e) => { setInput(e.target.value); setInputError(''); }}
                 onKeyDown={(e) => {
                   if (e.key === 'Enter') submitInput();
                   else if (e.key === 'Backspace' && !input && chips.length) setChips(chips.slice(0, -1));
                 }} />
          <datalist id="filter-names">{FILTER_NAMES.map((n) => <option key={n} value={`${n}:`} />)}</datalist>
          {chips.length > 0 && <button className="ghost small" onClick={() => setChips([])} title="Clear filters">clear</button>}
        </div>
        <TimeRange range={range} disabled={live} onChange={(c) => set(c, true)} />
        <select value={limit} onChange={(e) => set({ limit: e.target.value === '1000' ? undefined : e.target.value }, true)} title="Newest N flows of the range" data-testid="limit">
          {LIMITS.map((l) => <option key={l} value={l}>{fmtCount(+l)} newest</option>)}
        </select>
        <button className={live ? 'primary' : ''} data-testid="live" onClick={() => { setPaused(false); set({ live: live ? undefined : '1' }, true); }}
                title="Follow new flows (Server-Sent Events)">
          <span className={`dot ${live ? (liveState === 'open' ? 'on' : 'wait') : ''}`} />Live
        </button>
        {live && (
          <button data-testid="pause" onClick={() => setPaused(!paused)} title="Rows stop moving; new flows are kept aside">
            {paused ? `▶ Resume${pending ? ` (${fmtCount(pending)} new)` : ''}` : '❚❚ Pause'}
          </button>
        )}
        <div className="spacer" />
        <div className="menu">
          <button onClick={() => setChooser(!chooser)} data-testid="columns">Columns ▾</button>
          {chooser && (
            <div className="popover" onMouseLeave={() => setChooser(false)}>
              {COLUMNS.map((c) => (
                <label key={c.id}>
                  <input type="checkbox" checked={columns.includes(c.id)}
                         onChange={(e) => setColumns(e.target.checked ? COLUMNS.map((x) => x.id).filter((x) => x === c.id || columns.includes(x)) : columns.filter((x) => x !== c.id))} />
                  {c.label}
                </label>
              ))}
              <button className="ghost small" onClick={() => setColumns(DEFAULT_COLUMNS)}>defaults</button>
            </div>
          )}
        </div>
        <button onClick={() => exportRows('json')} data-testid="export-json" title="hubble observe -o jsonpb lines">Export JSON</button>
        <button onClick={() => exportRows('csv')} data-testid="export-csv">CSV</button>
      </div>
      <ErrorLine error={filterError || inputError || error} />
      <div className="table-wrap">
        <div className="table" role="grid" aria-rowcount={rows.length}>
          <div className="thead" style={{ gridTemplateColumns: grid }} role="row">
            {visible.map((c) => <div key={c.id} role="columnheader" className={`c-${c.id}`}>{c.label}</div>)}
          </div>
          <div className="tbody" ref={scroller} tabIndex={0} onKeyDown={onKey} data-testid="flow-table">
            {!rows.length && !loading && !error && !filterError && (
              <div className="empty">No flows {chips.length ? 'match these filters' : 'yet'} in this time range{live ? ' — waiting for new ones…' : '.'}</div>
            )}
            <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
              {virt.getVirtualItems().map((vi) => {
                const f = rows[vi.index];
                return (
                  <div key={vi.key} role="row" data-testid="flow-row" data-uuid={f.uuid}
                       className={`tr ${vi.index % 2 ? 'odd' : ''} ${f.verdict === 'DROPPED' ? 'dropped' : ''} ${vi.index === selIndex ? 'selected' : ''}`}
                       style={{ gridTemplateColumns: grid, transform: `translateY(${vi.start}px)`, height: ROW }}
                       onClick={() => select(vi.index === selIndex ? undefined : f)}>
                    {visible.map((c) => (
                      <div key={c.id} role="gridcell" className={`c-${c.id}`} title={c.title ? c.title(f) : undefined}>{c.cell(f)}</div>
                    ))}
                  </div>
                );
              })}
            </div>
          </div>
        </div>
        {selFlow && <FlowDetail flow={selFlow} onFilter={addFilter} onClose={() => select(undefined)} />}
      </div>
      <footer className="statusbar" data-testid="status">
        <span data-testid="row-count">{fmtCount(rows.length)} flows</span>
        {loading ? <span>loading…</span> : <span>{took ? `${Math.round(took)} ms` : ''}</span>}
        {newest > 0 && <span>newest {new Date(newest).toLocaleString()}</span>}
        {live && <span>live: {paused ? 'paused' : liveState === 'open' ? 'following' : liveState === 'error' ? 'reconnecting…' : 'connecting…'}</span>}
        {lost > 0 && <span className="warn">{fmtCount(lost)} flows lost</span>}
        <span className="spacer" />
        <span className="muted">↑↓ select · Esc close · filters are hubble's flags</span>
      </footer>
    </div>
  );
}
