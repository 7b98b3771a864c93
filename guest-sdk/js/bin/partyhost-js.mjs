#!/usr/bin/env node
// partyhost-js: builds a room written in TypeScript or JavaScript into a
// WebAssembly component for partyhost.
//
//   partyhost-js build src/server.ts -o room.wasm [--wit path/to/wit]
//
// The room module's default export is a PartyKit-style server class. The
// build bundles it with esbuild (TypeScript is stripped, npm packages are
// inlined; the WIT imports stay external), then componentize-js 0.23 turns
// the bundle into a component of the `room` world in `wit/room.wit`, with
// the engine's outgoing HTTP and fetch-event features off (the host does not
// provide `wasi:http`) and stdio kept, so `console.log` reaches the host log.

import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const HOOKS = ["onStart", "onConnect", "onMessage", "onClose", "onError", "onRequest",
  "onAlarm", "onBeforeConnect", "onBeforeRequest"];
const USAGE = `usage: partyhost-js build <entry.ts|entry.js> [-o <out.wasm>] [--wit <dir>]

Builds a room whose default export is a server class into a component.
  -o, --out <file>   where to write the component (default: room.wasm)
  --wit <dir>        the folder holding room.wit (default: the partyhost
                     checkout's wit/ next to this SDK, or $PARTYHOST_WIT)`;

function fail(message) {
  console.error(`partyhost-js: ${message}`);
  process.exit(1);
}

/** Imports one of the SDK's build tools, or says how to install them. */
async function tool(name) {
  try {
    return await import(name);
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    fail(`${name} is not installed: run \`npm ci\` in ${SDK_DIR}`);
  }
}

/** Parses `build <entry> [-o out] [--wit dir]`. */
function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help" || command === "help") {
    console.log(USAGE);
    process.exit(0);
  }
  if (command !== "build") fail(`unknown command ${JSON.stringify(command ?? "")}\n${USAGE}`);
  const options = { entry: undefined, out: "room.wasm", wit: process.env.PARTYHOST_WIT };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => rest[++i] ?? fail(`${arg} needs a value`);
    if (arg === "-o" || arg === "--out") options.out = value();
    else if (arg === "--wit") options.wit = value();
    else if (arg.startsWith("-")) fail(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
    else if (options.entry === undefined) options.entry = arg;
    else fail(`more than one entry file given\n${USAGE}`);
  }
  if (options.entry === undefined) fail(`no entry file given\n${USAGE}`);
  return options;
}

/** Finds the folder that holds room.wit. */
function findWit(explicit) {
  const candidates = explicit ? [resolve(explicit)] : [resolve(SDK_DIR, "..", "..", "wit")];
  for (const dir of candidates) {
    if (existsSync(join(dir, "room.wit"))) return dir;
  }
  fail(`no room.wit in ${candidates.join(", ")}; pass --wit <dir>`);
}

/** Writes the entry module that binds the room's class to the WIT exports. */
function writeGlue(dir, entry) {
  const hooks = join(SDK_DIR, "src", "hooks.ts");
  const lines = [
    `import Server from ${JSON.stringify(entry)};`,
    `import { bindServer } from ${JSON.stringify(hooks)};`,
    `if (typeof Server !== "function") {`,
    `  throw new Error("the room module's default export must be a server class");`,
    `}`,
    `const hooks = bindServer(Server);`,
    ...HOOKS.map((name) => `export const ${name} = hooks.${name};`),
  ];
  const glue = join(dir, "entry.js");
  writeFileSync(glue, lines.join("\n") + "\n");
  return glue;
}

async function bundle(glue, outfile) {
  const esbuild = await tool("esbuild");
  await esbuild.build({
    entryPoints: [glue],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["worker", "import"],
    external: ["partyhost:room/*"],
    alias: { partyhost: join(SDK_DIR, "src", "index.ts") },
    logLevel: "warning",
  }).catch(() => fail("failed to bundle the room (see the errors above)"));
}

async function componentize(source, witPath, out) {
  const { componentize } = await tool("@bytecodealliance/componentize-js");
  let result;
  try {
    result = await componentize({
      sourcePath: source,
      witPath,
      worldName: "room",
      disableFeatures: ["http", "fetch-event"],
    });
  } catch (error) {
    fail(`failed to build the component:\n${error?.message ?? error}`);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, result.component);
  return result.component.length;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const entry = resolve(options.entry);
  if (!existsSync(entry) || !statSync(entry).isFile()) fail(`no such file ${JSON.stringify(options.entry)}`);
  const wit = findWit(options.wit);
  const out = resolve(options.out);

  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "partyhost-js-"));
  try {
    const glue = writeGlue(work, entry);
    const bundled = join(work, "room.js");
    await bundle(glue, bundled);
    const size = await componentize(bundled, wit, out);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`built ${options.out} (${(size / 1e6).toFixed(1)} MB) in ${seconds} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
