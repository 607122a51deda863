import { useEffect, useState } from 'react';
import type { Range } from './filters';

export function VerdictBadge({ verdict }: { verdict?: string }) {
  const v = verdict ?? 'VERDICT_UNKNOWN';
  return <span className={`badge v-${v.toLowerCase()}`}>{v}</span>;
}

/** The time range in the URL: since=15m (the last N), or from/to (absolute, ISO). */
export function rangeOf(p: URLSearchParams, dflt = '1h'): Range {
  const from = p.get('from'), to = p.get('to');
  if (from || to) return { from: from ?? '', to: to ?? '' };
  return { last: p.get('since') ?? dflt };
}

const LASTS = ['5m', '15m', '1h', '6h', '24h', '7d'];

function toLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function TimeRange({ range, onChange, disabled }: { range: Range; onChange: (changes: Record<string, string | undefined>) => void; disabled?: boolean }) {
  const abs = !('last' in range);
  const [from, setFrom] = useState(abs ? toLocalInput(range.from) : '');
  const [to, setTo] = useState(abs ? toLocalInput(range.to) : '');
  useEffect(() => {
    if (!('last' in range)) { setFrom(toLocalInput(range.from)); setTo(toLocalInput(range.to)); }
  }, [abs, 'from' in range ? range.from : '', 'to' in range ? range.to : '']);
  const value = 'last' in range ? (range.last === '24h' ? '1d' : range.last) : 'abs';
  return (
    <span className="timerange">
      <select data-testid="range" value={value === '1d' ? '24h' : value} disabled={disabled} title="Time range"
              onChange={(e) => {
                const v = e.target.value;
                if (v === 'abs') {
                  const now = Date.now();
                  onChange({ since: undefined, from: new Date(now - 3600_000).toISOString(), to: new Date(now).toISOString() });
                } else onChange({ since: v === '24h' ? '1d' : v, from: undefined, to: undefined });
              }}>
        {LASTS.map((l) => <option key={l} value={l}>Last {l}</option>)}
        <option value="abs">From – to…</option>
      </select>
      {abs && (
        <>
          <input type="datetime-local" step="1" value={from} data-testid="range-from" disabled={disabled}
                 onChange={(e) => setFrom(e.target.value)} onBlur={() => onChange({ from: from ? new Date(from).toISOString() : undefined })} />
          <span className="muted">–</span>
          <input type="datetime-local" step="1" value={to} data-testid="range-to" disabled={disabled}
                 onChange={(e) => setTo(e.target.value)} onBlur={() => onChange({ to: to ? new Date(to).toISOString() : undefined })} />
        </>
      )}
    </span>
  );
}

export function ErrorLine({ error }: { error?: string }) {
  return error ? <div className="error" role="alert">{error}</div> : null;
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function download(name: string, type: string, text: string) {
  downloadBytes(name, type, text);
}

export function downloadBytes(name: string, type: string, data: string | ArrayBuffer) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
