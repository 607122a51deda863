// The requests a view makes first, built in one place: by the view, and at start-up by src/early.ts, which sends
// them while the view's code still loads.
import { rangeOf } from './components';
import { parseFilters, rangeParams, toParams } from './filters';

/** The service map over the URL's range. */
export const mapRequest = (params: URLSearchParams) => rangeParams(rangeOf(params), new URLSearchParams());

/** The policies' flow counts over the URL's range. */
export function policiesRequest(params: URLSearchParams): URLSearchParams {
  const range = rangeOf(params);
  const p = new URLSearchParams();
  if ('last' in range) p.set('since', range.last);
  else { if (range.from) p.set('since', range.from); if (range.to) p.set('until', range.to); }
  return p;
}

/** The flow explorer's load: the newest `limit` flows of the range matching `api` (history) and, live, the follow. */
export function flowsLoad(api: URLSearchParams, range: ReturnType<typeof rangeOf>, limit: string, live: boolean): { history: string; follow?: string } {
  const p = rangeParams(range, new URLSearchParams(api));
  p.set('last', limit);
  return { history: p.toString(), follow: live ? api.toString() : undefined };
}

/** The flow explorer's first load from the URL; undefined when its filter does not parse (the view says why). */
export function firstFlowsLoad(params: URLSearchParams): { history: string; follow?: string } | undefined {
  try {
    return flowsLoad(toParams(parseFilters(params.get('q') ?? '')), rangeOf(params), params.get('limit') ?? '1000', params.get('live') === '1');
  } catch {
    return undefined;
  }
}
