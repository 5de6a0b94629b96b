#!/usr/bin/env node
// Entry point of the `tributary` command: the compiled CLI lives in dist/app/ (built by `npm install`).
import { main } from '../dist/app/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
