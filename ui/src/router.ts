// The URL holds the state (view, filters, time range, selected flow): history-API routes
// /flows, /map, /drops, /policies, /nodes, everything else in the query string.
import { useSyncExternalStore } from 'react';

export const VIEWS = ['flows', 'map', 'drops', 'policies', 'nodes'] as const;
export type View = (typeof VIEWS)[number];

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

const snapshot = () => location.pathname + location.search;

export function useLocation(): { view: View; params: URLSearchParams } {
  const s = useSyncExternalStore(subscribe, snapshot);
  const u = new URL(s, location.origin);
  const seg = u.pathname.replace(/^\/+/, '').split('/')[0];
  const view = (VIEWS as readonly string[]).includes(seg) ? (seg as View) : 'flows';
  return { view, params: u.searchParams };
}

/** Goes to a view with the given query (push = a new history entry, else replace). */
export function navigate(view: View, params: URLSearchParams, push = true) {
  const qs = params.toString();
  const url = `/${view}${qs ? '?' + qs : ''}`;
  if (url === snapshot()) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
  listeners.forEach((l) => l());
}

/** Changes some query parameters of the current view (undefined/'' removes one). */
export function setParams(view: View, current: URLSearchParams, changes: Record<string, string | undefined>, push = false) {
  const p = new URLSearchParams(current);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') p.delete(k);
    else p.set(k, v);
  }
  navigate(view, p, push);
}
