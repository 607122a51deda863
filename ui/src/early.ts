// Start-up, before React renders: the current view's code and its first requests are fetched at once, in parallel,
// instead of one after the other (page -> view code -> its data -> draw). Flows: the worker that holds the flows
// starts now and is handed to the view when it mounts.
import { prefetch } from './api';
import { firstFlowsLoad, mapRequest, policiesRequest } from './requests';

const path = location.pathname.replace(/^\/+/, '').split('/')[0] || 'flows';
const params = new URLSearchParams(location.search);

let worker: Worker | undefined;

/** The flows worker started at start-up (once), or undefined. */
export function takeEarlyWorker(): Worker | undefined {
  const w = worker;
  worker = undefined;
  return w;
}

switch (path) {
  case 'flows':
  {
    worker = new Worker(new URL('./flowstore.worker.ts', import.meta.url), { type: 'module' });
    const first = firstFlowsLoad(params);
    // id 1: the view's first load (Flows.tsx), which the worker then takes over
    if (first) worker.postMessage({ type: 'load', id: 1, early: true, ...first });
    break;
  }
  case 'map':
    prefetch('/api/v1/service-map', mapRequest(params));
    void import('./views/ServiceMap');
    break;
  case 'policies':
    prefetch('/api/v1/policies', policiesRequest(params));
    prefetch('/api/v1/policies/rules');
    void import('./views/Policies');
    break;
  case 'drops':
    void import('./views/Drops');
    break;
  case 'nodes':
    prefetch('/api/v1/nodes');
    prefetch('/api/v1/status');
    void import('./views/Nodes');
    break;
}
