#!/usr/bin/env node
// Entry point of the `tributary` command: the compiled CLI lives in dist/ (built by `npm install`).
import { main } from '../dist/ts/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
