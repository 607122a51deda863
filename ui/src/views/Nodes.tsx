import { useEffect, useRef, useState } from 'react';
import { fetchNodes, fetchStatus, type NodeInfo } from '../api';
import { ErrorLine, fmtCount } from '../components';

function ago(ms: number): string {
  if (!ms) return '—';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** Nodes pushing to the relay: state, flow rate (from two polls), lost flows, spool. */
export function NodesView() {
  const [nodes, setNodes] = useState<NodeInfo[]>([]);
  const [status, setStatus] = useState<Record<string, unknown>>({});
  const [error, setError] = useState('');
  const prev = useRef<{ t: number; flows: Map<string, number> }>({ t: 0, flows: new Map() });
  const [rates, setRates] = useState<Map<string, number>>(new Map());
  useEffect(() => {
    let stop = false;
    const poll = async () => {
      try {
        const [n, s] = await Promise.all([fetchNodes(), fetchStatus()]);
        if (stop) return;
        const t = performance.now();
        const r = new Map<string, number>();
        if (prev.current.t) for (const x of n) r.set(x.name, ((x.flows - (prev.current.flows.get(x.name) ?? x.flows)) * 1000) / (t - prev.current.t));
        prev.current = { t, flows: new Map(n.map((x) => [x.name, x.flows])) };
        setRates(r); setNodes(n); setStatus(s); setError('');
      } catch (e) { if (!stop) setError((e as Error).message); }
    };
    poll();
    const id = setInterval(poll, 2000);
    return () => { stop = true; clearInterval(id); };
  }, []);
  return (
    <div className="page">
      <ErrorLine error={error} />
      <div className="cards">
        {Object.entries(status).filter(([, v]) => typeof v !== 'object').map(([k, v]) => (
          <div className="card" key={k}><div className="muted">{k.replace(/_/g, ' ')}</div><div className="big">{typeof v === 'number' ? fmtCount(v) : String(v)}</div></div>
        ))}
      </div>
      <table className="grid" data-testid="nodes">
        <thead><tr><th>Node</th><th>State</th><th>Address</th><th className="num">Flows</th><th className="num">Flows/s</th><th className="num">Lost</th><th className="num">Rejected batches</th><th className="num">Spool</th><th>Last seen</th></tr></thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.name}>
              <td className="strong">{n.name}</td>
              <td><span className={`badge ${n.connected ? 'v-forwarded' : 'v-dropped'}`}>{n.connected ? 'connected' : 'unavailable'}</span></td>
              <td>{n.address}</td>
              <td className="num">{fmtCount(n.flows)}</td>
              <td className="num">{rates.has(n.name) ? fmtCount(Math.round(rates.get(n.name)!)) : '—'}</td>
              <td className={`num ${n.lostFlows ? 'bad' : ''}`}>{fmtCount(n.lostFlows)}</td>
              <td className="num">{fmtCount(n.rejectedBatches)}</td>
              <td className="num">{n.spoolBatches < 0 ? '—' : `${fmtCount(n.spoolBatches)} batches`}</td>
              <td>{ago(n.lastSeenMs)}</td>
            </tr>
          ))}
          {!nodes.length && !error && <tr><td colSpan={9} className="empty">No node has pushed flows to this relay yet.</td></tr>}
        </tbody>
      </table>
    </div>
  );
}
