// Test support: a real bin/sieve-relay on free ports, flows pushed to it over the real ingest gRPC
// (sieve.ingest.v1.FlowIngest/Push, as a node does), and Debian's chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');

export async function freePort() {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

/** Starts bin/sieve-relay (memory store; `extra`: more flags) and waits until /readyz answers. */
export async function startRelay(extra = []) {
  const httpPort = await freePort(), grpcPort = await freePort();
  const proc = spawn(path.join(repo, 'bin/sieve-relay'), ['--store', 'memory', '--http-address', `127.0.0.1:${httpPort}`, '--grpc-address', `127.0.0.1:${grpcPort}`, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`sieve-relay exited ${proc.exitCode}:\n${log}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`sieve-relay not ready after 60 s:\n${log}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base, grpc: `127.0.0.1:${grpcPort}`, proc, log: () => log,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await once(proc, 'exit');
      clearTimeout(t);
    },
  };
}

let ingestDef;
function ingestService() {
  if (!ingestDef) {
    const def = protoLoader.loadSync('sieve/ingest/v1/ingest.proto', {
      keepCase: true, longs: String, enums: String, defaults: false, oneofs: true, includeDirs: [path.join(repo, 'api/src/main/proto')],
    });
    ingestDef = grpc.loadPackageDefinition(def).sieve.ingest.v1.FlowIngest;
  }
  return ingestDef;
}

/** A node pushing batches over one Push stream; resolves each batch on its STORED ack. */
export class Node {
  constructor(address, name) {
    const Svc = ingestService();
    this.client = new Svc(address, grpc.credentials.createInsecure());
    this.name = name;
    this.epoch = `test-${process.pid}-${Date.now()}`;
    this.seq = 0;
    this.flowSeq = 1;
    this.waiting = new Map();
    this.stream = this.client.Push();
    this.stream.on('data', (ack) => {
      for (const [s, w] of this.waiting) {
        if (BigInt(ack.acked_through ?? 0) >= BigInt(s) || String(ack.sequence) === String(s)) {
          if (ack.status === 'STATUS_REJECTED' && String(ack.sequence) === String(s)) w.reject(new Error(`batch ${s} rejected: ${ack.error}`));
          else if (ack.status === 'STATUS_RETRY' && String(ack.sequence) === String(s)) continue;
          else w.resolve(ack);
          this.waiting.delete(s);
        }
      }
    });
    this.stream.on('error', (e) => { for (const w of this.waiting.values()) w.reject(e); this.waiting.clear(); });
  }

  push(flows) {
    const sequence = ++this.seq;
    const now = Date.now();
    const batch = {
      node_name: this.name, epoch: this.epoch, sequence: String(sequence), first_flow_seq: String(this.flowSeq),
      created: { seconds: String(Math.floor(now / 1000)), nanos: (now % 1000) * 1e6 }, flows: flows.map(toProto),
    };
    this.flowSeq += flows.length;
    const p = new Promise((resolve, reject) => this.waiting.set(sequence, { resolve, reject }));
    this.stream.write(batch);
    return Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`batch ${sequence}: no ack in 15 s`)), 15_000))]);
  }

  close() {
    this.stream.end();
    this.client.close();
  }
}

/** Test flows are written like the relay prints them (jsonpb names); time is ms since the epoch. */
function toProto(f) {
  const t = f.timeMs;
  const out = { ...f, time: { seconds: String(Math.floor(t / 1000)), nanos: (t % 1000) * 1e6 } };
  delete out.timeMs;
  delete out.kind;
  if (f.is_reply !== undefined) out.is_reply = { value: f.is_reply };
  return out;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.SIEVE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

export function tempDir() {
  const d = mkdtempSync(path.join(tmpdir(), 'sieve-ui-test-'));
  return { path: d, remove: () => rmSync(d, { recursive: true, force: true }) };
}
