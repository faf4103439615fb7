// scripts/install-system-deps.sh, the one install step of .ci/run and `scripts/stack.sh up`, on
// a PATH that hides the tools it looks for: a folder of symlinks to every system command except
// those, fakes for the tools a test says are present, and stubs for apt-get, apt-cache, id and
// sudo that record their arguments. Nothing is really installed: the apt-get stub "installs" a
// package by writing a fake of its command.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'install-system-deps.sh');
const STACK = join(ROOT, 'scripts', 'stack.sh');

/** What the script looks for (hidden from the base PATH; a test adds fakes) and the stubs. */
const TOOLS = ['redis-server', 'redis-cli', 'java', 'mvn', 'openssl', 'node', 'npm', 'chromium'];
const STUBBED = ['apt-get', 'apt-cache', 'id', 'sudo'];
const REAL_ID = ['/usr/bin/id', '/bin/id'].find((p) => existsSync(p))!;

const top = mkdtempSync(join(tmpdir(), 'cpiwatch-deps-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));

// every command of the system directories, first one of a name wins, minus TOOLS and STUBBED
const base = join(top, 'base');
mkdirSync(base);
for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    if (TOOLS.includes(name) || STUBBED.includes(name) || existsSync(join(base, name))) continue;
    try {
      symlinkSync(join(dir, name), join(base, name));
    } catch {
      // a name that exists twice (e.g. /bin -> /usr/bin): the first one stays
    }
  }
}

const script = (path: string, body: string) => {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
};
const fakeJava = (bin: string, version: number) =>
  script(join(bin, 'java'), `echo "    java.specification.version = ${version}" >&2\necho 'openjdk version "${version}"' >&2`);

interface Machine {
  /** tools on PATH (fakes); java reports javaVersion (default 17) */
  present: string[];
  javaVersion?: number;
  uid?: number;
  /** sudo exists and `sudo -n true` succeeds */
  sudo?: 'none' | 'password' | 'passwordless';
  /** packages apt-cache policy has a candidate for */
  aptKnows?: string[];
  /** the apt-get stub writes fakes for what it is asked to install (default true) */
  aptInstalls?: boolean;
  env?: Record<string, string>;
}

let n = 0;
function machine(m: Machine) {
  const dir = join(top, `m${++n}`);
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(dir, 'jvm'));
  for (const t of m.present) {
    if (t === 'java') fakeJava(bin, m.javaVersion ?? 17);
    else script(join(bin, t), 'exit 0');
  }
  const makes: Record<string, string> = {
    'redis-server': 'redis-server',
    'redis-tools': 'redis-cli',
    maven: 'mvn',
    openssl: 'openssl',
    nodejs: 'node',
    npm: 'npm',
    chromium: 'chromium',
  };
  script(
    join(bin, 'apt-get'),
    [
      `echo "apt-get $*" >>${log}`,
      `case " $* " in *" install "*) ;; *) exit 0 ;; esac`,
      m.aptInstalls === false ? 'exit 0' : '',
      'for p in "$@"; do',
      '  case "$p" in',
      ...Object.entries(makes).map(([pkg, cmd]) => `    ${pkg}) printf '#!/bin/sh\\nexit 0\\n' >${bin}/${cmd}; chmod +x ${bin}/${cmd} ;;`),
      `    openjdk-*-jre-headless) printf '#!/bin/sh\\necho "    java.specification.version = 17" >&2\\n' >${bin}/java; chmod +x ${bin}/java ;;`,
      '  esac',
      'done',
    ].join('\n'),
  );
  const known = (m.aptKnows ?? ['openjdk-17-jre-headless']).join(' ');
  script(
    join(bin, 'apt-cache'),
    `[ "$1" = policy ] || exit 0\nfor k in ${known}; do [ "$k" = "$2" ] && printf '%s:\\n  Installed: (none)\\n  Candidate: 1.0\\n' "$2"; done\nexit 0`,
  );
  script(join(bin, 'id'), `if [ "$1" = -u ]; then echo ${m.uid ?? 0}; else exec ${REAL_ID} "$@"; fi`);
  if ((m.sudo ?? 'none') !== 'none') {
    script(
      join(bin, 'sudo'),
      [
        `echo "sudo $*" >>${log}`,
        '[ "$1" = -n ] && shift',
        `[ "$1" = true ] && exit ${m.sudo === 'passwordless' ? 0 : 1}`,
        'exec "$@"',
      ].join('\n'),
    );
  }
  const env = {
    PATH: `${bin}:${base}`,
    HOME: dir,
    LANG: 'C',
    CPIWATCH_JVM_DIR: join(dir, 'jvm'),
    CPIWATCH_STACK_DIR: join(dir, 'stack'),
    ...m.env,
  };
  const run = (file: string, ...args: string[]) => {
    const r = spawnSync('/bin/bash', [file, ...args], { env, encoding: 'utf8', timeout: 10_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    deps: (...args: string[]) => run(SCRIPT, ...args),
    stack: (...args: string[]) => run(STACK, ...args),
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
    stackDir: env.CPIWATCH_STACK_DIR,
  };
}

const ALL = ['redis-server', 'redis-cli', 'java', 'mvn', 'openssl', 'node', 'npm', 'chromium'];
const without = (...hidden: string[]) => ALL.filter((t) => !hidden.includes(t));
const APT_INSTALL = 'apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends';
const APT_UPDATE = 'apt-get -o DPkg::Lock::Timeout=300 update -qq';

describe('scripts/install-system-deps.sh', () => {
  it('as root, installs what is missing after apt-get update, says what, and checks again', () => {
    const m = machine({ present: without('redis-server', 'redis-cli') });
    const r = m.deps();
    expect(r.stderr).toContain('[system-deps] missing: redis-server redis-cli');
    expect(r.stderr).toContain('[system-deps] installing: redis-server redis-tools');
    expect(r.stderr).toContain('[system-deps] installed: redis-server redis-tools');
    expect(r.code).toBe(0);
    expect(m.calls()).toEqual([APT_UPDATE, `${APT_INSTALL} redis-server redis-tools`]);
    // stdout stays clean: scripts/stack.sh up prints its export lines there
    expect(r.stdout).toBe('');
  });

  it('asks for every package of a bare machine, the Java package chosen from the apt lists', () => {
    const bare = machine({ present: [] });
    expect(bare.deps().code).toBe(0);
    expect(bare.calls()).toEqual([
      APT_UPDATE,
      `${APT_INSTALL} redis-server redis-tools maven openssl nodejs npm chromium openjdk-17-jre-headless`,
    ]);

    // a Java older than 17 counts as missing; a release without openjdk-17 (Debian 13) gets 21
    const trixie = machine({ present: without('redis-server'), javaVersion: 11, aptKnows: ['openjdk-21-jre-headless', 'openjdk-25-jre-headless'] });
    const r = trixie.deps();
    expect(r.stderr).toContain('missing: redis-server java-17+');
    expect(r.code).toBe(0);
    expect(trixie.calls()).toEqual([APT_UPDATE, `${APT_INSTALL} redis-server openjdk-21-jre-headless`]);
  });

  it('installs nothing when everything is present', () => {
    const m = machine({ present: ALL, sudo: 'passwordless' });
    const r = m.deps();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[system-deps] present: redis-server redis-cli Java 17+ Maven openssl node npm chromium');
    expect(m.calls()).toEqual([]);
  });

  it('not root and no sudo: prints the one command to run, installs nothing, exits 1', () => {
    for (const sudo of ['none', 'password'] as const) {
      const m = machine({ present: without('redis-server', 'redis-cli', 'mvn'), uid: 1000, sudo });
      const r = m.deps();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('not root and no passwordless sudo, so nothing was installed. Run this once, then try again:');
      expect(r.stderr).toContain('  sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server redis-tools maven\n');
      expect(m.calls().filter((c) => c.startsWith('apt-get'))).toEqual([]);
      expect(m.calls()).toEqual(sudo === 'none' ? [] : ['sudo -n true']);
    }
  });

  it('not root with passwordless sudo: installs through sudo -n', () => {
    const m = machine({ present: without('openssl'), uid: 1000, sudo: 'passwordless' });
    const r = m.deps();
    expect(r.stderr).toContain('running: sudo -n apt-get update');
    expect(r.code).toBe(0);
    expect(m.calls()).toEqual([
      'sudo -n true',
      `sudo -n ${APT_UPDATE}`,
      APT_UPDATE,
      `sudo -n ${APT_INSTALL} openssl`,
      `${APT_INSTALL} openssl`,
    ]);
  });

  it('checks only the groups it is given', () => {
    const m = machine({ present: ['redis-server', 'redis-cli'] });
    const r = m.deps('redis');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('present: redis-server redis-cli\n');
    expect(m.calls()).toEqual([]);
    expect(m.deps('bogus').code).toBe(2);
  });

  it('browser: installs Debian\'s chromium for the browser tests, or takes the one at CHROMIUM_PATH', () => {
    const m = machine({ present: without('chromium') });
    const r = m.deps('browser');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[system-deps] missing: chromium');
    expect(m.calls()).toEqual([APT_UPDATE, `${APT_INSTALL} chromium`]);
    const elsewhere = machine({ present: without('chromium'), env: { CHROMIUM_PATH: '/bin/sh' } });
    expect(elsewhere.deps('browser').stderr).toContain('present: chromium');
    expect(elsewhere.calls()).toEqual([]);
  });

  it('fails when apt-get ran but the command is still missing, and with CPIWATCH_NO_INSTALL=1 only reports', () => {
    const broken = machine({ present: without('redis-server'), aptInstalls: false });
    const r = broken.deps();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: still missing after apt-get install: redis-server');

    const noInstall = machine({ present: without('redis-server'), env: { CPIWATCH_NO_INSTALL: '1' } });
    const q = noInstall.deps();
    expect(q.code).toBe(1);
    expect(q.stderr).toContain('not installing (CPIWATCH_NO_INSTALL=1)');
    expect(q.stderr).toContain('sudo apt-get install -y --no-install-recommends redis-server\n');
    expect(noInstall.calls()).toEqual([]);
  });
});

describe('scripts/stack.sh up runs the install step first', () => {
  it('without redis-server, not root and no sudo: the command to run, nothing started', () => {
    const m = machine({ present: without('redis-server', 'redis-cli'), uid: 1000 });
    const r = m.stack('up', 'redis');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server redis-tools\n');
    expect(r.stderr).toContain('[stack] ERROR: system packages missing (see above)');
    expect(r.stdout).not.toContain('export ');
    expect(existsSync(join(m.stackDir, 'run', 'redis.pid'))).toBe(false);
  });

  it('as root, asks apt-get for the packages of the services named (redis: no Java, no Maven)', () => {
    // the stub installs nothing, so up stops after the install step instead of starting a fake redis
    const m = machine({ present: without('redis-server', 'redis-cli', 'java', 'mvn'), aptInstalls: false });
    const r = m.stack('up', 'redis');
    expect(r.code).not.toBe(0);
    expect(m.calls()).toEqual([APT_UPDATE, `${APT_INSTALL} redis-server redis-tools`]);
    expect(existsSync(join(m.stackDir, 'run', 'redis.pid'))).toBe(false);
  });
});
