import { useEffect, useMemo, useState } from 'react';
import { fetchPolicies, type PolicyUse } from '../api';
import { ErrorLine, fmtCount, rangeOf, TimeRange } from '../components';
import { setParams } from '../router';

const VERDICT_ORDER = ['FORWARDED', 'DROPPED', 'AUDIT', 'REDIRECTED', 'ERROR'];

function Bar({ by, total }: { by: Record<string, number>; total: number }) {
  return (
    <div className="bar" title={Object.entries(by).map(([k, v]) => `${k}: ${v}`).join(', ')}>
      {Object.entries(by).sort(([a], [b]) => VERDICT_ORDER.indexOf(a) - VERDICT_ORDER.indexOf(b)).map(([k, v]) => (
        <span key={k} className={`seg v-${k.toLowerCase()}`} style={{ width: `${(100 * v) / Math.max(1, total)}%` }} />
      ))}
    </div>
  );
}

/** Policies seen in flows over the range, with what they allowed and denied. */
export function PoliciesView({ params }: { params: URLSearchParams }) {
  const range = rangeOf(params);
  const rangeKey = JSON.stringify(range);
  const highlight = params.get('policy') ?? '';
  const [rows, setRows] = useState<PolicyUse[]>([]);
  const [error, setError] = useState('');
  const [text, setText] = useState('');
  useEffect(() => {
    const ac = new AbortController();
    const p = new URLSearchParams();
    if ('last' in range) p.set('since', range.last);
    else { if (range.from) p.set('since', range.from); if (range.to) p.set('until', range.to); }
    fetchPolicies(p, ac.signal).then((r) => { setRows(r); setError(''); }).catch((e) => { if (!ac.signal.aborted) setError(e.message); });
    return () => ac.abort();
  }, [rangeKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const shown = useMemo(() => {
    const t = text.toLowerCase();
    return rows.filter((r) => !t || `${r.kind} ${r.namespace}/${r.name} ${r.effect}`.toLowerCase().includes(t))
      .sort((a, b) => b.flows - a.flows);
  }, [rows, text]);
  const max = Math.max(1, ...shown.map((r) => r.flows));
  return (
    <div className="page">
      <div className="toolbar">
        <input placeholder="find policy…" value={text} onChange={(e) => setText(e.target.value)} />
        <div className="spacer" />
        <TimeRange range={range} onChange={(c) => setParams('policies', params, c, true)} />
      </div>
      <ErrorLine error={error} />
      <table className="grid" data-testid="policies">
        <thead><tr><th>Effect</th><th>Kind</th><th>Namespace</th><th>Name</th><th className="num">Flows</th><th className="num">Forwarded</th><th className="num">Dropped</th><th className="num">Audit</th><th style={{ width: '30%' }}>By verdict</th></tr></thead>
        <tbody>
          {shown.map((r) => {
            const id = `${r.namespace ? r.namespace + '/' : ''}${r.name}`;
            return (
              <tr key={`${r.effect}:${r.kind}/${id}`} className={highlight === id ? 'highlight' : ''} data-testid="policy-row">
                <td><span className={`effect ${r.effect}`}>{r.effect}</span></td>
                <td>{r.kind}</td><td>{r.namespace}</td><td className="strong">{r.name}</td>
                <td className="num">{fmtCount(r.flows)}</td>
                <td className="num">{fmtCount(r.byVerdict.FORWARDED ?? 0)}</td>
                <td className="num bad">{fmtCount(r.byVerdict.DROPPED ?? 0)}</td>
                <td className="num">{fmtCount(r.byVerdict.AUDIT ?? 0)}</td>
                <td><div style={{ width: `${(100 * r.flows) / max}%` }}><Bar by={r.byVerdict} total={r.flows} /></div></td>
              </tr>
            );
          })}
          {!shown.length && !error && <tr><td colSpan={9} className="empty">No policy decided a flow in this time range.</td></tr>}
        </tbody>
      </table>
    </div>
  );
}
