import { useEffect, useMemo, useRef, useState } from 'react';
import cytoscape from 'cytoscape';
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import { fetchPorts, fetchServiceMap, type MapEdge, type MapNode, type PortCounts } from '../api';
import { ErrorLine, fmtCount, rangeOf, TimeRange } from '../components';
import { formatFilters, rangeParams, toParams, type Chip } from '../filters';
import { navigate, setParams } from '../router';
import { mapRequest } from '../requests';

// Small maps: ELK's layered layout (traffic reads left to right inside namespace boxes), in its own web
// worker, loaded only when needed. Large maps (LARGE): ELK takes seconds there (layered 11.8 s for 500
// workloads / 2,000 edges; even its box/rectpacking algorithms over a second, most of it starting its
// GWT-compiled code), so each namespace's workloads go in a grid (cytoscape's grid layout, busiest first)
// and the namespace boxes in a grid of their own.
type Elk = { layout: (g: ElkNode) => Promise<ElkNode> };
let elkPromise: Promise<Elk> | undefined;
function loadElk(): Promise<Elk> {
  elkPromise ??= Promise.all([import('elkjs/lib/elk-api.js'), import('elkjs/lib/elk-worker.min.js?url')])
    .then(([api, url]) => new api.default({ workerUrl: url.default }) as unknown as Elk);
  return elkPromise;
}
const LARGE = { nodes: 120, edges: 400 };
const GAP_X = 24, GAP_Y = 18, NS_PAD = 30;

type Pos = Map<string, { x: number; y: number }>;

type Box = { x: number; y: number; w: number; h: number };

/**
 * A grid per namespace (busiest workloads first), then the namespaces' boxes in a grid; both cytoscape's grid
 * layout, headless and without styles (the grid does not need node sizes when overlap is not avoided): the first
 * frame of every map, and the layout of large ones. Returns each workload's position and each namespace's box.
 */
function gridByNamespace(byNs: Map<string, MapNode[]>, degree: Map<string, number>): { pos: Pos; boxes: Map<string, Box> } {
  const pos: Pos = new Map();
  const boxes: { ns: string; w: number; h: number; local: Pos }[] = [];
  const scratch = cytoscape({ headless: true, styleEnabled: false });
  for (const [ns, nodes] of byNs) {
    const cols = Math.max(1, Math.ceil(Math.sqrt(nodes.length * 1.6)));
    const rows = Math.ceil(nodes.length / cols);
    const w = cols * (NODE_W + GAP_X), h = rows * (NODE_H + GAP_Y);
    scratch.elements().remove();
    scratch.add(nodes.map((n) => ({ data: { id: n.id, d: degree.get(n.id) ?? 0 } })));
    scratch.layout({ name: 'grid', cols, rows, boundingBox: { x1: 0, y1: 0, w, h }, avoidOverlap: false, animate: false, fit: false,
      sort: (a: cytoscape.NodeSingular, b: cytoscape.NodeSingular) => b.data('d') - a.data('d') || (a.id() < b.id() ? -1 : 1) } as cytoscape.LayoutOptions).run();
    const local: Pos = new Map();
    scratch.nodes().forEach((n) => { local.set(n.id(), { ...n.position() }); });
    boxes.push({ ns, w: w + 2 * NS_PAD, h: h + 2 * NS_PAD, local });
  }
  scratch.elements().remove();
  const cw = Math.max(...boxes.map((b) => b.w)), ch = Math.max(...boxes.map((b) => b.h));
  const gcols = Math.max(1, Math.ceil(Math.sqrt(boxes.length * (ch / cw) * 1.6)));
  const grows = Math.ceil(boxes.length / gcols);
  scratch.add(boxes.map((b, i) => ({ data: { id: `g${i}`, size: b.w * b.h } })));
  scratch.layout({ name: 'grid', cols: gcols, rows: grows, boundingBox: { x1: 0, y1: 0, w: gcols * (cw + 40), h: grows * (ch + 40) },
    avoidOverlap: false, animate: false, fit: false,
    sort: (a: cytoscape.NodeSingular, b: cytoscape.NodeSingular) => b.data('size') - a.data('size') } as cytoscape.LayoutOptions).run();
  const out = new Map<string, Box>();
  boxes.forEach((b, i) => {
    const c = scratch.getElementById(`g${i}`).position();
    // the box is as wide as its grid: centred on the cell's centre, its grid starts NS_PAD inside
    out.set(b.ns, { x: c.x, y: c.y - 6, w: b.w, h: b.h + 12 });
    for (const [id, p] of b.local) pos.set(id, { x: c.x - b.w / 2 + NS_PAD + p.x, y: c.y - b.h / 2 + NS_PAD + p.y });
  });
  scratch.destroy();
  return { pos, boxes: out };
}

/** Runs `fn` in a task of its own once the next frame is drawn (or after a second if none comes, e.g. hidden). */
function afterFrame(cy: cytoscape.Core, fn: () => void) {
  let ran = false;
  const go = () => { if (!ran) { ran = true; fn(); } };
  cy.one('render', () => setTimeout(go, 0));
  setTimeout(go, 1000);
}

// a large map is drawn in slices of this many workloads, then edges, each added in its own task after the previous
// slice was drawn (at about 0.2 ms an element on a quiet machine, for tasks under 50 ms)
const NODE_SLICE = 125, EDGE_SLICE = 200;

function mapStyle(large: boolean): cytoscape.StylesheetJson {
  const fg = css('--fg'), muted = css('--muted'), panel = css('--panel'), border = css('--border');
  return [
    { selector: 'node.workload, node.entity', style: {
      shape: 'round-rectangle', width: NODE_W, height: NODE_H, 'background-color': panel, 'border-width': 1.5, 'border-color': css('--accent'),
      label: 'data(label)', color: fg, 'font-size': 12, 'text-valign': 'center', 'text-halign': 'center', 'text-max-width': `${NODE_W - 12}px`, 'text-wrap': 'ellipsis',
      // large maps: labels too small to read at the fitted zoom are not drawn (zoom in to read them)
      ...(large ? { 'min-zoomed-font-size': 7 } : {}),
    } },
    { selector: 'node.entity', style: { 'border-color': muted, 'border-style': 'dashed' } },
    { selector: 'node.namespace', style: {
      shape: 'round-rectangle', 'background-color': css('--ns-bg'), 'background-opacity': 1, 'border-width': 1, 'border-color': border,
      label: 'data(label)', color: muted, 'font-size': large ? 40 : 12, 'font-weight': 'bold', 'text-valign': 'top', 'text-halign': 'center', 'text-margin-y': -4, padding: '14px',
    } },
    // large maps' namespaces: plain boxes of the grid's size, beneath the edges, not interactive
    { selector: 'node.flat', style: { width: 'data(w)', height: 'data(h)', 'z-compound-depth': 'bottom', events: 'no', 'text-valign': 'top', 'text-margin-y': -6 } },
    { selector: 'edge', style: large ? {
      // many edges: straight "haystack" lines (the cheapest to draw), labels only while hovered
      width: 'data(w)', 'curve-style': 'haystack', 'haystack-radius': 0, 'line-color': css('--ok'), opacity: 0.55,
    } : {
      width: 'data(w)', 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9, 'line-color': css('--ok'), 'target-arrow-color': css('--ok'),
      label: 'data(label)', 'font-size': 10, color: muted, 'text-background-color': css('--bg'), 'text-background-opacity': 0.85, 'text-background-padding': '2px',
      'text-rotation': 'autorotate', opacity: 0.85,
    } },
    { selector: 'edge.dropped', style: { 'line-color': css('--bad'), 'target-arrow-color': css('--bad'), 'z-index': 10, opacity: 1 } },
    { selector: 'edge.partly-dropped', style: { 'line-color': css('--bad'), 'target-arrow-color': css('--bad'), 'line-style': 'dashed', 'z-index': 9, opacity: 1 } },
    { selector: 'edge.audit', style: { 'line-color': css('--warn'), 'target-arrow-color': css('--warn') } },
    { selector: 'edge:loop', style: { 'control-point-step-size': 40 } },
    { selector: ':selected', style: { 'border-width': 3, 'line-color': css('--accent'), 'target-arrow-color': css('--accent') } },
    { selector: '.faded', style: { opacity: 0.15 } },
  ] as cytoscape.StylesheetJson;
}

async function layeredWithElk(byNs: Map<string, MapNode[]>, edges: MapEdge[], nsId: (ns: string) => string): Promise<Pos> {
  const elk = await loadElk();
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      ...SPACING, 'elk.padding': '[top=28,left=14,bottom=14,right=14]',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF', 'elk.edgeRouting': 'POLYLINE',
    },
    children: [...byNs.entries()].map(([ns, nodes]) => ({
      id: nsId(ns), layoutOptions: { ...SPACING, 'elk.padding': '[top=30,left=12,bottom=12,right=12]' },
      children: nodes.map((n) => ({ id: n.id, width: NODE_W, height: NODE_H })),
    })),
    edges: edges.filter((e) => e.source !== e.destination).map((e, i) => ({ id: `e${i}`, sources: [e.source], targets: [e.destination] })),
  };
  const laid = await elk.layout(graph);
  const pos: Pos = new Map();
  for (const g of laid.children ?? []) for (const c of g.children ?? []) {
    pos.set(c.id, { x: (g.x ?? 0) + (c.x ?? 0) + NODE_W / 2, y: (g.y ?? 0) + (c.y ?? 0) + NODE_H / 2 });
  }
  return pos;
}

const NODE_W = 150, NODE_H = 34;
// set on the root and on every namespace box (ELK reads spacing per parent)
const SPACING = { 'elk.layered.spacing.nodeNodeBetweenLayers': '130', 'elk.spacing.nodeNode': '26', 'elk.layered.spacing.edgeNodeBetweenLayers': '30' };

function label(n: MapNode): string {
  return n.workload || (n.namespace ? '(no workload)' : 'world / host');
}

function edgeClass(e: MapEdge): string {
  const v = e.verdicts ?? {};
  if ((v.DROPPED ?? 0) > 0) return (v.DROPPED ?? 0) === e.flows ? 'dropped' : 'partly-dropped';
  if ((v.AUDIT ?? 0) > 0) return 'audit';
  return 'forwarded';
}

/** Fits the graph, but never larger than 1:1 (a small map stays readable, not huge). */
function fit(cy: cytoscape.Core) {
  cy.fit(undefined, 40);
  if (cy.zoom() > 1) { cy.zoom(1); cy.center(); }
}

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** One end of an edge as filters: its namespace and workload (hubble's --from-workload / --to-workload). */
function side(n: MapNode | undefined, dir: 'from' | 'to'): Chip[] {
  if (!n || !n.namespace) return [];
  const ns: Chip = { name: `${dir}-namespace`, values: [n.namespace], negate: false };
  if (!n.workload) return [ns];
  return [ns, { name: `${dir}-workload`, values: [n.workload], negate: false }];
}

/** An edge's flows by port and L4/L7 protocol, each by verdict (relay: GET /api/v1/flows/ports). */
function EdgePanel({ edge, nodes, params, onClose }: { edge: MapEdge; nodes: Map<string, MapNode>; params: URLSearchParams; onClose: () => void }) {
  const [data, setData] = useState<PortCounts | null>(null);
  const [error, setError] = useState('');
  const chips = useMemo(() => [...side(nodes.get(edge.source), 'from'), ...side(nodes.get(edge.destination), 'to')], [edge, nodes]);
  const rangeKey = ['since', 'from', 'to'].map((k) => params.get(k)).join('|');
  useEffect(() => {
    const ac = new AbortController();
    setData(null); setError('');
    fetchPorts(rangeParams(rangeOf(params), toParams(chips)), ac.signal).then(setData).catch((e) => { if (!ac.signal.aborted) setError(e.message); });
    return () => ac.abort();
  }, [chips, rangeKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const go = (more: Chip[]) => {
    const p = new URLSearchParams();
    const q = formatFilters([...chips, ...more]);
    if (q) p.set('q', q);
    for (const k of ['since', 'from', 'to']) { const v = params.get(k); if (v) p.set(k, v); }
    navigate('flows', p);
  };
  const v = edge.verdicts ?? {};
  return (
    <aside className="edge-panel" data-testid="edge-panel">
      <div className="detail-head">
        <b>{edge.source || 'outside'} → {edge.destination || 'outside'}</b>
        <div className="spacer" />
        <button className="ghost" onClick={onClose} aria-label="close">×</button>
      </div>
      <p className="muted">{fmtCount(edge.flows)} flows{Object.entries(v).map(([k, n]) => ` · ${fmtCount(n)} ${k.toLowerCase()}`).join('')}</p>
      <ErrorLine error={error} />
      {!data && !error && <p className="muted">counting…</p>}
      {data && (
        <table className="ports" data-testid="edge-ports" data-complete={String(data.complete)}>
          <thead><tr><th>port</th><th>L7</th><th>flows</th><th>verdicts</th></tr></thead>
          <tbody>
            {data.ports.map((r) => (
              <tr key={`${r.protocol}/${r.port}/${r.l7}`} data-testid="edge-port" data-port={r.port} data-protocol={r.protocol}
                  className={(r.verdicts.DROPPED ?? 0) > 0 ? 'dropped' : ''}
                  onClick={() => go([
                    ...(r.port ? [{ name: 'to-port' as const, values: [String(r.port)], negate: false }] : []),
                    ...(r.protocol ? [{ name: 'protocol' as const, values: [(r.l7 || r.protocol).toLowerCase()], negate: false }] : []),
                  ])}>
                <td>{r.port ? `${r.port}/${r.protocol}` : r.protocol}</td>
                <td>{r.l7}</td>
                <td className="num">{fmtCount(r.flows)}</td>
                <td>{Object.entries(r.verdicts).map(([k, n]) => <span key={k} className={`vcount v-${k.toLowerCase()}`}>{k.toLowerCase()} {fmtCount(n)}</span>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && !data.complete && <p className="muted small">counted over the newest {fmtCount(data.flows)} flows of the range</p>}
      <button data-testid="edge-flows" onClick={() => go([])}>All its flows →</button>
    </aside>
  );
}

export function ServiceMapView({ params }: { params: URLSearchParams }) {
  const range = rangeOf(params);
  const rangeKey = JSON.stringify(range);
  const selectedNs = (params.get('ns') ?? '').split(',').filter(Boolean);
  const [data, setData] = useState<{ nodes: MapNode[]; edges: MapEdge[] }>({ nodes: [], edges: [] });
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState('');
  const [timing, setTiming] = useState('');
  const [hover, setHover] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const cyRef = useRef<cytoscape.Core | null>(null);
  const paramsRef = useRef(params);
  paramsRef.current = params;
  const edgeKey = params.get('edge') ?? '';

  useEffect(() => {
    const ac = new AbortController();
    fetchServiceMap(mapRequest(params), ac.signal)
      .then((d) => { setData(d); setLoaded(true); setError(''); })
      .catch((e) => { if (!ac.signal.aborted) setError(e.message); });
    return () => ac.abort();
  }, [rangeKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const namespaces = useMemo(() => [...new Set(data.nodes.map((n) => n.namespace))].sort(), [data]);
  const shown = useMemo(() => {
    if (!selectedNs.length) return data;
    const keep = new Set(selectedNs);
    const edges = data.edges.filter((e) => {
      const s = data.nodes.find((n) => n.id === e.source), d = data.nodes.find((n) => n.id === e.destination);
      return keep.has(s?.namespace ?? '') || keep.has(d?.namespace ?? '');
    });
    const ids = new Set(edges.flatMap((e) => [e.source, e.destination]));
    return { nodes: data.nodes.filter((n) => ids.has(n.id) || keep.has(n.namespace)), edges };
  }, [data, params.get('ns')]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const el = box.current;
    if (!el || !loaded) return;
    let cancelled = false;
    const t0 = performance.now();
    const byNs = new Map<string, MapNode[]>();
    for (const n of shown.nodes) { const l = byNs.get(n.namespace); if (l) l.push(n); else byNs.set(n.namespace, [n]); }
    const nsId = (ns: string) => `ns:${ns || '(none)'}`;
    const large = shown.nodes.length > LARGE.nodes || shown.edges.length > LARGE.edges;
    const degree = new Map<string, number>();
    for (const e of shown.edges) {
      degree.set(e.source, (degree.get(e.source) ?? 0) + 1);
      degree.set(e.destination, (degree.get(e.destination) ?? 0) + 1);
    }
    delete el.dataset.ready;
    delete el.dataset.drawn;
    // every map's first frame: a grid per namespace (tens of ms); a small map is then refined by ELK's layered
    // layout, a large one keeps it
    const { pos, boxes } = gridByNamespace(byNs, degree);
    const t1 = performance.now();
    const nodeEls: cytoscape.ElementDefinition[] = shown.nodes.map((n) => ({
      data: { id: n.id, ...(large ? {} : { parent: nsId(n.namespace) }), label: label(n), flows: n.flows },
      position: pos.get(n.id), classes: n.namespace ? 'workload' : 'entity',
    }));
    // large maps: the namespaces are plain boxes drawn beneath (compound parents cost a bounding box per change)
    const nsEls: cytoscape.ElementDefinition[] = [...byNs.keys()].map((ns) => {
      const b = boxes.get(ns)!;
      return large
        ? { data: { id: nsId(ns), label: ns || 'outside the cluster', w: b.w, h: b.h }, position: { x: b.x, y: b.y }, classes: 'namespace flat', grabbable: false, selectable: false }
        : { data: { id: nsId(ns), label: ns || 'outside the cluster' }, classes: 'namespace' };
    });
    const edgeEls: cytoscape.ElementDefinition[] = shown.edges.map((e, i) => {
      const v = e.verdicts ?? {};
      return {
        data: { id: `e${i}`, source: e.source, target: e.destination, flows: e.flows, label: v.DROPPED === e.flows ? `${fmtCount(e.flows)} dropped` : `${fmtCount(e.flows)}${v.DROPPED ? ` · ${fmtCount(v.DROPPED)} dropped` : ''}`,
                w: Math.min(7, 1 + Math.log10(e.flows + 1) * 1.5) },
        classes: edgeClass(e),
      };
    });
    cyRef.current?.destroy();
    const cy = cytoscape({
      container: el, elements: large ? [] : [...nsEls, ...nodeEls, ...edgeEls], layout: { name: 'preset' }, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3,
      textureOnViewport: large, hideEdgesOnViewport: large, pixelRatio: large ? 1 : 'auto',
      style: mapStyle(large),
    });
    cyRef.current = cy;
    const status = (layoutMs: number, drawMs: number, how: string) =>
      setTiming(`${shown.nodes.length} workloads, ${shown.edges.length} edges · layout ${Math.round(layoutMs)} ms, draw ${Math.round(drawMs)} ms${how}`);
    const done = () => {
      if (cancelled) return;
      el.dataset.ready = 'true';
      el.dataset.nodes = String(shown.nodes.length);
      el.dataset.edges = String(shown.edges.length);
      el.dataset.dropped = String(shown.edges.filter((e) => (e.verdicts?.DROPPED ?? 0) > 0).length);
      setDrawn((n) => n + 1);
    };
    const firstFrame = () => { if (!cancelled) el.dataset.drawn = 'true'; };
    (el as HTMLDivElement & { cy?: cytoscape.Core }).cy = cy; // for the browser tests: where the edges are drawn
    if (!large) {
      fit(cy);
      afterFrame(cy, firstFrame);
      status(t1 - t0, performance.now() - t1, ' (grid, laying out…)');
      layeredWithElk(byNs, shown.edges, nsId).then((laid) => {
        if (cancelled) return;
        const t2 = performance.now();
        cy.batch(() => { cy.nodes('.workload, .entity').forEach((n) => { const p = laid.get(n.id()); if (p) n.position(p); }); });
        fit(cy);
        afterFrame(cy, () => { status(t2 - t0, performance.now() - t2, ''); done(); });
      }).catch((e) => { if (!cancelled) { setError(`layout: ${e.message ?? e}`); done(); } });
    } else {
      // drawn in pieces, each its own task: the namespaces and workloads, then the edges a slice at a time, each
      // slice added after the previous frame was drawn — no long task however many edges there are
      cy.add(nsEls);
      cy.fit(undefined, 40);
      const pieces: cytoscape.ElementDefinition[][] = [];
      for (let i = 0; i < nodeEls.length; i += NODE_SLICE) pieces.push(nodeEls.slice(i, i + NODE_SLICE));
      for (let i = 0; i < edgeEls.length; i += EDGE_SLICE) pieces.push(edgeEls.slice(i, i + EDGE_SLICE));
      let k = 0;
      const next = () => {
        if (cancelled) return;
        if (k === pieces.length) { status(t1 - t0, performance.now() - t1, ' (grid per namespace)'); done(); return; }
        cy.add(pieces[k++]);
        const first = k === 1;
        afterFrame(cy, () => { if (first) firstFrame(); next(); });
      };
      afterFrame(cy, next);
    }
    const nodeOf = (id: string) => shown.nodes.find((n) => n.id === id);
    const toFlows = (chips: Chip[]) => {
      const p = new URLSearchParams();
      const q = formatFilters(chips);
      if (q) p.set('q', q);
      for (const k of ['since', 'from', 'to']) { const v = params.get(k); if (v) p.set(k, v); }
      navigate('flows', p);
    };
    cy.on('tap', 'edge', (ev) => {
      const d = ev.target.data();
      setParams('map', paramsRef.current, { edge: `${d.source}>${d.target}` }, true);
    });
    cy.on('tap', 'node.workload', (ev) => {
      const n = nodeOf(ev.target.id());
      if (n) toFlows([{ name: 'pod', values: [`${n.namespace}/${n.workload}`], negate: false }]);
    });
    cy.on('mouseover', 'node.workload, node.entity', (ev) => {
      const n = ev.target;
      cy.elements().addClass('faded');
      n.closedNeighborhood().removeClass('faded');
      n.ancestors().removeClass('faded');
      n.neighborhood().ancestors().removeClass('faded');
      if (large) cy.nodes('.flat').removeClass('faded');
      setHover(`${n.data('label')} · ${fmtCount(n.data('flows'))} flows`);
    });
    cy.on('mouseover', 'edge', (ev) => setHover(`${ev.target.data('source')} → ${ev.target.data('target')} · ${ev.target.data('label')} (click: by port)`));
    cy.on('mouseout', () => { cy.elements().removeClass('faded'); setHover(''); });
    return () => { cancelled = true; };
  }, [shown, loaded]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => () => { cyRef.current?.destroy(); cyRef.current = null; }, []);

  const nodesById = useMemo(() => new Map(data.nodes.map((n) => [n.id, n])), [data]);
  const selectedEdge = useMemo(() => {
    if (!edgeKey) return undefined;
    const i = edgeKey.indexOf('>');
    return data.edges.find((e) => e.source === edgeKey.slice(0, i) && e.destination === edgeKey.slice(i + 1));
  }, [data, edgeKey]);

  // the edge in the URL is drawn selected
  const [drawn, setDrawn] = useState(0);
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.edges(':selected').unselect();
    if (!edgeKey) return;
    const i = edgeKey.indexOf('>');
    cy.edges().filter((e) => e.data('source') === edgeKey.slice(0, i) && e.data('target') === edgeKey.slice(i + 1)).select();
  }, [edgeKey, drawn]);

  const toggleNs = (ns: string) => {
    const next = selectedNs.includes(ns) ? selectedNs.filter((x) => x !== ns) : [...selectedNs, ns];
    setParams('map', params, { ns: next.join(',') || undefined }, true);
  };

  return (
    <div className="mapview">
      <div className="toolbar">
        <span className="muted">Namespaces</span>
        <button className={`pill ${selectedNs.length ? '' : 'on'}`} onClick={() => setParams('map', params, { ns: undefined }, true)}>all</button>
        {namespaces.map((ns) => (
          <button key={ns} className={`pill ${selectedNs.includes(ns) ? 'on' : ''}`} onClick={() => toggleNs(ns)}>{ns || 'outside'}</button>
        ))}
        <div className="spacer" />
        <span className="legend"><i className="ok" /> forwarded <i className="bad" /> dropped <i className="bad dashed" /> partly <i className="warn" /> audit</span>
        <TimeRange range={range} onChange={(c) => setParams('map', params, c, true)} />
        <button onClick={() => cyRef.current && fit(cyRef.current)}>Fit</button>
      </div>
      <ErrorLine error={error} />
      <div className="map-wrap">
        <div className="map" ref={box} data-testid="service-map" />
        {selectedEdge && <EdgePanel edge={selectedEdge} nodes={nodesById} params={params} onClose={() => setParams('map', params, { edge: undefined }, true)} />}
      </div>
      <footer className="statusbar">
        <span>{hover || timing}</span>
        <span className="spacer" />
        <span className="muted">click an edge for its ports, a workload for its flows · scroll to zoom</span>
      </footer>
      {loaded && !shown.nodes.length && !error && <div className="empty overlay">No traffic in this time range.</div>}
    </div>
  );
}
