#!/usr/bin/env node
// A `solc`-compatible command line over solc-js's API, for machines where no native solc
// build can be downloaded. py-solc-x, ape-solidity and Slither only need this subset:
//   --version | --standard-json [--base-path P] [--include-path P]... [--allow-paths A,B]
// The solcjs CLI is not wrapped because it prints SMT warnings into stdout, which corrupts
// large JSON outputs.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

function parseArgs(argv) {
  const opts = { standardJson: false, version: false, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case "--version": opts.version = true; break;
      case "--standard-json": opts.standardJson = true; break;
      case "--base-path": opts.basePath = value(); break;
      case "--include-path": opts.includePaths.push(value()); break;
      case "--allow-paths": opts.allowPaths.push(...value().split(",").filter(Boolean)); break;
      default:
        process.stderr.write(`solc-js-wrapper: unsupported argument ${argv[i]}\n`);
        process.exit(2);
    }
  }
  return opts;
}

function importResolver(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths];
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.resolve(r, importPath));
    for (const file of candidates) {
      if (fs.existsSync(file) && fs.statSync(file).isFile()) {
        return { contents: fs.readFileSync(file, "utf8") };
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
  };
}

const opts = parseArgs(process.argv.slice(2));
if (opts.version) {
  const full = solc.version().replace(".Emscripten.clang", ".Linux.g++");
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${full}\n`);
} else if (opts.standardJson) {
  const input = fs.readFileSync(0, "utf8");
  process.stdout.write(solc.compile(input, { import: importResolver(opts) }));
} else {
  process.stderr.write("solc-js-wrapper: only --version and --standard-json are supported\n");
  process.exit(2);
}
