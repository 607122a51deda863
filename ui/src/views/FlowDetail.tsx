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
    </section>
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
