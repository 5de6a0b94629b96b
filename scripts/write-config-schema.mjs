// Writes config/tributary.schema.json, the configuration's JSON schema for editors, from the built schema (`npm run config:schema`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJsonSchemaText } from '../dist/ts/config/tributary-config.js';
import { packageRoot } from '../dist/ts/package-root.js';

const path = join(packageRoot, 'config', 'tributary.schema.json');
writeFileSync(path, configJsonSchemaText());
process.stdout.write(`wrote ${path}\n`);
