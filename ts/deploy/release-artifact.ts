// Builds the release artifact once: the packed package (compiled dist, prebuilt native addon) with its production dependencies, so hosts need only Node.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { RELEASE_FILE } from '../process/release-info.js';

const run = promisify(execFile);

/** What `release.json` in an artifact says about it. */
export const ReleaseManifestSchema = z.strictObject({
  /** Content hash of the release (16 hex digits): two builds of the same files have the same id. */
  id: z.string().regex(/^[0-9a-f]{16}$/),
  version: z.string(),
  createdAt: z.string(),
  platform: z.string(),
  arch: z.string(),
  /** The Node.js the release was built and checked with. */
  node: z.strictObject({ version: z.string(), abi: z.string() }),
  /** The `tributary` commands the release has (read from its own `--help`). */
  commands: z.array(z.string()),
  /** N-API addons (ABI-stable: load on every Node with N-API 8+). */
  napiAddons: z.array(z.string()),
  /**
   * Packages whose native addon was compiled at install for one Node ABI (node-gyp): such a release
   * runs only on Node with `node.abi`. Empty when every native part is ABI-stable or prebuilt per ABI.
   */
  abiBound: z.array(z.string()),
});

export type ReleaseManifest = z.infer<typeof ReleaseManifestSchema>;

/** A built release: the tarball and its manifest. */
export interface ReleaseArtifact {
  readonly file: string;
  readonly manifest: ReleaseManifest;
}

/** Building the release failed at `step`. */
export class ReleaseBuildError extends Error {
  override readonly name = 'ReleaseBuildError';
  constructor(
    readonly step: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`release ${step}: ${message}`, options);
  }
}

async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ReleaseBuildError) throw error;
    const stderr = (error as { stderr?: string }).stderr;
    // The line that names the error (a Node stack prints it in the middle), else the last lines.
    const lines = (stderr ?? '')
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '');
    const named = lines.find((l) => /\b[A-Za-z]*Error\b|error:/.test(l));
    const detail = named?.trim() ?? lines.slice(-3).join(' | ');
    throw new ReleaseBuildError(name, detail || (error as Error).message, { cause: error });
  }
}

/** Production dependency folders of the package at `root`, relative to it (`node_modules/ws`, ...). */
async function productionDependencies(root: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    // npm ls exits 1 on an extraneous or invalid package but still lists the tree.
    stdout = (error as { stdout?: string }).stdout ?? '';
    if (stdout === '') throw error;
  }
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== root)
    .map((line) => relative(root, line))
    .filter((path) => path.startsWith(`node_modules${sep}`));
}

/**
 * True for prebuilt binaries of another platform than linux-x64: uWS's
 * `binaries/uws_<platform>_<arch>_<abi>.node` and node-gyp-build's `prebuilds/<platform>-<arch>/`.
 */
export function isOtherPlatformBinary(path: string): boolean {
  const uws = /uws_([a-z0-9]+)_([a-z0-9]+)_\d+\.node$/.exec(path);
  if (uws !== null) return uws[1] !== 'linux' || uws[2] !== 'x64';
  const prebuild = /(?:^|\/)prebuilds\/([a-z0-9]+)-([a-z0-9+]+)(?:\/|$)/.exec(path);
  if (prebuild !== null) return prebuild[1] !== 'linux' || prebuild[2] !== 'x64';
  return false;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

/** A hash of every file's path and bytes (symlinks by their target): the release id. */
function contentId(dir: string): string {
  const hash = createHash('sha256');
  for (const file of walk(dir).sort()) {
    hash.update(relative(dir, file));
    hash.update('\0');
    const stat = lstatSync(file);
    hash.update(stat.isSymbolicLink() ? `link:${readlinkSync(file)}` : readFileSync(file));
    hash.update(String(stat.mode & 0o111));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds the release of the package at `root` (built already: `npm install` or `npm run build`)
 * into `outDir`: `npm pack` (the files package.json lists: bin, dist, the loader and the prebuilt
 * `.node` addon), plus the production dependencies as installed here (so addons compiled at
 * install, like better-sqlite3, travel compiled), without other platforms' prebuilt binaries.
 * The staged release is run (`tributary --help`) before it is packed: it must load from its own
 * folder alone. Returns the tarball `tributary-<version>-<id>.tgz` and its manifest.
 */
export async function buildRelease(root: string, outDir: string): Promise<ReleaseArtifact> {
  if (!existsSync(join(root, 'dist', 'app', 'cli', 'main.js'))) {
    throw new ReleaseBuildError('check', `${root}/dist is not built: run \`npm run build\` first`);
  }
  const work = mkdtempSync(join(tmpdir(), 'tributary-release-'));
  try {
    const packed = await step('pack', async () => {
      const { stdout } = await run(
        'npm',
        ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
        {
          cwd: root,
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      const parsed = JSON.parse(stdout) as Array<{ filename: string }>;
      const name = parsed[0]?.filename;
      if (name === undefined) throw new Error('npm pack reported no file');
      return join(work, name.replace(/^@[^/]+\//, '').replace('/', '-'));
    });
    const staging = join(work, 'stage');
    mkdirSync(staging);
    await step('unpack', () => run('tar', ['-xzf', packed, '-C', staging]));
    const pkg = join(staging, 'package');

    const napiAddons = readdirSync(join(pkg, 'bindings')).filter((f) => f.endsWith('.node'));
    if (napiAddons.length === 0) {
      throw new ReleaseBuildError(
        'check',
        'no prebuilt addon in bindings/: run `npm run build:native` first',
      );
    }

    const abiBound: string[] = [];
    await step('dependencies', async () => {
      for (const dep of await productionDependencies(root)) {
        const from = join(root, dep);
        cpSync(from, join(pkg, dep), {
          recursive: true,
          verbatimSymlinks: true,
          filter: (source) => {
            const inside = relative(from, source).split(sep).join('/');
            if (inside === 'node_modules' || inside.startsWith('node_modules/')) return false;
            // Of node-gyp's build folder only the addon itself is needed (not objects, archives).
            if (
              inside.startsWith('build/') &&
              inside !== 'build/Release' &&
              !/^build\/Release\/[^/]+\.node$/.test(inside)
            ) {
              return false;
            }
            return !isOtherPlatformBinary(relative(root, source).split(sep).join('/'));
          },
        });
        // node-gyp's output, compiled at install for this Node's ABI (prebuilds/ are N-API or per ABI).
        const name = dep.slice('node_modules/'.length);
        const compiled = join(from, 'build', 'Release');
        const built = existsSync(compiled) && readdirSync(compiled).some((f) => f.endsWith('.node'));
        if (built) abiBound.push(name);
        else if (existsSync(join(from, 'binding.gyp')) && !existsSync(join(from, 'prebuilds'))) {
          throw new ReleaseBuildError(
            'dependencies',
            `${name} has a native addon that was not built here (no build/Release/*.node, no prebuilds/): run \`npm rebuild ${name}\` (npm may have skipped its install script) and build the release again`,
          );
        }
      }
    });

    // The artifact is installed, never built: no dev dependencies, no install scripts.
    const manifestPath = join(pkg, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    delete manifest.devDependencies;
    delete manifest.scripts;
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

    const help = await step('smoke test', () =>
      run(process.execPath, [join(pkg, 'bin', 'tributary.js'), '--help'], { cwd: work, timeout: 60_000 }),
    );
    const commands = [...help.stdout.matchAll(/^ {2}tributary ([a-z-]+)/gm)].map((m) => m[1] ?? '');
    if (commands.length === 0)
      throw new ReleaseBuildError('smoke test', `unexpected --help output: ${help.stdout}`);

    const id = contentId(pkg);
    const release: ReleaseManifest = {
      id,
      version: typeof manifest.version === 'string' ? manifest.version : '0.0.0',
      createdAt: new Date().toISOString(),
      platform: process.platform,
      arch: process.arch,
      node: { version: process.versions.node, abi: process.versions.modules },
      commands,
      napiAddons,
      abiBound,
    };
    writeFileSync(join(pkg, RELEASE_FILE), `${JSON.stringify(release, null, 2)}\n`);
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `tributary-${release.version}-${id}.tgz`);
    await step('tar', () =>
      run(
        'sh',
        [
          '-c',
          'tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf - package | gzip -n > "$2"',
          'tar',
          staging,
          file,
        ],
        { maxBuffer: 1024 * 1024 },
      ),
    );
    return { file, manifest: release };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Reads the manifest of a release tarball without unpacking the rest. */
export async function readReleaseManifest(file: string): Promise<ReleaseManifest> {
  const { stdout } = await step('read', () =>
    run('tar', ['-xzOf', file, `package/${RELEASE_FILE}`], { maxBuffer: 1024 * 1024 }),
  );
  const parsed = ReleaseManifestSchema.safeParse(JSON.parse(stdout));
  if (!parsed.success) throw new ReleaseBuildError('read', `${file}: release.json is not a release manifest`);
  return parsed.data;
}
