// What the table shows of a flow, computed where the flows are (the flow store's worker), so the main
// thread only ever holds the rows on screen.
import { endpointName, l4Ports, l7Summary, policySummary, protocol, reservedEntity, workload, type Flow } from './flow';

/** An endpoint cell: "ns/" + pod, or an entity with its name/IP, or a plain name/IP. */
export interface EpCell { ns?: string; name: string; entity?: string }

export interface Row {
  uuid: string; verdict: string; time: string; timeTitle: string;
  source: EpCell; destination: EpCell; sourceTitle: string; destinationTitle: string;
  cells: Record<string, string>;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function fmtTime(f: Flow): string {
  if (!f.time) return '';
  const d = new Date(f.time);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function ep(f: Flow, side: 'source' | 'destination'): EpCell {
  const e = f[side];
  const ip = side === 'source' ? f.IP?.source : f.IP?.destination;
  const names = side === 'source' ? f.source_names : f.destination_names;
  if (e?.pod_name) return { ns: e.namespace ? `${e.namespace}/` : '', name: e.pod_name };
  const r = reservedEntity(e);
  if (r) return { entity: r, name: names?.[0] ?? ip ?? '' };
  return { name: names?.[0] ?? ip ?? '' };
}

export function toRow(f: Flow): Row {
  const [sp, dp] = l4Ports(f);
  return {
    uuid: f.uuid ?? '', verdict: f.verdict ?? '', time: fmtTime(f), timeTitle: f.time ?? '',
    source: ep(f, 'source'), destination: ep(f, 'destination'),
    sourceTitle: endpointName(f.source, f.IP?.source, f.source_names),
    destinationTitle: endpointName(f.destination, f.IP?.destination, f.destination_names),
    cells: {
      src_workload: workload(f.source), src_namespace: f.source?.namespace ?? '', src_identity: String(f.source?.identity ?? ''),
      src_ip: f.IP?.source ?? '', src_port: sp === undefined ? '' : String(sp),
      dst_workload: workload(f.destination), dst_namespace: f.destination?.namespace ?? '', dst_identity: String(f.destination?.identity ?? ''),
      dst_ip: f.IP?.destination ?? '', dst_port: dp === undefined ? '' : String(dp),
      protocol: protocol(f), l7: l7Summary(f), drop_reason: f.drop_reason_desc ?? '',
      direction: (f.traffic_direction ?? '').toLowerCase(), policy: policySummary(f), node: f.node_name ?? '',
    },
  };
}
