// The repository keeps its layering: the library imports no process, processes import no other process.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../ts/package-root.js';
import { checkImports, relativeSpecifiers } from './import-rules.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'import-rules-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('import rules', () => {
  it('hold for this repository', () => {
    expect(checkImports(packageRoot)).toEqual([]);
  });

  it('find static, re-exported and dynamic imports', () => {
    const source = [
      "import { a } from '../x/a.js';",
      "import type { B } from './b.js';",
      'import {',
      '  f,',
      '  g,',
      "} from './fg.js';",
      "export { c } from '../../c.js';",
      "import './side-effect.js';",
      "import { e } from 'node:fs';",
      'const text = "import { h } from \'../h.js\'";',
      "const d = await import('./d.js');",
    ].join('\n');
    expect(relativeSpecifiers(source)).toEqual([
      '../x/a.js',
      './b.js',
      './fg.js',
      '../../c.js',
      './side-effect.js',
      './d.js',
    ]);
  });

  it('catch the library importing a process, processes importing each other and the binding outside ts/native', () => {
    const root = tree({
      'ts/hub/server.ts': "import { Collector } from '../../collectors/kline/kline.js';\n",
      'ts/native/hub.ts': "import { x } from '../../bindings/index.cjs';\n",
      'ts/exchange/client.ts': "import { x } from '../../bindings/index.cjs';\n",
      'trader/engine.ts': "import { Sim } from '../sim/simulator.js';\n",
      'trader/engine.test.ts': "import { Sim } from '../sim/simulator.js';\n",
      'collectors/kline.ts': "import { T } from '../trader/engine.js';\n",
      'app/up.ts': "import { T } from '../trader/engine.js';\nimport { S } from '../sim/simulator.js';\n",
    });
    try {
      const found = checkImports(root).map((v) => `${v.file}: ${v.rule}`);
      expect(found.sort()).toEqual(
        [
          'collectors/kline.ts: collectors/ may not import trader/',
          'trader/engine.ts: trader/ may not import sim/',
          'ts/exchange/client.ts: only ts/native/ imports the binding',
          'ts/hub/server.ts: ts/ may not import collectors/',
        ].sort(),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
