// `--change` instructions (docker import/commit): the Dockerfile instructions
// that only edit the image config, applied in order to a config body.
import * as path from 'node:path';
import { NboxError } from '../errors';
import { ImageConfigBody } from './oci';

type Fail = (detail: string) => NboxError;
type Apply = (args: string, config: ImageConfigBody, fail: Fail) => void;

const instructions: Record<string, Apply> = {
  // CMD ["executable", "arg"] | CMD command line  (run by /bin/sh -c)
  CMD: (args, config, fail) => (config.Cmd = commandForm(args, fail)),
  // ENTRYPOINT ["executable", "arg"] | ENTRYPOINT command line
  ENTRYPOINT: (args, config, fail) => (config.Entrypoint = commandForm(args, fail)),
  // ENV KEY=value ... | ENV KEY value with spaces
  ENV: (args, config, fail) => {
    for (const [key, value] of nameValuePairs(args, fail)) {
      const env = (config.Env ?? []).filter((entry) => !entry.startsWith(`${key}=`));
      config.Env = [...env, `${key}=${value}`];
    }
  },
  // LABEL key=value ...
  LABEL: (args, config, fail) => {
    for (const [key, value] of nameValuePairs(args, fail)) config.Labels = { ...config.Labels, [key]: value };
  },
  // WORKDIR /path  (relative to the previous WORKDIR)
  WORKDIR: (args, config) => (config.WorkingDir = path.posix.resolve(config.WorkingDir ?? '/', unquote(args))),
  // USER user[:group]
  USER: (args, config) => (config.User = unquote(args)),
  // EXPOSE 80 8080/udp 9000-9002
  EXPOSE: (args, config, fail) => {
    for (const spec of words(args, fail)) {
      for (const port of exposedPorts(spec, fail)) config.ExposedPorts = { ...config.ExposedPorts, [port]: {} };
    }
  },
  // VOLUME ["/data"] | VOLUME /data /logs
  VOLUME: (args, config, fail) => {
    const volumes = args.startsWith('[') ? jsonStrings(args, fail) : words(args, fail);
    for (const volume of volumes) {
      if (volume === '') throw fail('VOLUME specified can not be an empty string');
      config.Volumes = { ...config.Volumes, [volume]: {} };
    }
  },
  // STOPSIGNAL SIGTERM
  STOPSIGNAL: (args, config) => (config.StopSignal = unquote(args)),
  // ONBUILD RUN make  (stored as text, run by a later build FROM this image)
  ONBUILD: (args, config, fail) => {
    const trigger = args.split(/\s/, 1)[0].toUpperCase();
    if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(trigger)) throw fail(`${trigger} isn't allowed as an ONBUILD trigger`);
    config.OnBuild = [...(config.OnBuild ?? []), args];
  },
};

/** parseChanges applies `--change` instructions, in order, to an empty image config body. */
export function parseChanges(changes: string[]): ImageConfigBody {
  return applyChanges(changes, {});
}

/** applyChanges applies `--change` instructions, in order, to a copy of config. */
export function applyChanges(changes: string[], base: ImageConfigBody): ImageConfigBody {
  const config: ImageConfigBody = { ...base };
  for (const change of changes) {
    const [, keyword = '', rest = ''] = /^\s*(\S*)\s*([\s\S]*)$/.exec(change) ?? [];
    const apply = instructions[keyword.toUpperCase()];
    if (!apply) throw new NboxError('ERR_NBOX_USAGE', `--change: unknown instruction "${keyword}"`);
    const fail: Fail = (detail) => new NboxError('ERR_NBOX_USAGE', `--change "${change}": ${detail}`);
    const args = rest.trim();
    if (args === '') throw fail(`${keyword.toUpperCase()} requires an argument`);
    apply(args, config, fail);
  }
  return config;
}

function commandForm(args: string, fail: Fail): string[] {
  return args.startsWith('[') ? jsonStrings(args, fail) : ['/bin/sh', '-c', args];
}

function jsonStrings(args: string, fail: Fail): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw fail('invalid JSON');
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) throw fail('expected a JSON array of strings');
  return parsed;
}

// nameValuePairs reads `k=v k2="v 2"`, or the legacy `k value with spaces` form when the first word has no '='.
function nameValuePairs(args: string, fail: Fail): Array<[string, string]> {
  const rawWords = splitWords(args, fail);
  if (!rawWords[0].includes('=')) {
    const value = args.slice(rawWords[0].length).trim();
    if (value === '') throw fail(`missing value for ${rawWords[0]}`);
    return [[unquote(rawWords[0]), unquote(value)]];
  }
  return rawWords.map((word) => {
    const equals = word.indexOf('=');
    if (equals <= 0) throw fail(`expected key=value, got "${word}"`);
    return [unquote(word.slice(0, equals)), unquote(word.slice(equals + 1))];
  });
}

function exposedPorts(spec: string, fail: Fail): string[] {
  const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  const first = Number(match?.[1]);
  const last = Number(match?.[2] ?? first);
  if (!match || first < 1 || last > 65535 || last < first) throw fail(`invalid port "${spec}"`);
  const protocol = (match[3] ?? 'tcp').toLowerCase();
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${protocol}`);
}

function words(args: string, fail: Fail): string[] {
  return splitWords(args, fail).map(unquote);
}

// splitWords splits on whitespace outside quotes, keeping the quotes in each word.
function splitWords(text: string, fail: Fail): string[] {
  const result: string[] = [];
  let word = '';
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && quote !== "'" && i + 1 < text.length) {
      word += char + text[++i];
    } else if (quote) {
      word += char;
      if (char === quote) quote = '';
    } else if (/\s/.test(char)) {
      if (word !== '') result.push(word);
      word = '';
    } else {
      word += char;
      if (char === '"' || char === "'") quote = char;
    }
  }
  if (quote) throw fail('unterminated quote');
  if (word !== '') result.push(word);
  return result;
}

// unquote removes shell quoting: '...' is literal, "..." and bare text honour backslash escapes.
function unquote(text: string): string {
  let result = '';
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && quote !== "'" && i + 1 < text.length && (quote === '' || '"\\$'.includes(text[i + 1]))) {
      result += text[++i];
    } else if (quote ? char === quote : char === '"' || char === "'") {
      quote = quote ? '' : char;
    } else {
      result += char;
    }
  }
  return result;
}
