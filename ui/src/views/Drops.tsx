import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fetchCounts, fetchFlows, type Bucket } from '../api';
import { ErrorLine, fmtCount, rangeOf, TimeRange } from '../components';
import { formatFilters, rangeParams, type Chip } from '../filters';
import { endpointName, timeMs, type Flow } from '../flow';
import { navigate, setParams } from '../router';

const PALETTE = ['#ef4444', '#f59e0b', '#a855f7', '#06b6d4', '#ec4899', '#84cc16', '#64748b'];
const SAMPLE = 10000;

function spanSeconds(r: ReturnType<typeof rangeOf>): [number, number] {
  const now = Date.now() / 1000;
  if ('last' in r) {
    const unit = ({ s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[r.last.slice(-1)] ?? 60;
    return [now - unit * parseInt(r.last), now];
  }
  return [r.from ? Date.parse(r.from) / 1000 : now - 3600, r.to ? Date.parse(r.to) / 1000 : now];
}

function bucketSeconds(r: ReturnType<typeof rangeOf>): number {
  const [a, b] = spanSeconds(r);
  return Math.max(60, Math.ceil((b - a) / 90 / 60) * 60);
}

/** A pair's side as a filter: its workload's pods (a name prefix) or its namespace. */
function side(f: Flow, which: 'source' | 'destination'): Chip[] {
  const e = f[which];
  if (!e?.namespace) return [];
  const dir = which === 'source' ? 'from' : 'to';
  const wl = e.workloads?.[0]?.name;
  return [wl ? { name: `${dir}-pod`, values: [`${e.namespace}/${wl}`], negate: false } : { name: `${dir}-namespace`, values: [e.namespace], negate: false }];
}

/** Drops over time by reason, top reasons, top denied source → destination pairs. */
export function DropsView({ params }: { params: URLSearchParams }) {
  const range = rangeOf(params);
  const rangeKey = JSON.stringify(range);
  const [flows, setFlows] = useState<Flow[]>([]);
  const [counts, setCounts] = useState<Bucket[]>([]);
  const [error, setError] = useState('');
  const chart = useRef<HTMLDivElement>(null);
  const bucket = bucketSeconds(range);

  useEffect(() => {
    const ac = new AbortController();
    const p = rangeParams(range, new URLSearchParams({ verdict: 'DROPPED', last: String(SAMPLE) }));
    const c = rangeParams(range, new URLSearchParams({ bucket: `${bucket}s` }));
    Promise.all([fetchFlows(p, ac.signal), fetchCounts(c, ac.signal)])
      .then(([f, b]) => { setFlows(f); setCounts(b); setError(''); })
      .catch((e) => { if (!ac.signal.aborted) setError(e.message); });
    return () => ac.abort();
  }, [rangeKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const reasons = useMemo(() => {
    const m = new Map<string, number>();
    for (const f of flows) m.set(f.drop_reason_desc ?? 'UNKNOWN', (m.get(f.drop_reason_desc ?? 'UNKNOWN') ?? 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1]);
  }, [flows]);
  const pairs = useMemo(() => {
    const m = new Map<string, { f: Flow; n: number }>();
    for (const f of flows) {
      const k = `${f.source?.namespace}/${f.source?.workloads?.[0]?.name ?? f.source?.pod_name}→${f.destination?.namespace}/${f.destination?.workloads?.[0]?.name ?? f.destination?.pod_name}`;
      const e = m.get(k);
      if (e) e.n++; else m.set(k, { f, n: 1 });
    }
    return [...m.values()].sort((a, b) => b.n - a.n).slice(0, 15);
  }, [flows]);

  useEffect(() => {
    if (!chart.current) return;
    const el = chart.current;
    // every bucket of the range, zero where the relay has none
    const [a, b] = spanSeconds(range);
    const starts: number[] = [];
    for (let t = Math.floor(a / bucket) * bucket; t <= b; t += bucket) starts.push(t);
    const idx = new Map(starts.map((s, i) => [s, i]));
    const all = new Array(starts.length).fill(0);
    for (const c of counts) { const i = idx.get(c.start); if (i !== undefined) all[i] = c.drops; }
    const top = reasons.slice(0, 6).map(([r]) => r);
    const series = top.map(() => new Array(starts.length).fill(0));
    for (const f of flows) {
      const i = idx.get(Math.floor(timeMs(f) / 1000 / bucket) * bucket);
      const j = top.indexOf(f.drop_reason_desc ?? 'UNKNOWN');
      if (i !== undefined && j >= 0) series[j][i]++;
    }
    const style = getComputedStyle(document.documentElement);
    const axis = { stroke: style.getPropertyValue('--muted').trim(), grid: { stroke: style.getPropertyValue('--border').trim(), width: 1 }, ticks: { show: false } };
    const opts: uPlot.Options = {
      width: el.clientWidth, height: 220,
      series: [
        {},
        { label: 'all drops', stroke: style.getPropertyValue('--muted').trim(), width: 1, dash: [4, 3], points: { show: false } },
        ...top.map((r, i) => ({ label: r, stroke: PALETTE[i % PALETTE.length], fill: PALETTE[i % PALETTE.length] + '55', width: 1, paths: uPlot.paths.bars!({ size: [0.8, 40] }), points: { show: false } })),
      ],
      axes: [axis, axis],
      scales: { x: { time: true } },
      legend: { live: true },
    };
    const u = new uPlot(opts, [starts, all, ...series] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 220 }));
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); };
  }, [counts, flows, reasons, bucket]); // eslint-disable-line react-hooks/exhaustive-deps

  const toFlows = (chips: Chip[]) => {
    const p = new URLSearchParams({ q: formatFilters([{ name: 'verdict', values: ['DROPPED'], negate: false }, ...chips]) });
    for (const k of ['since', 'from', 'to']) { const v = params.get(k); if (v) p.set(k, v); }
    navigate('flows', p);
  };
  const total = counts.reduce((a, b) => a + b.drops, 0);
  return (
    <div className="page">
      <div className="toolbar">
        <span className="strong">{fmtCount(total)} drops</span>
        <span className="muted">{flows.length >= SAMPLE ? `reasons and pairs from the newest ${fmtCount(SAMPLE)}` : ''}</span>
        <div className="spacer" />
        <TimeRange range={range} onChange={(c) => setParams('drops', params, c, true)} />
      </div>
      <ErrorLine error={error} />
      <div className="chart" ref={chart} data-testid="drops-chart" />
      <div className="two">
        <section>
          <h3>Top drop reasons</h3>
          <table className="grid">
            <tbody>
              {reasons.map(([r, n]) => (
                <tr key={r} className="clickable" onClick={() => toFlows([{ name: 'drop-reason', values: [r], negate: false }])}>
                  <td>{r}</td><td className="num">{fmtCount(n)}</td>
                </tr>
              ))}
              {!reasons.length && <tr><td className="empty">No drops in this time range.</td></tr>}
            </tbody>
          </table>
        </section>
        <section>
          <h3>Top denied source → destination</h3>
          <table className="grid">
            <tbody>
              {pairs.map(({ f, n }) => (
                <tr key={endpointName(f.source, f.IP?.source) + endpointName(f.destination, f.IP?.destination)} className="clickable"
                    onClick={() => toFlows([...side(f, 'source'), ...side(f, 'destination')])}>
                  <td>{f.source?.namespace}/{f.source?.workloads?.[0]?.name ?? f.source?.pod_name ?? f.IP?.source}</td>
                  <td className="muted">→</td>
                  <td>{f.destination?.namespace}/{f.destination?.workloads?.[0]?.name ?? f.destination?.pod_name ?? f.IP?.destination}</td>
                  <td className="num">{fmtCount(n)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}
