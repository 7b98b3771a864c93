// Runs the SDK's unit tests under Node: bundles each `*.test.ts` with
// esbuild, resolving the host imports (`partyhost:room/*`) to the in-memory
// fake in fake-host.ts, then hands the bundles to `node --test`.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const fake = join(here, "fake-host.ts");
const out = mkdtempSync(join(tmpdir(), "partyhost-js-test-"));
const tests = readdirSync(here).filter((name) => name.endsWith(".test.ts"));

const fakeHost = {
  name: "fake-host",
  setup(build) {
    build.onResolve({ filter: /^partyhost:room\// }, () => ({ path: fake }));
  },
};

try {
  await esbuild.build({
    entryPoints: tests.map((name) => join(here, name)),
    outdir: out,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["node:*"],
    plugins: [fakeHost],
    logLevel: "warning",
  });
  const bundles = readdirSync(out).map((name) => join(out, name));
  const run = spawnSync(process.execPath, ["--test", ...bundles], { stdio: "inherit" });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
