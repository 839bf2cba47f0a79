// More of `nbox build`: ADD, COPY flags, heredocs, users and shells in RUN,
// contexts from tarballs and stdin, and file metadata surviving into images.
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HOST_PLATFORM, formatPlatform } from '../../src/image/platform';
import { addon } from '../../src/sys/addon';
import { cli, fileScope, rootTest, sharedTestStore, writeContext, tarOf } from '../helpers/env';
import { buildSteps } from '../helpers/build';

const test = rootTest();
const store = sharedTestStore(test);
const { build, buildFails, run } = buildSteps(store);
const shared = fileScope(test);




test('ADD extracts a local archive and downloads a URL; COPY copies the archive as is', async (t) => {
  const dir = await writeContext(t, { 'payload/inner.txt': 'inside\n' });
  execFileSync('tar', ['-C', join(dir, 'payload'), '-czf', join(dir, 'bundle.tgz'), 'inner.txt']);
  const server = createServer((req, res) => {
    res.setHeader('Last-Modified', 'Wed, 01 Jan 2020 00:00:00 GMT');
    res.end(req.url === '/files/remote.txt' ? 'from http\n' : '');
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  await writeFile(join(dir, 'Dockerfile'), [
    'FROM bb',
    'ADD bundle.tgz /extracted/',
    'COPY bundle.tgz /copied/',
    `ADD http://127.0.0.1:${port}/files/remote.txt /downloads/`,
    '',
  ].join('\n'));
  await build(t, ['-t', 'adds', dir]);
  t.is(await run(t, 'adds', 'cat /extracted/inner.txt; ls /copied; cat /downloads/remote.txt; stat -c %a /downloads/remote.txt'), 'inside\nbundle.tgz\nfrom http\n600\n');
});

test('COPY --chown by name and --chmod; owners and modes reach the running container', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: 'FROM bb\nCOPY --chown=app a.txt /owned.txt\nCOPY --chmod=0640 a.txt /moded.txt\nRUN chown 1000:50 /etc/group && chmod 4755 /bin/busybox\n',
    'a.txt': 'a\n',
  });
  await build(t, ['-t', 'owners', dir]);
  t.is(await run(t, 'owners', 'stat -c "%u:%g %a" /owned.txt /moded.txt /etc/group /bin/busybox'), '1000:1000 644\n0:0 640\n1000:50 644\n0:0 4755\n');
});

test('heredocs: RUN <<EOF runs the script, COPY <<EOF writes files', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: ['FROM bb', 'ARG WHO=heredoc', 'RUN <<EOF', 'echo "ran by $WHO" > /ran', 'echo second >> /ran', 'EOF', 'COPY <<EOT /etc/motd', 'hello from ${WHO}', 'EOT', ''].join('\n'),
  });
  await build(t, ['-t', 'heredocs', dir]);
  t.is(await run(t, 'heredocs', 'cat /ran /etc/motd'), 'ran by heredoc\nsecond\nhello from heredoc\n');
});

test('RUN as the image USER, in WORKDIR, with SHELL, and --network none', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: ['FROM bb', 'USER app', 'WORKDIR /tmp/work', 'SHELL ["/bin/sh", "-ec"]', 'RUN id -un > who; pwd > where; ls /sys/class/net > nets', ''].join('\n'),
  });
  await build(t, ['-t', 'runas', '--network', 'none', dir]);
  t.is(await run(t, 'runas', 'cat /tmp/work/who /tmp/work/where /tmp/work/nets'), 'app\n/tmp/work\nlo\n');
});

const contextFiles = { Dockerfile: 'FROM bb\nCOPY . /ctx/\n', 'a.txt': 'a', 'b.txt': 'b' };

test('contexts: a tarball on stdin is the build context', async (t) => {
  const ctx = await writeContext(t, contextFiles);
  const { spawnCli } = await import('../helpers/env');
  const fromStdin = await new Promise<number | null>((done) => {
    const child = spawnCli(store.root, ['build', '-q', '-t', 'from-tar', '-']);
    tarOf(ctx).pipe(child.stdin!);
    child.on('close', done);
  });
  t.is(fromStdin, 0);
  t.is(await run(t, 'from-tar', 'ls /ctx'), 'Dockerfile\na.txt\nb.txt\n');
});

test('contexts: a Dockerfile on stdin builds without a context', async (t) => {
  await build(t, ['-t', 'dockerfile-stdin', '-'], 'FROM bb\nRUN echo piped > /p\n');
  t.is(await run(t, 'dockerfile-stdin', 'cat /p'), 'piped\n');
});

test('contexts: -f outside the context, with the Dockerfile.dockerignore beside it applied', async (t) => {
  const ctx = await writeContext(t, contextFiles);
  const outside = await writeContext(t, { 'Special.Dockerfile': 'FROM bb\nCOPY . /ctx/\n', 'Special.Dockerfile.dockerignore': 'b.txt\n' });
  await build(t, ['-t', 'outside', '-f', join(outside, 'Special.Dockerfile'), ctx]);
  t.is(await run(t, 'outside', 'ls /ctx'), 'Dockerfile\na.txt\n');
});

test('hardlinks, special files, owners and modes survive a RUN layer', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: 'FROM bb\nRUN echo x > /a && ln /a /b && mkfifo /fifo && mknod /null2 c 1 3 && chmod 700 /tmp\n',
  });
  await build(t, ['-t', 'specials', dir]);
  const out = await run(t, 'specials', 'stat -c "%i %h" /a /b; stat -c %F /fifo; stat -c "%F %t:%T" /null2; stat -c %a /tmp');
  const [a, b, fifo, dev, tmp] = out.trim().split('\n');
  t.is(a, b);
  t.true(a.endsWith(' 2'));
  t.is(fifo, 'fifo');
  t.is(dev, 'character special file 1:3');
  t.is(tmp, '700');
});

test('build args: scoping, defaults, ENV over ARG, and the unused-arg warning', async (t) => {
  const dir = await writeContext(t, {
    Dockerfile: ['ARG BASE=bb', 'ARG GLOBAL=g', 'FROM ${BASE}', 'ARG GLOBAL', 'ARG LOCAL=default', 'ENV OVER=env', 'ARG OVER=arg', 'RUN echo "$GLOBAL $LOCAL $OVER" > /args', ''].join('\n'),
  });
  const r = await build(t, ['-t', 'args', '--build-arg', 'LOCAL=given', '--build-arg', 'OVER=flag', '--build-arg', 'NOBODY=x', dir]);
  t.regex(r.stderr, /One or more build-args \[NOBODY\] were not consumed/);
  t.is(await run(t, 'args', 'cat /args'), 'g given env\n');
});

test('a file capability survives a RUN that copies the file up, and works at run time', async (t) => {
  const { makeRootfs } = await import('../helpers/env');
  const scratch = await mkdtemp(join(tmpdir(), 'nbox-cap-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  const rootfs = await makeRootfs(scratch);
  // busybox picks its applet by name: a copy called sh is a shell with the capability.
  await mkdir(join(rootfs, 'opt'));
  execFileSync('cp', [join(rootfs, 'bin/busybox'), join(rootfs, 'opt/sh')]);
  // VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_RAW (bit 13).
  addon().lsetxattr(join(rootfs, 'opt/sh'), 'security.capability', Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', rootfs, '-cf', join(scratch, 'cap.tar'), '.']);
  const { createReadStream } = await import('node:fs');
  await store.nbox.importImage(createReadStream(join(scratch, 'cap.tar')), { tags: ['capbase:latest'] });
  const dir = await writeContext(t, { Dockerfile: 'FROM capbase\nRUN chmod 755 /opt/sh && touch /opt/sh\n' });
  await build(t, ['-t', 'capimg', dir]);
  const r = await cli(store.root, ['run', '--rm', '-u', 'app', 'capimg', '/opt/sh', '-c', 'grep CapEff /proc/$$/status']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'CapEff:\t0000000000002000\n');
});

// The RUN --mount tests share one image, built twice (a cache mount must keep its contents across builds) by whichever runs first.
let mountsBuilt: Promise<string> | undefined;
function buildMounts(t: ExecutionContext): Promise<string> {
  mountsBuilt ??= (async () => {
    const secretDir = await writeContext(shared, { token: 's3cret\n' });
    const dir = await writeContext(shared, {
    Dockerfile: [
      'FROM bb',
      'RUN --mount=type=cache,target=/var/cache/nbox-test echo run >> /var/cache/nbox-test/log && wc -l < /var/cache/nbox-test/log > /cache-count',
      'RUN --mount=type=bind,source=src,target=/src cat /src/input > /from-bind',
      'RUN --mount=type=tmpfs,target=/scratch echo tmp > /scratch/x && grep -c tmpfs /proc/mounts > /tmpfs-count',
      'RUN --mount=type=secret,id=token,required cat /run/secrets/token > /secret-seen',
      'RUN --mount=type=secret,id=token,env=TOKEN echo "$TOKEN" > /secret-env',
      '',
    ].join('\n'),
      'src/input': 'bound\n',
    });
    const secret = ['--secret', `id=token,src=${join(secretDir, 'token')}`];
    await build(t, ['-t', 'mounts', '--no-cache', ...secret, dir]);
    await build(t, ['-t', 'mounts', '--no-cache', ...secret, dir]);
    return dir;
  })();
  return mountsBuilt;
}

test('RUN --mount=type=cache keeps its contents across builds', async (t) => {
  await buildMounts(t);
  t.is(await run(t, 'mounts', 'cat /cache-count'), '2\n');
});

test('RUN --mount=type=bind shows the context', async (t) => {
  await buildMounts(t);
  t.is(await run(t, 'mounts', 'cat /from-bind'), 'bound\n');
});

test('RUN --mount=type=secret gives the secret as a file and as an env variable', async (t) => {
  await buildMounts(t);
  t.is(await run(t, 'mounts', 'cat /secret-seen /secret-env'), 's3cret\ns3cret\n');
});

test('RUN --mount: no cache, bind, tmpfs or secret mount is left in the layer', async (t) => {
  await buildMounts(t);
  t.is(await run(t, 'mounts', 'ls -A /var/cache 2>/dev/null; ls -A /run 2>/dev/null; ls /src /scratch 2>&1 | grep -c "No such"'), '2\n');
});

test('RUN --mount=type=secret,required without the secret fails at its line', async (t) => {
  const dir = await buildMounts(t);
  const missing = await cli(store.root, ['build', '--no-cache', dir]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /Dockerfile:5: secret token: not provided/);
});

// The flag tests share one image, built by whichever runs first.
let flagsBuilt: Promise<void> | undefined;
function buildFlags(t: ExecutionContext): Promise<void> {
  flagsBuilt ??= (async () => {
    const dir = await writeContext(shared, {
      Dockerfile: [
        `FROM --platform=${formatPlatform(HOST_PLATFORM)} bb`,
        'WORKDIR /srv',
        'WORKDIR app',
        'ADD --chown=app:staff --chmod=0640 data.txt ./',
        'COPY --from=bb /etc/passwd /copied-passwd',
        'HEALTHCHECK NONE',
        '',
      ].join('\n'),
      'data.txt': 'data\n',
    });
    await build(t, ['-t', 'flags', dir]);
  })();
  return flagsBuilt;
}

test('FROM --platform naming the host platform builds', async (t) => {
  await buildFlags(t);
  t.pass();
});

test('WORKDIR with a relative path resolves against the previous WORKDIR', async (t) => {
  await buildFlags(t);
  t.is(await run(t, 'flags', 'pwd'), '/srv/app\n');
});

test('ADD --chown by names and --chmod set the owner and mode', async (t) => {
  await buildFlags(t);
  t.is(await run(t, 'flags', 'stat -c "%U:%G %a" data.txt'), 'app:staff 640\n');
});

test('COPY --from an image copies from that image', async (t) => {
  await buildFlags(t);
  t.is(await run(t, 'flags', 'head -1 /copied-passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
});

test('HEALTHCHECK NONE is kept in the config', async (t) => {
  await buildFlags(t);
  const image = JSON.parse((await cli(store.root, ['inspect', 'flags'])).stdout)[0];
  t.deepEqual(image.Config.Healthcheck, { Test: ['NONE'] });
});

test('FROM --platform of another platform fails at its line', async (t) => {
  const other = await cli(store.root, ['build', await writeContext(t, { Dockerfile: 'FROM --platform=linux/arm64 bb\n' })]);
  t.is(other.code, 1);
  t.regex(other.stderr, /Dockerfile:1: .*linux\/arm64/);
});

test('EXPOSE takes tcp, udp and sctp in any case, kept lowercase; another protocol fails at its line', async (t) => {
  const dir = await writeContext(t, { Dockerfile: 'FROM bb\nEXPOSE 80/UDP 81/Sctp 82\n' });
  await build(t, ['-q', '-t', 'expose-protocols', dir]);
  const image = JSON.parse((await cli(store.root, ['inspect', 'expose-protocols'])).stdout)[0];
  t.deepEqual(Object.keys(image.Config.ExposedPorts).sort(), ['80/udp', '81/sctp', '82/tcp']);
  await buildFails(t, [await writeContext(t, { Dockerfile: 'FROM bb\nEXPOSE 80/bogus\n' })], /^nbox: Dockerfile:2: invalid proto: bogus$/m);
});
