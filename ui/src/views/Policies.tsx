import { useEffect, useMemo, useState } from 'react';
import { fetchPolicies, fetchPolicyRules, type PolicyDef, type PolicyPeer, type PolicyRule, type PolicyRules, type PolicyUse } from '../api';
import { ErrorLine, fmtCount, rangeOf, TimeRange } from '../components';
import { navigate, setParams } from '../router';
import { policiesRequest } from '../requests';

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

/** One policy: what flows say it decided over the range, and (with the relay's --manifests) how it is defined. */
interface Row {
  id: string; // NAMESPACE/NAME, as flows and links name it
  kind: string; namespace: string; name: string;
  effects: string[];
  flows: number; byVerdict: Record<string, number>;
  def?: PolicyDef;
}

/** allow / deny: from the flows it decided, else from its rules. */
function effectsOf(r: Row): string[] {
  if (r.effects.length || !r.def) return r.effects;
  const rules = r.def.specs.flatMap((s) => s.rules);
  return [...new Set(rules.map((x) => (x.deny ? 'deny' : 'allow')))];
}

const idOf = (namespace: string, name: string) => `${namespace ? namespace + '/' : ''}${name}`;

function merge(uses: PolicyUse[], defs: PolicyDef[]): Row[] {
  const by = new Map<string, Row>();
  const row = (kind: string, namespace: string, name: string) => {
    const k = `${kind}|${namespace}|${name}`;
    let r = by.get(k);
    if (!r) by.set(k, r = { id: idOf(namespace, name), kind, namespace, name, effects: [], flows: 0, byVerdict: {} });
    return r;
  };
  for (const d of defs) row(d.kind, d.namespace, d.name).def = d;
  for (const u of uses) {
    const r = row(u.kind, u.namespace, u.name);
    if (!r.effects.includes(u.effect)) r.effects.push(u.effect);
    r.flows += u.flows;
    for (const [v, n] of Object.entries(u.byVerdict)) r.byVerdict[v] = (r.byVerdict[v] ?? 0) + n;
  }
  return [...by.values()];
}

/** The flows view over a policy's endpoints: traffic to them (ingress rules) or from them (egress rules). */
function flowsLink(pods: string[], dir: 'to' | 'from', verdict?: string): string {
  const q = [`${dir}-pod:${pods.join(',')}`];
  if (verdict) q.push(`verdict:${verdict}`);
  return q.join(' ');
}

function goFlows(q: string, params: URLSearchParams) {
  const p = new URLSearchParams();
  for (const k of ['since', 'from', 'to']) { const v = params.get(k); if (v) p.set(k, v); }
  p.set('q', q);
  navigate('flows', p);
}

function Peer({ peer }: { peer: PolicyPeer }) {
  return (
    <div className="peer" data-testid="rule-peer" data-kind={peer.kind}>
      <span className="muted">{peer.kind}</span> <span className="mono">{peer.text}</span>
      <div className="selects" data-testid="peer-selects">
        {peer.all ? <span className="tag">every peer</span>
          : peer.selects.length === 0 ? <span className="muted">selects nothing now</span>
            : peer.selects.flatMap((s) => (s.pods ?? [s.name]).map((n) => (
              <span key={`${s.identity}/${n}`} className={`tag sel-${s.kind}`} data-testid="peer-selected" title={`identity ${s.identity}`}>{n}</span>)))}
      </div>
      {peer.note && <div className="muted small">{peer.note}</div>}
    </div>
  );
}

function RuleCard({ rule }: { rule: PolicyRule }) {
  return (
    <div className={`rule ${rule.deny ? 'deny' : 'allow'}`} data-testid="policy-rule" data-rule={rule.rule}>
      <div className="rule-head">
        <span className={`effect ${rule.deny ? 'deny' : 'allow'}`}>{rule.deny ? 'deny' : rule.effect === 'allow-l7' ? 'allow L7' : 'allow'}</span>
        <span className="muted">{rule.direction.toLowerCase()}</span>
        <span className="mono muted">{rule.path}</span>
      </div>
      <p className="rule-text" data-testid="rule-text">{rule.text}</p>
      <table className="kv">
        <tbody>
          <tr><th>{rule.direction === 'INGRESS' ? 'from' : 'to'}</th>
            <td>{rule.peers.length ? rule.peers.map((p, i) => <Peer key={i} peer={p} />) : <span className="tag">any peer</span>}</td></tr>
          {rule.requires && <tr><th>requires</th><td className="mono">{rule.requires.join(', ')}</td></tr>}
          <tr><th>ports</th>
            <td data-testid="rule-ports">
              {rule.toPorts.length === 0 && !rule.icmps?.length && <span className="tag">any port, any protocol</span>}
              {rule.toPorts.map((pt, i) => (
                <div key={i}>
                  {pt.ports.map((p) => <span key={p} className="tag mono">{p === '*' ? 'any port' : p}</span>)}
                  {pt.l7 && (
                    <ul className="l7" data-testid="rule-l7">
                      {pt.l7.map((l, j) => <li key={j}><span className="muted">{pt.l7Protocol}</span> <span className="mono">{l}</span></li>)}
                    </ul>
                  )}
                </div>
              ))}
              {rule.icmps?.map((c) => <span key={c} className="tag mono">{c}</span>)}
            </td></tr>
        </tbody>
      </table>
    </div>
  );
}

function Detail({ row, rules, params }: { row: Row; rules: PolicyRules | null; params: URLSearchParams }) {
  const d = row.def;
  const pods = d?.endpoints.map((e) => e.pod) ?? [];
  const ingress = d?.specs.some((s) => s.rules.some((r) => r.direction === 'INGRESS')) ?? true;
  const egress = d?.specs.some((s) => s.rules.some((r) => r.direction === 'EGRESS')) ?? false;
  const audit = row.byVerdict.AUDIT ?? 0;
  return (
    <aside className="detail policy-detail" data-testid="policy-detail">
      <div className="detail-head">
        <span className="muted">{row.kind}</span>
        <div className="spacer" />
        <button className="ghost" onClick={() => setParams('policies', params, { policy: undefined })} title="Close">✕</button>
      </div>
      <div className="detail-title">{row.id}</div>
      {d && <div className="muted small">{d.file}{d.document > 1 ? ` (document ${d.document})` : ''}</div>}

      <h4>Flows over the range</h4>
      <div className="cards" data-testid="policy-flows">
        <div className="card"><div className="muted">allowed</div><div className="big">{fmtCount(row.byVerdict.FORWARDED ?? 0)}</div></div>
        <div className="card"><div className="muted">denied</div><div className="big bad">{fmtCount(row.byVerdict.DROPPED ?? 0)}</div></div>
        <div className="card" data-testid="policy-audit"><div className="muted">audit (would-be drops)</div><div className="big">{fmtCount(audit)}</div></div>
      </div>
      {pods.length > 0 && (
        <p className="links">
          {ingress && <a href="/flows" data-testid="flows-to" onClick={(e) => { e.preventDefault(); goFlows(flowsLink(pods, 'to'), params); }}>flows to its endpoints</a>}
          {egress && <a href="/flows" data-testid="flows-from" onClick={(e) => { e.preventDefault(); goFlows(flowsLink(pods, 'from'), params); }}>flows from its endpoints</a>}
          {ingress && <a href="/flows" onClick={(e) => { e.preventDefault(); goFlows(flowsLink(pods, 'to', 'DROPPED'), params); }}>drops</a>}
        </p>
      )}

      {!d && (
        <p className="muted" data-testid="policy-undefined">
          {rules?.available === false ? rules.message : 'Not in the relay\'s manifests: known only by the name flows carry.'}
        </p>
      )}
      {d && (
        <>
          <h4>Selects now</h4>
          <div className="selects" data-testid="policy-selects">
            {d.endpoints.length === 0 && !d.specs.some((s) => s.nodes) && <span className="muted">no endpoint</span>}
            {d.endpoints.map((e) => (
              <span key={e.pod} className={`tag ${e.audit ? 'audit' : ''}`} data-testid="selected-endpoint" data-audit={e.audit ? '1' : '0'}
                    title={`identity ${e.identity}${e.ips.length ? ', ' + e.ips.join(', ') : ''}`}>
                {e.pod}{e.audit && <span className="badge v-audit">audit mode</span>}
              </span>
            ))}
            {d.specs.flatMap((s) => s.nodes ?? []).map((n) => <span key={n} className="tag">node {n}</span>)}
          </div>
          {d.auditEndpoints.length > 0 && (
            <p className="muted small" data-testid="policy-audit-note">
              {d.auditEndpoints.join(', ')} {d.auditEndpoints.length === 1 ? 'is' : 'are'} in audit mode: what this policy would drop there
              passes and is reported as AUDIT ({fmtCount(audit)} over the range).
            </p>
          )}
          {d.specs.map((s, i) => (
            <div key={i} className="spec">
              <h4>Rules {d.specs.length > 1 ? `(${s.path})` : ''}</h4>
              <div className="muted small mono" title="endpointSelector">{s.nodeSelector ? `nodeSelector ${s.nodeSelector}` : `endpointSelector ${s.endpointSelector}`}</div>
              {s.description && <p className="muted small">{s.description}</p>}
              {s.rules.length === 0 && (
                <p className="muted" data-testid="rule-text">
                  {s.defaultDeny.ingress || s.defaultDeny.egress ? 'No rules: every connection of the selected endpoints in the directions it names is denied (default deny).' : 'No rules.'}
                </p>
              )}
              {s.rules.map((r) => <RuleCard key={r.path} rule={r} />)}
            </div>
          ))}
        </>
      )}
    </aside>
  );
}

/** Policies: each one seen in flows over the range or defined in the relay's manifests — what it decided, selects and says. */
export function PoliciesView({ params }: { params: URLSearchParams }) {
  const range = rangeOf(params);
  const rangeKey = JSON.stringify(range);
  const selected = params.get('policy') ?? '';
  const [uses, setUses] = useState<PolicyUse[]>([]);
  const [rules, setRules] = useState<PolicyRules | null>(null);
  const [error, setError] = useState('');
  const [text, setText] = useState('');
  useEffect(() => {
    const ac = new AbortController();
    fetchPolicies(policiesRequest(params), ac.signal).then((r) => { setUses(r); setError(''); }).catch((e) => { if (!ac.signal.aborted) setError(e.message); });
    return () => ac.abort();
  }, [rangeKey]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    const ac = new AbortController();
    fetchPolicyRules(ac.signal).then(setRules).catch((e) => { if (!ac.signal.aborted) setError(e.message); });
    return () => ac.abort();
  }, []);
  const rows = useMemo(() => merge(uses, rules?.policies ?? []), [uses, rules]);
  const shown = useMemo(() => {
    const t = text.toLowerCase();
    return rows.filter((r) => !t || `${r.kind} ${r.id} ${r.effects.join(' ')}`.toLowerCase().includes(t))
      .sort((a, b) => b.flows - a.flows || a.id.localeCompare(b.id));
  }, [rows, text]);
  const current = rows.find((r) => r.id === selected || `${r.kind}:${r.id}` === selected);
  const max = Math.max(1, ...shown.map((r) => r.flows));
  return (
    <div className="split">
      <div className="page">
        <div className="toolbar">
          <input placeholder="find policy…" value={text} onChange={(e) => setText(e.target.value)} />
          <div className="spacer" />
          <TimeRange range={range} onChange={(c) => setParams('policies', params, c, true)} />
        </div>
        <ErrorLine error={error} />
        {rules && !rules.available && <p className="muted small" style={{ margin: '0 12px' }}>{rules.message}</p>}
        <table className="grid" data-testid="policies">
          <thead><tr><th>Effect</th><th>Kind</th><th>Namespace</th><th>Name</th><th className="num">Selects</th><th className="num">Rules</th><th className="num">Flows</th><th className="num">Forwarded</th><th className="num">Dropped</th><th className="num">Audit</th><th style={{ width: '24%' }}>By verdict</th></tr></thead>
          <tbody>
            {shown.map((r) => {
              const nRules = r.def?.specs.reduce((n, s) => n + s.rules.length, 0);
              return (
                <tr key={`${r.kind}:${r.id}`} className={`clickable ${current === r ? 'highlight' : ''}`} data-testid="policy-row" data-policy={`${r.kind}:${r.id}`}
                    onClick={() => setParams('policies', params, { policy: current === r ? undefined : `${r.kind}:${r.id}` })}>
                  <td>{effectsOf(r).map((e) => <span key={e} className={`effect ${e}`}>{e}</span>)}</td>
                  <td>{r.kind}</td><td>{r.namespace}</td><td className="strong">{r.name}</td>
                  <td className="num">{r.def ? <>{r.def.endpoints.length}{r.def.auditEndpoints.length > 0 && <span className="badge v-audit" title="endpoints in audit mode">{r.def.auditEndpoints.length} audit</span>}</> : ''}</td>
                  <td className="num">{nRules ?? ''}</td>
                  <td className="num">{fmtCount(r.flows)}</td>
                  <td className="num">{fmtCount(r.byVerdict.FORWARDED ?? 0)}</td>
                  <td className="num bad">{fmtCount(r.byVerdict.DROPPED ?? 0)}</td>
                  <td className="num">{fmtCount(r.byVerdict.AUDIT ?? 0)}</td>
                  <td><div style={{ width: `${(100 * r.flows) / max}%` }}><Bar by={r.byVerdict} total={r.flows} /></div></td>
                </tr>
              );
            })}
            {!shown.length && !error && <tr><td colSpan={11} className="empty">No policy decided a flow in this time range, and the relay has no manifests.</td></tr>}
          </tbody>
        </table>
      </div>
      {current && <Detail row={current} rules={rules} params={params} />}
    </div>
  );
}
