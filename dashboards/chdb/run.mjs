// Runs SQL on chdb's bundled ClickHouse engine: node run.mjs IN.json OUT.json
// IN: {"setup": [statements], "queries": {"key": "SELECT ..."}}; OUT: {"version": "...", "results": {"key": {"tsv": "..."} | {"error": "..."}}}
import { Session } from "chdb";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [input, output] = process.argv.slice(2);
const job = JSON.parse(readFileSync(input, "utf8"));
const dir = mkdtempSync(join(tmpdir(), "sieve-chdb-"));
const session = new Session(dir);
try {
  for (const st of job.setup) session.query(st);
  const results = {};
  for (const [key, sql] of Object.entries(job.queries)) {
    try {
      results[key] = { tsv: session.query(sql, "TabSeparatedWithNames") };
    } catch (e) {
      results[key] = { error: String(e && e.message ? e.message : e) };
    }
  }
  writeFileSync(output, JSON.stringify({ version: session.query("SELECT version()", "TabSeparated").trim(), results }));
} finally {
  session.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
