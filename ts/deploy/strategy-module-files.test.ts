// The files a fleet deploy ships with a strategy module: its own relative imports, followed; what a host could not resolve, refused by name.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_STRATEGY_MODULE_FILES, strategyModuleFiles } from './strategy-module-files.js';

/** A folder holding `files` (path → text); returns its path. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-module-files-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function problemsOf(dir: string, entry = 'main.mjs'): readonly string[] {
  const walked = strategyModuleFiles(join(dir, entry), entry);
  return walked.ok ? [] : walked.problems;
}

describe('strategyModuleFiles', () => {
  it('ships the module and every file of its own it reaches, static, re-exported, dynamic and JSON, each once', () => {
    const dir = folder({
      'my strategy.mjs': [
        "import { signal } from './lib/signal.mjs';",
        "import { join } from 'node:path';",
        "import fs from 'fs';",
        "export * from './lib/shared.js';",
        '// import "./commented-out.mjs" is not followed',
        'const text = "import \'./in-a-string.mjs\'";',
        "export default async () => (await import('./lib/late.mjs')).default;",
      ].join('\n'),
      'lib/signal.mjs': [
        "import params from '../params.json' with { type: 'json' };",
        "import { shared } from './shared.js';",
        "import './signal.mjs';",
        'export const signal = params.level + shared;',
        'export const here = import.meta.url;',
      ].join('\n'),
      // Saved with a byte order mark, as some editors do: Node imports it, so its imports count.
      'lib/shared.js': "\uFEFFimport { base } from './base.mjs'; export const shared = base;",
      'lib/base.mjs': "import dots from '../..dots.mjs'; export const base = dots;",
      '..dots.mjs': 'export default 1;',
      'lib/late.mjs': "import { signal } from './signal.mjs'; export default signal;",
      'params.json': '{ "level": 2 }',
      'unused.mjs': 'export const never = 1;',
    });
    const walked = strategyModuleFiles(join(dir, 'my strategy.mjs'), 'my_strategy.mjs');
    expect(walked.ok).toBe(true);
    if (!walked.ok) return;
    expect(walked.files.map((f) => f.path)).toEqual([
      'my_strategy.mjs',
      'lib/signal.mjs',
      'lib/shared.js',
      'lib/late.mjs',
      'params.json',
      'lib/base.mjs',
      '..dots.mjs',
    ]);
    expect(walked.files[4]).toMatchObject({ source: join(dir, 'params.json'), text: '{ "level": 2 }' });
  });

  it('refuses what a trader host could not resolve from the shipped files, naming the importing file', () => {
    const dir = folder({
      'main.mjs': [
        "import { z } from 'zod';",
        "import internal from '#internal';",
        "import shared from '../outside.mjs';",
        "import gone from './gone.mjs';",
        "import old from './old.cjs';",
        "import spaced from './my lib.mjs';",
        "import pkg from './package.json' with { type: 'json' };",
        "import remote from 'file://elsewhere/strategy.mjs';",
        'const name = "./late.mjs";',
        'export default async () => (await import(name)).default;',
      ].join('\n'),
      'old.cjs': 'module.exports = 1;',
      'my lib.mjs': 'export default 1;',
      'package.json': '{}',
    });
    const main = join(dir, 'main.mjs');
    expect(problemsOf(dir)).toEqual([
      `${main} imports a computed name (\`name\`): the deploy cannot tell which file to ship; import it by a literal path`,
      `${main} imports the package "zod", which a trader host cannot resolve: the deploy ships the module's own files, not packages (take \`z\` and \`Decimal\` from the kit the module's default export is called with, or bundle the package into the module)`,
      `${main} imports the package "#internal", which a trader host cannot resolve: the deploy ships the module's own files, not packages (take \`z\` and \`Decimal\` from the kit the module's default export is called with, or bundle the package into the module)`,
      `${main} imports ${join(dirname(dir), 'outside.mjs')}, outside the module's folder ${dir}: the deploy ships that folder and what is below it`,
      `${main} imports ${join(dir, 'gone.mjs')}, which does not exist`,
      `${main} imports ${join(dir, 'old.cjs')}: only .js, .mjs and .json files are shipped`,
      `${main} imports ${join(dir, 'my lib.mjs')}, whose path a host would not keep as it is: use letters, digits, ".", "_" and "-" (and no package.json beside the module)`,
      `${main} imports ${join(dir, 'package.json')}, whose path a host would not keep as it is: use letters, digits, ".", "_" and "-" (and no package.json beside the module)`,
      // Node's own words follow (they may change between versions).
      expect.stringMatching(
        / imports "file:\/\/elsewhere\/strategy\.mjs", which is not a file URL of this machine: ./,
      ),
    ]);
  });

  it('refuses a file that would take the name the module itself gets on the host', () => {
    const dir = folder({ 'my strategy.mjs': "import './my_strategy.mjs';", 'my_strategy.mjs': '' });
    const walked = strategyModuleFiles(join(dir, 'my strategy.mjs'), 'my_strategy.mjs');
    expect(walked.ok ? [] : walked.problems).toEqual([
      `${join(dir, 'my strategy.mjs')} imports ${join(dir, 'my_strategy.mjs')}, which a host would keep under the module's own name my_strategy.mjs: rename one of them`,
    ]);
  });

  it('names a problem in a file the module reaches, not only in the module', () => {
    const dir = folder({
      'main.mjs': "export { signal } from './lib/signal.mjs';",
      'lib/signal.mjs': "import { mean } from 'simple-statistics'; export const signal = mean;",
    });
    expect(problemsOf(dir)).toEqual([
      `${join(dir, 'lib', 'signal.mjs')} imports the package "simple-statistics", which a trader host cannot resolve: the deploy ships the module's own files, not packages (take \`z\` and \`Decimal\` from the kit the module's default export is called with, or bundle the package into the module)`,
    ]);
  });

  it(`stops at ${MAX_STRATEGY_MODULE_FILES} files`, () => {
    const files: Record<string, string> = {};
    for (let i = 0; i <= MAX_STRATEGY_MODULE_FILES; i++)
      files[i === 0 ? 'main.mjs' : `part${i}.mjs`] = `import './part${i + 1}.mjs';`;
    files[`part${MAX_STRATEGY_MODULE_FILES + 1}.mjs`] = '';
    const dir = folder(files);
    expect(problemsOf(dir)).toEqual([
      `${join(dir, 'main.mjs')} imports more than ${MAX_STRATEGY_MODULE_FILES} files of its own; the deploy ships at most that many`,
    ]);
  });
});
