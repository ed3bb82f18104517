// Installs what the tests need from the system, when it is missing: Debian's chromium (the docs'
// browser test and the tensor package's browser check) and a Vulkan driver that Dawn accepts (Mesa
// lavapipe, from bookworm-backports on Debian 12), so the WebGPU tests find an adapter, and Debian's
// Fashion-MNIST (dataset-fashion-mnist) for the mixed-precision training test. `pnpm test` runs
// it first. Checks before it installs: when everything is there it runs no apt-get and takes well under
// a second. Where it cannot install (not root and no passwordless sudo, no apt-get) it stops with one
// line that says what to install.
//
// The tests get no environment from here: turbo passes only the variables turbo.json names, so
// VK_ICD_FILENAMES exported by a user never reaches them. The driver goes where the Vulkan loader looks
// by default (/usr/share/vulkan/icd.d), and the adapter check below runs with VK_ICD_FILENAMES removed,
// as the tests will.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const HOW_TO_INSTALL =
  'apt-get install chromium dataset-fashion-mnist mesa-vulkan-drivers (on Debian 12: -t bookworm-backports mesa-vulkan-drivers)';

function log(line) {
  process.stderr.write(`setup-system: ${line}\n`);
}

/** Stops the test command with one line. */
function fail(line) {
  log(line);
  process.exit(1);
}

function osRelease() {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return Object.fromEntries([...text.matchAll(/^([A-Z_]+)=("?)(.*)\2$/gm)].map((m) => [m[1], m[3]]));
  } catch {
    return {};
  }
}

/** The installed version of a Debian package, or null. */
function debVersion(pkg) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, not a template literal
  const r = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status} ${Version}', pkg], { encoding: 'utf8' });
  const m = r.status === 0 ? /^installed (\S+)/.exec(r.stdout) : null;
  return m ? m[1] : null;
}

/** The adapter Dawn finds with the environment the tests get, or why it found none; null without Dawn. */
function probeDawn() {
  let entry;
  try {
    entry = createRequire(join(repo, 'packages', 'tensor', 'package.json')).resolve('webgpu');
  } catch {
    return null; // `pnpm install` has not run: the tests cannot run either, and will say so.
  }
  const env = { ...process.env };
  delete env.VK_ICD_FILENAMES;
  delete env.VK_DRIVER_FILES;
  const script = `
    const { create } = await import(${JSON.stringify(pathToFileURL(entry).href)});
    const adapter = await create([]).requestAdapter();
    if (!adapter) { console.log('NONE no adapter'); process.exit(0); }
    const { device, description, vendor } = adapter.info;
    if (device.includes('null') || description.includes('null backend')) {
      console.log("NONE only Dawn's null backend"); process.exit(0);
    }
    (await adapter.requestDevice()).destroy();
    console.log('OK ' + [vendor, device].filter(Boolean).join(' '));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => /^(OK|NONE) /.test(l));
  if (!line)
    return { ok: false, what: `the adapter check failed: ${(r.stderr ?? '').trim().split('\n').pop()}` };
  return { ok: line.startsWith('OK '), what: line.slice(line.indexOf(' ') + 1) };
}

function hasIcdFile() {
  return ICD_DIRS.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));
}

/** Whether Vulkan is usable for Dawn now, and what was seen. */
function vulkanStatus() {
  if (process.platform !== 'linux')
    return { ok: true, what: `${process.platform}: Dawn uses the native API` };
  const probe = probeDawn();
  if (probe) return probe;
  // Without Dawn installed, judge by the driver files: bookworm's Mesa 22.3 lavapipe is too old for Dawn.
  const mesa = debVersion('mesa-vulkan-drivers');
  if (mesa !== null) {
    const recent = spawnSync('dpkg', ['--compare-versions', mesa, 'ge', '23']).status === 0;
    return { ok: recent, what: `mesa-vulkan-drivers ${mesa}` };
  }
  return { ok: hasIcdFile(), what: 'Vulkan driver files' };
}

/** A prefix that runs a command as root, or null when that is impossible without a password. */
function rootRunner() {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  // sudo drops the environment; DEBIAN_FRONTEND goes through env(1).
  return sudo.status === 0 ? ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive'] : null;
}

/** Runs a command as root (asRoot from rootRunner), its output hidden unless it fails. */
function run(asRoot, command, args, input) {
  const [cmd, ...rest] = [...asRoot, command, ...args];
  execFileSync(cmd, rest, {
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

const chromiumOk = existsSync(CHROMIUM);
// Real Fashion-MNIST (Debian's dataset-fashion-mnist) for the mixed-precision training test.
const fashionOk = existsSync(`${FASHION_MNIST}/t10k-images-idx3-ubyte.gz`);
let vulkan = vulkanStatus();
if (chromiumOk && vulkan.ok && fashionOk) {
  log(`chromium, Fashion-MNIST and a WebGPU adapter (${vulkan.what}) are present`);
  process.exit(0);
}

const missing = [
  ...(chromiumOk ? [] : [`chromium at ${CHROMIUM}`]),
  ...(fashionOk ? [] : [`Fashion-MNIST at ${FASHION_MNIST}`]),
  ...(vulkan.ok ? [] : [`a Vulkan driver Dawn accepts (${vulkan.what})`]),
].join(' and ');
const os = osRelease();
const debianLike = `${os.ID ?? ''} ${os.ID_LIKE ?? ''}`.split(/\s+/).some((id) => id === 'debian');
const asRoot = rootRunner();
if (process.platform !== 'linux' || !debianLike || !existsSync('/usr/bin/apt-get')) {
  fail(`the tests need ${missing}; install them (on Debian: ${HOW_TO_INSTALL}) and run again`);
}
if (asRoot === null) {
  fail(`the tests need ${missing}; run as root or with passwordless sudo, or: sudo ${HOW_TO_INSTALL}`);
}

log(`installing ${missing} with apt-get`);
try {
  if (!vulkan.ok && os.VERSION_CODENAME === 'bookworm') {
    // Dawn refuses bookworm's Mesa 22.3 lavapipe; bookworm-backports has Mesa 25.
    const listed = spawnSync('grep', [
      '-rqs',
      'bookworm-backports',
      '/etc/apt/sources.list',
      '/etc/apt/sources.list.d/',
    ]);
    if (listed.status !== 0) {
      const source =
        'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n' +
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';
      run(asRoot, 'tee', ['/etc/apt/sources.list.d/bookworm-backports.sources'], source);
    }
  }
  run(asRoot, 'apt-get', ['update', '-qq']);
  // Mesa before chromium: the order CI has always installed them in.
  if (!vulkan.ok) {
    const fromBackports = os.VERSION_CODENAME === 'bookworm' ? ['-t', 'bookworm-backports'] : [];
    run(asRoot, 'apt-get', ['install', '-y', '-qq', ...fromBackports, 'mesa-vulkan-drivers', 'libvulkan1']);
  }
  if (!fashionOk) run(asRoot, 'apt-get', ['install', '-y', '-qq', 'dataset-fashion-mnist']);
  if (!chromiumOk) {
    run(asRoot, 'apt-get', [
      'install',
      '-y',
      '-qq',
      '--no-install-recommends',
      'chromium',
      'fonts-liberation',
    ]);
  }
} catch (e) {
  fail(`apt-get failed (${e.message.split('\n')[0]}); install by hand: ${HOW_TO_INSTALL}`);
}

if (!existsSync(CHROMIUM)) fail(`apt-get installed chromium but ${CHROMIUM} is missing`);
if (!existsSync(`${FASHION_MNIST}/t10k-images-idx3-ubyte.gz`))
  fail(`apt-get installed dataset-fashion-mnist but ${FASHION_MNIST} has no t10k-images-idx3-ubyte.gz`);
vulkan = vulkanStatus();
if (!vulkan.ok)
  fail(`after installing mesa-vulkan-drivers, Dawn still finds no usable adapter (${vulkan.what})`);
log(`installed; WebGPU adapter: ${vulkan.what}`);
