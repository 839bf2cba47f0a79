// What the monitor needs to run a container's health probe (native/monitor.c,
// the health_* functions): the command to exec and its timings in ms, from
// the effective settings of health-config.ts.
import { probeSettings, type HealthConfig } from './health-config';

/** ProbeSpec is the monitor's probe: an empty argv runs none. */
export interface ProbeSpec {
  argv: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
  /** The timeout as Go prints a time.Duration, for Docker's "Health check exceeded timeout (30s)". */
  timeoutText: string;
}

/** probeSpec turns a container's HealthConfig into the monitor's probe. */
export function probeSpec(config: HealthConfig | undefined): ProbeSpec {
  const settings = probeSettings(config);
  if (!settings) return { argv: [], intervalMs: 0, timeoutMs: 0, startPeriodMs: 0, startIntervalMs: 0, retries: 0, timeoutText: '' };
  // CMD-SHELL runs its one string through the container's /bin/sh, as Docker does.
  const argv = settings.test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', settings.test.slice(1).join(' ')] : settings.test.slice(1);
  // Whole ms, at least one: the monitor's timers count in ms.
  const ms = (ns: number) => Math.max(1, Math.round(ns / 1e6));
  return {
    argv,
    intervalMs: ms(settings.intervalNs),
    timeoutMs: ms(settings.timeoutNs),
    startPeriodMs: settings.startPeriodNs === 0 ? 0 : ms(settings.startPeriodNs),
    startIntervalMs: ms(settings.startIntervalNs),
    retries: settings.retries,
    timeoutText: goDuration(settings.timeoutNs),
  };
}

/** goDuration is Go's time.Duration.String of ns nanoseconds: `500ms`, `1.5s`, `1m30s`, `1h0m0s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const abs = BigInt(Math.abs(Math.round(ns)));
  const fraction = (value: bigint, unit: bigint) => {
    const whole = value / unit;
    const rest = (value % unit).toString().padStart(unit.toString().length - 1, '0').replace(/0+$/, '');
    return rest === '' ? `${whole}` : `${whole}.${rest}`;
  };
  if (abs < 1000n) return `${sign}${abs}ns`;
  if (abs < 1_000_000n) return `${sign}${fraction(abs, 1000n)}µs`;
  if (abs < 1_000_000_000n) return `${sign}${fraction(abs, 1_000_000n)}ms`;
  const hours = abs / 3_600_000_000_000n;
  const minutes = (abs / 60_000_000_000n) % 60n;
  const seconds = fraction(abs % 60_000_000_000n, 1_000_000_000n);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
