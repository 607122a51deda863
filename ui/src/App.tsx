import { lazy, Suspense, useEffect, useState } from 'react';
import { navigate, useLocation, VIEWS, type View } from './router';
import { FlowsView } from './views/Flows';

// code-split: the first view (flows) loads only its own code; the map (cytoscape, ELK), the charts (uPlot)
// and the other views come when first opened
const ServiceMapView = lazy(() => import('./views/ServiceMap').then((m) => ({ default: m.ServiceMapView })));
const DropsView = lazy(() => import('./views/Drops').then((m) => ({ default: m.DropsView })));
const PoliciesView = lazy(() => import('./views/Policies').then((m) => ({ default: m.PoliciesView })));
const NodesView = lazy(() => import('./views/Nodes').then((m) => ({ default: m.NodesView })));

const LABELS: Record<View, string> = { flows: 'Flows', map: 'Service map', drops: 'Drops', policies: 'Policies', nodes: 'Nodes' };

type Theme = 'dark' | 'light';

function initialTheme(): Theme {
  const saved = localStorage.getItem('sieve.theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

export function App() {
  const { view, params } = useLocation();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('sieve.theme', theme);
  }, [theme]);
  useEffect(() => { document.title = `Sieve · ${LABELS[view]}`; }, [view]);
  // keep the time range when switching views
  const carry = () => {
    const p = new URLSearchParams();
    for (const k of ['since', 'from', 'to', 'namespace']) { const v = params.get(k); if (v) p.set(k, v); }
    return p;
  };
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="/flows" onClick={(e) => { e.preventDefault(); navigate('flows', carry()); }}>
          <svg viewBox="0 0 16 16" width="18" height="18" aria-hidden="true"><path d="M2 3h12l-5 6v4l-2 1V9z" fill="currentColor" /></svg>
          Sieve
        </a>
        <nav>
          {VIEWS.map((v) => (
            <a key={v} href={`/${v}`} className={v === view ? 'active' : ''} data-view={v}
               onClick={(e) => { e.preventDefault(); navigate(v, carry()); }}>{LABELS[v]}</a>
          ))}
        </nav>
        <div className="spacer" />
        <button className="ghost" title="Switch dark / light theme" data-testid="theme"
                onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}>{theme === 'dark' ? '☀ Light' : '☾ Dark'}</button>
      </header>
      <main>
        {view === 'flows' && <FlowsView params={params} />}
        <Suspense fallback={<div className="empty">loading…</div>}>
          {view === 'map' && <ServiceMapView params={params} />}
          {view === 'drops' && <DropsView params={params} />}
          {view === 'policies' && <PoliciesView params={params} />}
          {view === 'nodes' && <NodesView />}
        </Suspense>
      </main>
    </div>
  );
}
