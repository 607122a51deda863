import { memo, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { downloadBytes, ErrorLine, fmtCount, rangeOf, TimeRange, VerdictBadge } from '../components';
import {
  addChip, chipText, FILTER_NAMES, FilterError, formatFilters, parseFilters, toParams, type Chip,
} from '../filters';
import type { Flow } from '../flow';
import type { EpCell, Row } from '../rows';
import type { Reply, Request, State } from '../flowstore.worker';
import { takeEarlyWorker } from '../early';
import { flowsLoad } from '../requests';
import { setParams } from '../router';
import { FlowDetail } from './FlowDetail';

interface Column { id: string; label: string; width: string; cell: (r: Row) => ReactNode; title?: (r: Row) => string }

function ep(c: EpCell): ReactNode {
  if (c.entity) return <><span className="entity">{c.entity}</span> <span className="muted">{c.name}</span></>;
  if (c.ns !== undefined) return <><span className="ns">{c.ns}</span>{c.name}</>;
  return c.name;
}
const text = (id: string) => (r: Row) => r.cells[id];

export const COLUMNS: Column[] = [
  { id: 'time', label: 'Time', width: '104px', cell: (r) => r.time, title: (r) => r.timeTitle },
  { id: 'source', label: 'Source', width: 'minmax(160px,1.3fr)', cell: (r) => ep(r.source), title: (r) => r.sourceTitle },
  { id: 'src_workload', label: 'Src workload', width: 'minmax(90px,.7fr)', cell: text('src_workload') },
  { id: 'src_namespace', label: 'Src namespace', width: 'minmax(90px,.6fr)', cell: text('src_namespace') },
  { id: 'src_identity', label: 'Src identity', width: '84px', cell: text('src_identity') },
  { id: 'src_ip', label: 'Src IP', width: 'minmax(96px,.6fr)', cell: text('src_ip') },
  { id: 'src_port', label: 'Src port', width: '64px', cell: text('src_port') },
  { id: 'destination', label: 'Destination', width: 'minmax(160px,1.3fr)', cell: (r) => ep(r.destination), title: (r) => r.destinationTitle },
  { id: 'dst_workload', label: 'Dst workload', width: 'minmax(90px,.7fr)', cell: text('dst_workload') },
  { id: 'dst_namespace', label: 'Dst namespace', width: 'minmax(90px,.6fr)', cell: text('dst_namespace') },
  { id: 'dst_identity', label: 'Dst identity', width: '84px', cell: text('dst_identity') },
  { id: 'dst_ip', label: 'Dst IP', width: 'minmax(96px,.6fr)', cell: text('dst_ip') },
  { id: 'dst_port', label: 'Dst port', width: '64px', cell: text('dst_port') },
  { id: 'protocol', label: 'Protocol', width: '92px', cell: text('protocol') },
  { id: 'l7', label: 'L7', width: 'minmax(120px,1fr)', cell: text('l7') },
  { id: 'verdict', label: 'Verdict', width: '96px', cell: (r) => <VerdictBadge verdict={r.verdict} /> },
  { id: 'drop_reason', label: 'Drop reason', width: 'minmax(90px,.7fr)', cell: text('drop_reason') },
  { id: 'direction', label: 'Direction', width: '72px', cell: text('direction') },
  { id: 'policy', label: 'Policy', width: 'minmax(110px,.8fr)', cell: text('policy') },
  { id: 'node', label: 'Node', width: 'minmax(70px,.5fr)', cell: text('node') },
];
/** One table row; re-rendered only when what it shows changes (scrolling re-renders the rows that come in). */
const FlowRow = memo(function FlowRow({ row: r, index, top, selected, grid, columns, onPick }: {
  row: Row; index: number; top: number; selected: boolean; grid: string; columns: Column[]; onPick: (uuid: string, index: number) => void;
}) {
  return (
    <div role="row" data-testid="flow-row" data-uuid={r.uuid}
         className={`tr ${index % 2 ? 'odd' : ''} ${r.verdict === 'DROPPED' ? 'dropped' : ''} ${selected ? 'selected' : ''}`}
         style={{ gridTemplateColumns: grid, transform: `translateY(${top}px)`, height: ROW }}
         onClick={() => onPick(r.uuid, index)}>
      {columns.map((c) => (
        <div key={c.id} role="gridcell" className={`c-${c.id}`} title={c.title ? c.title(r) : undefined}>{c.cell(r)}</div>
      ))}
    </div>
  );
}, (a, b) => a.row.uuid === b.row.uuid && a.index === b.index && a.top === b.top && a.selected === b.selected && a.grid === b.grid
  && a.columns === b.columns && a.onPick === b.onPick);

const DEFAULT_COLUMNS = ['time', 'source', 'destination', 'dst_port', 'protocol', 'l7', 'verdict', 'drop_reason', 'policy', 'node'];
const ROW = 24;
const OVERSCAN = 24;
const LIMITS = ['100', '1000', '10000', '100000'];

function loadColumns(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem('sieve.columns') ?? 'null');
    if (Array.isArray(v) && v.every((x) => COLUMNS.some((c) => c.id === x))) return v;
  } catch { /* default */ }
  return DEFAULT_COLUMNS;
}

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

  const [st, setSt] = useState<State>({ type: 'state', id: 0, total: 0, loading: false, took: 0, error: '', live: 'off', pending: 0, lost: 0, newestMs: 0, version: 0 });
  const [win, setWin] = useState<{ version: number; start: number; rows: Row[] }>({ version: -1, start: 0, rows: [] });
  const [sel, setSel] = useState<{ uuid: string; flow?: Flow; index: number }>({ uuid: '', index: -1 });
  const [paused, setPaused] = useState(false);
  const [columns, setColumns] = useState<string[]>(loadColumns);
  const [chooser, setChooser] = useState(false);
  const [input, setInput] = useState('');
  const [inputError, setInputError] = useState('');

  // the flows live in a worker (flowstore.worker.ts): it streams, parses and keeps them; the page asks for
  // the rows on screen only
  const worker = useMemo(() => takeEarlyWorker() ?? new Worker(new URL('../flowstore.worker.ts', import.meta.url), { type: 'module' }), []);
  useEffect(() => () => worker.terminate(), [worker]);
  const ask = useCallback((m: Request) => worker.postMessage(m), [worker]);
  const loadId = useRef(0);
  const winId = useRef(0);
  const winApplied = useRef(0);
  const onAt = useRef<(index: number, uuid?: string) => void>(() => {});

  useEffect(() => { localStorage.setItem('sieve.columns', JSON.stringify(columns)); }, [columns]);

  useEffect(() => {
    worker.onmessage = (ev: MessageEvent<Reply>) => {
      const m = ev.data;
      if (m.type === 'state') { if (m.id === loadId.current) setSt(m); }
      else if (m.type === 'window') {
        // the newest answer wins (an older one arriving late is dropped); while scrolling fast, each shows
        if (m.id > winApplied.current) { winApplied.current = m.id; setWin({ version: m.version, start: m.start, rows: m.rows }); }
      }
      else if (m.type === 'flow') setSel((s) => (s.uuid === m.uuid ? { uuid: m.uuid, flow: m.flow, index: m.index } : s));
      else if (m.type === 'at') onAt.current(m.index, m.uuid);
      else if (m.type === 'export') {
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        if (m.kind === 'json') downloadBytes(`sieve-flows-${stamp}.json`, 'application/x-ndjson', m.buffer);
        else downloadBytes(`sieve-flows-${stamp}.csv`, 'text/csv', m.buffer);
      }
    };
  }, [worker]);

  // history: the newest `limit` flows of the range (streamed in, shown as they come); live: new flows
  // over SSE on top, or kept aside while paused
  useEffect(() => {
    const id = ++loadId.current;
    if (filterError) { setSt((s) => ({ ...s, id, total: 0, loading: false, error: '' })); ask({ type: 'load', id, history: '' }); return; }
    setSt((s) => ({ ...s, id, loading: true }));
    setPaused(false);
    ask({ type: 'load', id, ...flowsLoad(apiParams, range, limit, live) });
  }, [apiParams, rangeKey, limit, filterError, live]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => { ask({ type: 'pause', paused }); }, [paused, ask]);

  const visible = useMemo(() => columns.map((id) => COLUMNS.find((c) => c.id === id)!).filter(Boolean), [columns]);
  const grid = visible.map((c) => c.width).join(' ');

  const total = st.total;
  const scroller = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({ count: total, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: OVERSCAN });
  const items = virt.getVirtualItems();
  const first = items.length ? items[0].index : 0, last = items.length ? items[items.length - 1].index + 1 : 0;
  // ask for the rows on screen (plus a margin) when they are not at hand or the flows changed
  useEffect(() => {
    const covered = win.version === st.version && first >= win.start && last <= win.start + win.rows.length;
    if (covered || !total) return;
    const margin = 200; // rows each side: small scrolls are answered from what is at hand
    ask({ type: 'window', id: ++winId.current, start: Math.max(0, first - margin), end: Math.min(total, last + margin) });
  }, [first, last, st.version, total]); // eslint-disable-line react-hooks/exhaustive-deps
  const rowAt = (i: number): Row | undefined => win.rows[i - win.start];

  // the selected flow (from the URL) with its place in the table
  useEffect(() => {
    if (!selected) { setSel({ uuid: '', index: -1 }); return; }
    setSel((s) => (s.uuid === selected ? s : { uuid: selected, index: -1 }));
    ask({ type: 'get', uuid: selected });
  }, [selected, st.version, ask]);
  const selIndex = sel.uuid === selected ? sel.index : -1;
  const selFlow = sel.uuid === selected ? sel.flow : undefined;

  // a row's place is known when it is picked on screen: the selection shows at once, the flow follows
  const select = useCallback((uuid?: string, index = -1) => {
    if (uuid && index >= 0) setSel((s) => (s.uuid === uuid ? s : { uuid, index }));
    setParams('flows', params, { flow: uuid }, false);
  }, [params]);
  onAt.current = (index, uuid) => { if (uuid) { select(uuid, index); virt.scrollToIndex(index, { align: 'auto' }); } };

  const selIndexRef = useRef(selIndex);
  selIndexRef.current = selIndex;
  const onPick = useCallback((uuid: string, index: number) => select(index === selIndexRef.current ? undefined : uuid, index), [select]);

  const onKey = (e: React.KeyboardEvent) => {
    if (!total) return;
    let i = selIndex;
    if (e.key === 'ArrowDown' || e.key === 'j') i = Math.min(total - 1, i + 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') i = Math.max(0, i - 1);
    else if (e.key === 'PageDown') i = Math.min(total - 1, i + 20);
    else if (e.key === 'PageUp') i = Math.max(0, i - 20);
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = total - 1;
    else if (e.key === 'Escape') { select(undefined); return; }
    else return;
    e.preventDefault();
    const r = rowAt(i);
    if (r) { select(r.uuid, i); virt.scrollToIndex(i, { align: 'auto' }); }
    else ask({ type: 'at', index: i, reason: 'key' });
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

  const exportRows = (kind: 'json' | 'csv') => ask({ type: 'export', kind });

  const loading = st.loading, error = st.error, newest = st.newestMs, liveState = st.live, pending = st.pending, lost = st.lost, took = st.took;
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
        <div className="table" role="grid" aria-rowcount={total}>
          <div className="thead" style={{ gridTemplateColumns: grid }} role="row">
            {visible.map((c) => <div key={c.id} role="columnheader" className={`c-${c.id}`}>{c.label}</div>)}
          </div>
          <div className="tbody" ref={scroller} tabIndex={0} onKeyDown={onKey} data-testid="flow-table">
            {!total && !loading && !error && !filterError && (
              <div className="empty">No flows {chips.length ? 'match these filters' : 'yet'} in this time range{live ? ' — waiting for new ones…' : '.'}</div>
            )}
            <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
              {items.map((vi) => {
                const r = rowAt(vi.index);
                if (!r) return <div key={vi.key} className="tr pending" style={{ transform: `translateY(${vi.start}px)`, height: ROW }} />;
                return <FlowRow key={vi.key} row={r} index={vi.index} top={vi.start} selected={vi.index === selIndex} grid={grid} columns={visible}
                                onPick={onPick} />;
              })}
            </div>
          </div>
        </div>
        {selFlow && <FlowDetail flow={selFlow} onFilter={addFilter} onClose={() => select(undefined)} />}
      </div>
      <footer className="statusbar" data-testid="status">
        <span data-testid="row-count">{fmtCount(total)} flows</span>
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
