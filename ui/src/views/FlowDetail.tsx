import { useEffect, useState } from 'react';
import { fetchWhy, type TraceSide, type Why as WhyAnswer } from '../api';
import { VerdictBadge } from '../components';
import { chipFor, type Chip } from '../filters';
import { deciding, endpointName, l4Ports, l7Summary, leaves, policyName, protocol, type Flow } from '../flow';
import { navigate } from '../router';

/** Why the flow got its verdict, from what the datapath recorded (the *_allowed_by / *_denied_by policies). */
function Why({ flow }: { flow: Flow }) {
  const d = deciding(flow);
  const v = flow.verdict ?? '';
  const reason = flow.drop_reason_desc;
  const goPolicy = (name?: string, ns?: string) => {
    const p = new URLSearchParams();
    if (name) p.set('policy', `${ns ? ns + '/' : ''}${name}`);
    navigate('policies', p);
  };
  let headline: string;
  if (v === 'DROPPED') {
    headline = d.some((x) => x.effect === 'deny')
      ? 'Denied by a deny rule'
      : reason === 'POLICY_DENIED'
        ? 'Dropped: no policy rule allows it (default deny for a selected endpoint)'
        : `Dropped by the datapath: ${reason ?? 'unknown reason'} (not a policy decision)`;
  } else if (v === 'AUDIT') headline = 'Would be dropped: a policy in audit mode let it through';
  else if (v === 'FORWARDED' || v === 'REDIRECTED') headline = d.length ? 'Allowed by' : 'Forwarded; no policy selects these endpoints (default allow)';
  else headline = v ? `Verdict ${v}` : 'No verdict';
  return (
    <section className="why" data-testid="why">
      <h4>Why</h4>
      <p>{headline}</p>
      {d.length > 0 && (
        <ul>
          {d.map((x, i) => (
            <li key={i} className={x.effect} data-testid="why-policy">
              <span className={`effect ${x.effect}`}>{x.effect === 'deny' ? 'deny' : 'allow'}</span>
              <span className="muted">{x.direction}</span>
              <a href="/policies" onClick={(e) => { e.preventDefault(); goPolicy(x.policy.name, x.policy.namespace); }}>{policyName(x.policy)}</a>
              {x.policy.revision && <span className="muted"> rev {x.policy.revision}</span>}
            </li>
          ))}
        </ul>
      )}
      {flow.policy_log?.length ? <pre className="policylog">{flow.policy_log.join('\n')}</pre> : null}
      {flow.uuid && <Trace uuid={flow.uuid} />}
    </section>
  );
}

function SideLine({ name, side }: { name: string; side?: TraceSide }) {
  if (!side) return null;
  return (
    <li data-testid={`why-${name}`} className={side.verdict === 'DROPPED' ? 'deny' : ''}>
      <VerdictBadge verdict={side.verdict} />
      <span className="muted">{name}</span>
      <span>{side.rule ?? side.reason}</span>
    </li>
  );
}

/** The policy engine's trace of this flow's connection (the relay traces it through the agents' manifests). */
function Trace({ uuid }: { uuid: string }) {
  const [why, setWhy] = useState<WhyAnswer | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const ac = new AbortController();
    setWhy(null); setError('');
    fetchWhy(uuid, ac.signal).then(setWhy).catch((e) => { if (!ac.signal.aborted) setError(e.message); });
    return () => ac.abort();
  }, [uuid]);
  if (error) return <p className="muted" data-testid="why-trace">Policy trace: {error}</p>;
  if (!why) return <p className="muted" data-testid="why-trace-loading">tracing…</p>;
  if (!why.available) return <p className="muted" data-testid="why-trace">Policy trace: {why.message}</p>;
  if (why.traceError) return <p className="muted" data-testid="why-trace">Policy trace: {why.traceError}</p>;
  const req = why.request!;
  return (
    <div className="trace" data-testid="why-trace" data-verdict={why.verdict}>
      <h4>Policy trace <span className="muted">({req.from} → {req.to} {req.port}/{req.protocol}{req.l7 ? ` · ${req.l7}` : ''})</span></h4>
      <p>
        <VerdictBadge verdict={why.verdict} />{' '}
        {why.agrees ? <span className="muted">as the datapath decided</span>
          : <span className="warn" data-testid="why-disagrees">the datapath reported {why.flowVerdict} (policies changed since, or not a policy decision)</span>}
      </p>
      <ul>
        <SideLine name="egress" side={why.egress} />
        <SideLine name="ingress" side={why.ingress} />
        {why.l7 && (
          <li data-testid="why-l7"><VerdictBadge verdict={why.l7.verdict} /><span className="muted">L7</span><span>{why.l7.rule ?? why.l7.reason}</span></li>
        )}
      </ul>
      <p className="muted small" data-testid="why-reason">{why.reason}</p>
      {why.allow && (
        <div className="allow" data-testid="why-allow" data-kind={why.allow.kind}>
          <h4>What would allow it</h4>
          <p>{why.allow.text}</p>
          {why.allow.yaml && (
            <>
              <pre className="yaml" data-testid="why-yaml">{why.allow.yaml}</pre>
              <p className="muted small" data-testid="why-verified">
                {why.allow.verified ? `checked: traced again with it added → ${why.allow.verdictWith}` : `not enough on its own: traced again with it → ${why.allow.verdictWith}`}
                {' '}<button className="ghost tiny" onClick={() => navigator.clipboard?.writeText(why.allow!.yaml!)}>copy</button>
              </p>
            </>
          )}
        </div>
      )}
    </div>
  );
}

export function FlowDetail({ flow, onFilter, onClose }: { flow: Flow; onFilter: (c: Chip) => void; onClose: () => void }) {
  const [sp, dp] = l4Ports(flow);
  const fields = leaves(flow);
  return (
    <aside className="detail" data-testid="flow-detail">
      <div className="detail-head">
        <VerdictBadge verdict={flow.verdict} />
        <span className="muted">{flow.time}</span>
        <div className="spacer" />
        <button className="ghost" onClick={onClose} aria-label="close detail">×</button>
      </div>
      <div className="detail-title">
        <div>{endpointName(flow.source, flow.IP?.source, flow.source_names)}{sp ? <span className="muted">:{sp}</span> : null}</div>
        <div className="arrow">→ {endpointName(flow.destination, flow.IP?.destination, flow.destination_names)}{dp ? <span className="muted">:{dp}</span> : null}</div>
        <div className="muted">{[protocol(flow), l7Summary(flow), flow.drop_reason_desc].filter(Boolean).join(' · ')}</div>
      </div>
      <Why flow={flow} />
      <section>
        <h4>Fields <span className="muted">(click a value to filter, ≠ to exclude)</span></h4>
        <table className="fields">
          <tbody>
            {fields.map(([path, value]) => {
              const ns = path.startsWith('source.') ? flow.source?.namespace : path.startsWith('destination.') ? flow.destination?.namespace : undefined;
              const chip = chipFor(path, value, ns);
              return (
                <tr key={path}>
                  <th>{path}</th>
                  <td>
                    {chip ? (
                      <>
                        <a href="#" data-testid="field-filter" data-path={path}
                           onClick={(e) => { e.preventDefault(); onFilter(chip); }} title={`filter ${chip.name}:${chip.values[0]}`}>{String(value)}</a>
                        <button className="ghost tiny" title={`exclude: !${chip.name}:${chip.values[0]}`}
                                onClick={() => onFilter({ ...chip, negate: true })}>≠</button>
                      </>
                    ) : String(value)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <details>
        <summary>JSON</summary>
        <pre className="json">{JSON.stringify(flow, null, 2)}</pre>
      </details>
    </aside>
  );
}
