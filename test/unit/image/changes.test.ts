import test from 'ava';
import { parseChanges } from '../../../src/image/changes';
import { ImageConfigBody } from '../../../src/image/oci';

const cases: Array<[string[], ImageConfigBody]> = [
  [['CMD ["sh"]'], { Cmd: ['sh'] }],
  [['cmd echo hi  there'], { Cmd: ['/bin/sh', '-c', 'echo hi  there'] }],
  [['ENTRYPOINT ["/bin/app", "-v"]', 'CMD []'], { Entrypoint: ['/bin/app', '-v'], Cmd: [] }],
  [['ENTRYPOINT exec app'], { Entrypoint: ['/bin/sh', '-c', 'exec app'] }],
  [['ENV A=1 B="two words" C=\'$x\''], { Env: ['A=1', 'B=two words', 'C=$x'] }],
  [['ENV PATH /usr/bin:/bin', 'ENV GREETING hello  "big" world'], { Env: ['PATH=/usr/bin:/bin', 'GREETING=hello  big world'] }],
  [['ENV A=1 B=2', 'ENV A=3'], { Env: ['B=2', 'A=3'] }],
  [['WORKDIR /app', 'WORKDIR src/../lib'], { WorkingDir: '/app/lib' }],
  [['USER nobody:nogroup'], { User: 'nobody:nogroup' }],
  [['EXPOSE 80 53/udp 8000-8001/TCP'], { ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} } }],
  [['LABEL a=b "c d"=e', 'LABEL a=z'], { Labels: { a: 'z', 'c d': 'e' } }],
  [['VOLUME ["/data", "/logs"]', 'VOLUME /cache'], { Volumes: { '/data': {}, '/logs': {}, '/cache': {} } }],
  [['STOPSIGNAL SIGINT'], { StopSignal: 'SIGINT' }],
  [['ONBUILD RUN make', 'onbuild COPY . /src'], { OnBuild: ['RUN make', 'COPY . /src'] }],
];
for (const [changes, expected] of cases) {
  test(`parseChanges ${JSON.stringify(changes)}`, (t) => t.deepEqual(parseChanges(changes), expected));
}

const failures: Array<[string, string]> = [
  ['RUN make', '--change: unknown instruction "RUN"'],
  ['', '--change: unknown instruction ""'],
  ['CMD [', '--change "CMD [": invalid JSON'],
  ['CMD [1]', '--change "CMD [1]": expected a JSON array of strings'],
  ['CMD', '--change "CMD": CMD requires an argument'],
  ['EXPOSE http', '--change "EXPOSE http": invalid port "http"'],
  ['EXPOSE 70000', '--change "EXPOSE 70000": invalid port "70000"'],
  ['ENV A="unterminated', '--change "ENV A="unterminated": unterminated quote'],
  ['ENV A=1 junk', '--change "ENV A=1 junk": expected key=value, got "junk"'],
  ['ENV ALONE', '--change "ENV ALONE": missing value for ALONE'],
  ['ONBUILD FROM x', '--change "ONBUILD FROM x": FROM isn\'t allowed as an ONBUILD trigger'],
];
for (const [change, message] of failures) {
  test(`parseChanges rejects ${JSON.stringify(change)}`, (t) => {
    const err = t.throws(() => parseChanges([change]));
    t.is((err as { code?: string }).code, 'ERR_NBOX_USAGE');
    t.is(err?.message, message);
  });
}
