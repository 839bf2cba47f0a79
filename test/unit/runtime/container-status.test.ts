import test from 'ava';
import type { Store } from '../../../src/image/store';
import { matchesContainerFilters, parseContainerFilters } from '../../../src/runtime/container-filter';
import { healthStatus, stateName } from '../../../src/runtime/container-status';
import type { ContainerRecord } from '../../../src/runtime/container-record';
import { inspectContainer } from '../../../src/runtime/inspect';
import { NboxError } from '../../../src/errors';
import { STATES, record } from './records';

test("stateName is Docker's State.Status: paused and restarting are their own", (t) => {
  t.deepEqual(Object.fromEntries(Object.entries(STATES).map(([key, r]) => [key, stateName(r.state)])), {
    created: 'created', failedStart: 'exited', running: 'running', paused: 'paused', healthy: 'running', starting: 'running',
    unhealthy: 'running', restarting: 'restarting', exited: 'exited', exitedUnhealthy: 'exited',
  });
});

test('healthStatus is none without a health check run, else the recorded one (an empty one reads unhealthy)', (t) => {
  t.is(healthStatus(STATES.running.state), 'none');
  t.is(healthStatus(STATES.starting.state), 'starting');
  t.is(healthStatus(STATES.exitedUnhealthy.state), 'unhealthy');
  t.is(healthStatus(record({ health: { status: '' as 'starting', failingStreak: 0, log: [] } }).state), 'unhealthy');
});

function matching(spec: string[]): string[] {
  const filters = parseContainerFilters(spec);
  return Object.entries(STATES).filter(([, r]) => matchesContainerFilters(r, filters, () => false)).map(([key]) => key);
}

test('status filters match Docker state names, restarting and created included', (t) => {
  t.deepEqual(matching(['status=restarting']), ['restarting']);
  t.deepEqual(matching(['status=created']), ['created']);
  t.deepEqual(matching(['status=exited']), ['failedStart', 'exited', 'exitedUnhealthy']);
  t.deepEqual(matching(['status=paused', 'status=running']), ['running', 'paused', 'healthy', 'starting', 'unhealthy']);
});

test('health filters: none, starting, healthy, unhealthy, stopped containers included', (t) => {
  t.deepEqual(matching(['health=none']), ['created', 'failedStart', 'running', 'restarting', 'exited']);
  t.deepEqual(matching(['health=starting']), ['starting']);
  t.deepEqual(matching(['health=healthy']), ['paused', 'healthy']);
  t.deepEqual(matching(['health=unhealthy']), ['unhealthy', 'exitedUnhealthy']);
  t.deepEqual(matching(['health=unhealthy', 'status=running']), ['unhealthy']);
});

test('exited matches the exit code of an exited container only, not of one about to restart', (t) => {
  t.deepEqual(matching(['exited=0']), ['exited']);
  t.deepEqual(matching(['exited=1']), []);
  t.deepEqual(matching(['exited=127']), ['failedStart']);
  t.deepEqual(matching(['exited=3']), ['exitedUnhealthy']);
});

test("bad status, health and exited values are refused with the daemon's messages", (t) => {
  const refuse = (spec: string, message: string) => t.throws(() => parseContainerFilters([spec]), { instanceOf: NboxError, message });
  refuse('status=sleepy', "invalid filter 'status=sleepy': invalid value for state (sleepy): must be one of created, running, paused, restarting, removing, exited, dead");
  refuse('health=fine', "invalid filter 'health=fine': invalid value for health (fine): must be one of none, starting, healthy, unhealthy");
  refuse('exited=zero', 'invalid filter \'exited=zero\': strconv.Atoi: parsing "zero": invalid syntax');
});

test('before and since compare creation times with the named container\'s; publish matches a published container port or range', (t) => {
  const at = (iso: string, ports: Array<{ containerPort: number; protocol: 'tcp' | 'udp' }> = []) => {
    const r = record();
    return { ...r, config: { ...r.config, created: iso, ports: ports.map((p) => ({ ...p, hostIp: '', hostPort: 30000 + p.containerPort })) } };
  };
  const early = at('2026-01-01T00:00:00Z', [{ containerPort: 80, protocol: 'tcp' }]);
  const middle = at('2026-01-02T00:00:00Z', [{ containerPort: 53, protocol: 'udp' }]);
  const late = at('2026-01-03T00:00:00Z');
  const createdOf = (value: string) => ({ m: middle.config.created } as Record<string, string>)[value];
  const names = (spec: string[]) => ([['early', early], ['middle', middle], ['late', late]] as const)
    .filter(([, r]) => matchesContainerFilters(r, parseContainerFilters(spec), () => false, createdOf)).map(([name]) => name);
  t.deepEqual(names(['before=m']), ['early']);
  t.deepEqual(names(['since=m']), ['late']);
  t.deepEqual(names(['publish=80']), ['early']);
  t.deepEqual(names(['publish=50-90/udp']), ['middle']);
  t.deepEqual(names(['publish=8080']), []);
  t.throws(() => parseContainerFilters(['publish=http']), { message: "invalid filter 'publish=http'" });
});

// inspect reads only the image's config from the store; these records' image is gone.
const NO_IMAGES = { images: { resolve: () => Promise.reject(new Error('No such image')) } } as unknown as Store;

async function inspectState(r: ContainerRecord) {
  return (await inspectContainer(r, NO_IMAGES)).State;
}

test('inspect State: Running covers paused and restarting; Pid only while a process runs', async (t) => {
  const pick = ({ Status, Running, Paused, Restarting, Pid }: Awaited<ReturnType<typeof inspectState>>) => ({ Status, Running, Paused, Restarting, Pid });
  t.deepEqual(pick(await inspectState(STATES.running)), { Status: 'running', Running: true, Paused: false, Restarting: false, Pid: 4242 });
  t.deepEqual(pick(await inspectState(STATES.paused)), { Status: 'paused', Running: true, Paused: true, Restarting: false, Pid: 4242 });
  t.deepEqual(pick(await inspectState(STATES.restarting)), { Status: 'restarting', Running: true, Paused: false, Restarting: true, Pid: 0 });
  t.deepEqual(pick(await inspectState(STATES.created)), { Status: 'created', Running: false, Paused: false, Restarting: false, Pid: 0 });
  t.deepEqual(pick(await inspectState(STATES.exited)), { Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0 });
});

test('inspect State.Health, RestartCount and OOMKilled come from the record; Health only once one ran', async (t) => {
  const exited = await inspectContainer(STATES.exitedUnhealthy, NO_IMAGES);
  t.deepEqual(exited.State.Health, {
    Status: 'unhealthy', FailingStreak: 1,
    Log: [{ Start: '2026-06-01T11:59:58.000Z', End: '2026-06-01T11:59:58.100Z', ExitCode: 1, Output: 'probe output\n' }],
  });
  t.true(exited.State.OOMKilled);
  t.false('Health' in (await inspectState(STATES.running)));
  t.is((await inspectContainer(STATES.restarting, NO_IMAGES)).RestartCount, 2);
  t.is((await inspectContainer(STATES.exited, NO_IMAGES)).RestartCount, 0);
});

test('inspect: LogPath, HostConfig.RestartPolicy (no for an old record) and Config.Healthcheck', async (t) => {
  const old = await inspectContainer(STATES.exited, NO_IMAGES);
  t.is(old.LogPath, `${STATES.exited.dir}/${'a'.repeat(64)}-json.log`);
  t.deepEqual(old.HostConfig, {
    NetworkMode: 'none', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false,
    CapAdd: null, CapDrop: null, GroupAdd: null, Privileged: false, ReadonlyRootfs: false, SecurityOpt: null, Devices: [], DeviceCgroupRules: null,
    Binds: null, Tmpfs: null, PortBindings: {}, LogConfig: { Type: 'json-file', Config: {} },
    CgroupParent: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CpusetCpus: '', MemoryReservation: 0, MemorySwap: 0, OomKillDisable: false, PidsLimit: null, Ulimits: null,
  });
  t.false('Healthcheck' in old.Config);
  const configured = record({ status: 'exited', startedAt: STATES.exited.state.startedAt, finishedAt: STATES.exited.state.finishedAt });
  configured.config = {
    ...configured.config, restartPolicy: { name: 'on-failure', maximumRetryCount: 3 }, seccomp: false,
    healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5e9 },
  };
  const inspected = await inspectContainer(configured, NO_IMAGES);
  t.deepEqual(inspected.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  t.deepEqual(inspected.HostConfig.SecurityOpt, ['seccomp=unconfined']);
  t.deepEqual(inspected.Config.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9 });
  t.deepEqual(Object.keys(inspected.Config).slice(10, 13), ['Cmd', 'Healthcheck', 'Image'], "Docker's key order");
});
