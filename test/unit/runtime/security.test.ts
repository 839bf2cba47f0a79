import test from 'ava';

import {
  DEFAULT_CAPABILITIES, DEFAULT_CAPS, capabilityMask, effectiveCapabilities, hostCapabilities, parseDevice, processSecurity,
  securityConfig, seccompProfile,
} from '../../../src/runtime/security';

test('Docker default capabilities make the mask runc gives a root process (0xa80425fb)', (t) => {
  t.is(DEFAULT_CAPS, 0xa80425fb);
  t.is(capabilityMask(['CAP_CHOWN']), 1);
  t.is(capabilityMask(['CAP_CHECKPOINT_RESTORE']), 2 ** 40);
});

test('cap names are normalized as the docker CLI does: any case, CAP_ optional, sorted, added ones not dropped', (t) => {
  const config = securityConfig({ capAdd: ['net_admin', 'CAP_SYS_TIME', 'Net_Admin'], capDrop: ['chown', 'NET_ADMIN'] }, 'none');
  t.deepEqual(config.capAdd, ['CAP_NET_ADMIN', 'CAP_SYS_TIME']);
  t.deepEqual(config.capDrop, ['CAP_CHOWN']);
  t.deepEqual(securityConfig({ capDrop: ['chown', 'all'] }, 'none').capDrop, ['ALL']);
  t.throws(() => securityConfig({ capAdd: ['bogus'] }, 'none'), { message: 'invalid CapAdd: unknown capability: "CAP_BOGUS"' });
  t.throws(() => securityConfig({ capDrop: ['CAP_NOPE'] }, 'none'), { message: 'invalid CapDrop: unknown capability: "CAP_NOPE"' });
});

test("effective capabilities follow moby's TweakCapabilities: drop ALL then add; add ALL less the dropped", (t) => {
  const base = { capAdd: null, capDrop: null, privileged: false };
  t.deepEqual(effectiveCapabilities(base), DEFAULT_CAPABILITIES);
  t.deepEqual(effectiveCapabilities({ ...base, capDrop: ['ALL'], capAdd: ['CAP_NET_ADMIN'] }), ['CAP_NET_ADMIN']);
  t.deepEqual(effectiveCapabilities({ ...base, capDrop: ['CAP_CHOWN'], capAdd: ['CAP_SYS_ADMIN'] }), [...DEFAULT_CAPABILITIES.slice(1), 'CAP_SYS_ADMIN']);
  const all = hostCapabilities();
  t.deepEqual(effectiveCapabilities({ ...base, capAdd: ['ALL'], capDrop: ['CAP_SYS_ADMIN'] }), all.filter((cap) => cap !== 'CAP_SYS_ADMIN'));
  t.deepEqual(effectiveCapabilities({ ...base, privileged: true, capDrop: ['CAP_CHOWN'] }), all);
});

test('--device HOST[:CONTAINER][:PERMISSIONS] as the docker CLI parses it', (t) => {
  t.deepEqual(parseDevice('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  t.deepEqual(parseDevice('/dev/fuse:r'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'r' });
  t.deepEqual(parseDevice('/dev/fuse:/dev/f'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/f', CgroupPermissions: 'rwm' });
  t.deepEqual(parseDevice('/dev/fuse:/dev/f:mw'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/f', CgroupPermissions: 'mw' });
  t.throws(() => parseDevice('/dev/fuse:/dev/f:rr'), { message: 'invalid argument "/dev/fuse:/dev/f:rr" for "--device" flag: bad mode specified: rr' });
  t.throws(() => parseDevice('fuse'), { message: 'invalid argument "fuse" for "--device" flag: bad format for path: fuse' });
  t.throws(() => parseDevice('/a:/b:r:x'), { message: 'invalid argument "/a:/b:r:x" for "--device" flag: invalid device specification: /a:/b:r:x' });
});

test('--sysctl takes only namespaced names; net.* not with the host network', (t) => {
  t.deepEqual(securityConfig({ sysctls: ['net.ipv4.ip_forward=1', 'kernel.shmmax=1', 'fs.mqueue.msg_max=20'] }, 'none').sysctls,
    { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '20' });
  t.throws(() => securityConfig({ sysctls: ['kernel.hostname=x'] }, 'none'), { message: `invalid argument "kernel.hostname=x" for "--sysctl" flag: sysctl 'kernel.hostname=x' is not allowed` });
  t.throws(() => securityConfig({ sysctls: ['net.core.somaxconn'] }, 'none'), { message: /is not allowed/ });
  t.throws(() => securityConfig({ sysctls: ['net.core.somaxconn=1'] }, 'host'), { message: 'sysctl "net.core.somaxconn" not allowed in host network namespace' });
});

test('--security-opt: no-new-privileges with or without a value, seccomp special names, Docker messages', (t) => {
  t.true(processSecurity({ security: securityConfig({ securityOpt: ['no-new-privileges'] }, 'none') }).noNewPrivs);
  t.false(processSecurity({ security: securityConfig({ securityOpt: ['no-new-privileges:false'] }, 'none') }).noNewPrivs);
  t.true(processSecurity({ security: securityConfig({ securityOpt: ['no-new-privileges=true'] }, 'none') }).noNewPrivs);
  t.is(seccompProfile(securityConfig({ securityOpt: ['seccomp=unconfined'] }, 'none')), 'unconfined');
  t.is(seccompProfile(securityConfig({ securityOpt: ['seccomp:unconfined'] }, 'none')), 'unconfined');
  t.is(seccompProfile(securityConfig({ privileged: true }, 'none')), 'unconfined');
  t.is(seccompProfile(securityConfig({}, 'none')), 'builtin');
  t.throws(() => securityConfig({ securityOpt: ['foo'] }, 'none'), { message: 'Invalid --security-opt: "foo"' });
  t.throws(() => securityConfig({ securityOpt: ['foo=bar'] }, 'none'), { message: 'invalid --security-opt 2: "foo=bar"' });
  t.throws(() => securityConfig({ securityOpt: ['no-new-privileges=maybe'] }, 'none'), { message: 'invalid --security-opt 2: "no-new-privileges=maybe"' });
  t.throws(() => securityConfig({ securityOpt: ['seccomp=/nonexistent.json'] }, 'none'), { message: /^opening seccomp profile \(\/nonexistent.json\) failed/ });
});

test('--device-cgroup-rule is checked with the CLI message', (t) => {
  t.deepEqual(securityConfig({ deviceCgroupRules: ['c 1:3 mr', 'a *:* rwm'] }, 'none').deviceCgroupRules, ['c 1:3 mr', 'a *:* rwm']);
  t.throws(() => securityConfig({ deviceCgroupRules: ['c 1:3'] }, 'none'), { message: `invalid argument "c 1:3" for "--device-cgroup-rule" flag: invalid device cgroup format 'c 1:3'` });
});
