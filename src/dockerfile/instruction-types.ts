// The typed instructions: one interface per Dockerfile instruction, each with
// its syntax, and the unions the parser produces. Values are unexpanded text.

import type { RunMount } from './run-mount';

/** InstructionBase is what every instruction keeps of its source. */
export interface InstructionBase {
  startLine: number;
  endLine: number;
  /** form is `exec` when the arguments were a JSON array, `shell` otherwise. */
  form: 'exec' | 'shell';
  /** original is the instruction as BuildKit joins its lines (ONBUILD stores it, history shows it). */
  original: string;
  /** stepText is the instruction with continuations joined by single spaces, as `Step N/M :` shows it. */
  stepText: string;
}

/** KeyValue is one unexpanded `key=value` of ENV or LABEL. */
export interface KeyValue {
  key: string;
  value: string;
}

/** ArgDeclaration is one unexpanded `name[=default]` of ARG. */
export interface ArgDeclaration {
  key: string;
  defaultValue?: string;
}

/** HeredocFile is a heredoc body with `<<-` tabs already stripped; expand is false for a quoted word. */
export interface HeredocFile {
  name: string;
  content: string;
  expand: boolean;
  fileDescriptor: number;
}

/**
 * FromInstruction starts a stage.
 *
 *	FROM [--platform=linux/amd64] debian:bookworm [AS build]
 */
export interface FromInstruction extends InstructionBase {
  kind: 'FROM';
  image: string;
  platform?: string;
  /** stageName is the `AS` name, lower-cased. */
  stageName?: string;
}

/**
 * RunInstruction runs a command in the current image; shell form is one string for SHELL, exec form the argv.
 *
 *	RUN [--mount=type=cache,target=/root/.cache] [--network=none] apt-get update  # /bin/sh -c "apt-get update"
 *	RUN ["echo", "hi"]  # echo hi
 *	RUN <<EOF
 *	echo hi
 *	EOF
 */
export interface RunInstruction extends InstructionBase {
  kind: 'RUN';
  command: string[];
  heredocs: HeredocFile[];
  mounts: RunMount[];
  network: 'default' | 'none' | 'host';
  security: 'sandbox' | 'insecure';
}

/**
 * CmdInstruction sets the image's default command.
 *
 *	CMD echo hi         # /bin/sh -c "echo hi"
 *	CMD ["echo", "hi"]  # echo hi
 */
export interface CmdInstruction extends InstructionBase {
  kind: 'CMD';
  command: string[];
}

/**
 * EntrypointInstruction sets the image's entrypoint.
 *
 *	ENTRYPOINT exec app      # /bin/sh -c "exec app"
 *	ENTRYPOINT ["app", "-v"]
 */
export interface EntrypointInstruction extends InstructionBase {
  kind: 'ENTRYPOINT';
  command: string[];
}

/**
 * ShellInstruction sets the shell that wraps later shell-form commands; JSON only.
 *
 *	SHELL ["/bin/bash", "-c"]
 */
export interface ShellInstruction extends InstructionBase {
  kind: 'SHELL';
  shell: string[];
}

/**
 * EnvInstruction sets environment variables; the legacy form takes the rest of the line as the value.
 *
 *	ENV A=1 B="two words"
 *	ENV A one two  three   # A="one two  three"
 */
export interface EnvInstruction extends InstructionBase {
  kind: 'ENV';
  pairs: KeyValue[];
}

/**
 * ArgInstruction declares build arguments, with optional defaults.
 *
 *	ARG VERSION
 *	ARG VERSION=1.0 FLAVOR
 */
export interface ArgInstruction extends InstructionBase {
  kind: 'ARG';
  args: ArgDeclaration[];
}

/** CopySources are what COPY and ADD share: sources, heredoc files, destination and their flags. */
export interface CopySources extends InstructionBase {
  sources: string[];
  heredocs: HeredocFile[];
  dest: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  excludes: string[];
}

/**
 * CopyInstruction copies from the context, a stage or an image.
 *
 *	COPY [--from=build] [--chown=1:1] [--chmod=644] [--link] [--parents] [--exclude=*.md] src... dest
 *	COPY ["src", "dest"]
 *	COPY <<EOF /etc/motd
 */
export interface CopyInstruction extends CopySources {
  kind: 'COPY';
  from?: string;
  parents: boolean;
}

/**
 * AddInstruction is COPY that also fetches URLs and git repositories and unpacks local archives.
 *
 *	ADD [--chown=1:1] [--chmod=644] [--checksum=sha256:…] [--keep-git-dir] [--unpack=true] src... dest
 */
export interface AddInstruction extends CopySources {
  kind: 'ADD';
  checksum?: string;
  keepGitDir?: boolean;
  unpack?: boolean;
}

/**
 * WorkdirInstruction sets the working directory, relative to the previous one.
 *
 *	WORKDIR /app
 */
export interface WorkdirInstruction extends InstructionBase {
  kind: 'WORKDIR';
  path: string;
}

/**
 * UserInstruction sets the user (and group) later steps and the image run as.
 *
 *	USER app[:group]
 */
export interface UserInstruction extends InstructionBase {
  kind: 'USER';
  user: string;
}

/**
 * LabelInstruction adds image labels.
 *
 *	LABEL version="1.0" "com.example.vendor"=ACME
 */
export interface LabelInstruction extends InstructionBase {
  kind: 'LABEL';
  pairs: KeyValue[];
}

/**
 * MaintainerInstruction sets the image's author (deprecated); never expanded.
 *
 *	MAINTAINER Jane Doe <jane@example.com>
 */
export interface MaintainerInstruction extends InstructionBase {
  kind: 'MAINTAINER';
  maintainer: string;
}

/**
 * ExposeInstruction declares ports, each expanded into words at step time.
 *
 *	EXPOSE 80 443/tcp 53/udp
 */
export interface ExposeInstruction extends InstructionBase {
  kind: 'EXPOSE';
  ports: string[];
}

/**
 * VolumeInstruction declares mount points.
 *
 *	VOLUME /data /logs
 *	VOLUME ["/data"]
 */
export interface VolumeInstruction extends InstructionBase {
  kind: 'VOLUME';
  paths: string[];
}

/**
 * StopsignalInstruction sets the signal that stops a container.
 *
 *	STOPSIGNAL SIGINT
 */
export interface StopsignalInstruction extends InstructionBase {
  kind: 'STOPSIGNAL';
  signal: string;
}

/**
 * HealthcheckInstruction sets or disables the image's health check; durations are nanoseconds, 0 = the runtime's default.
 *
 *	HEALTHCHECK NONE                                         # ["NONE"]
 *	HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/  # ["CMD-SHELL", "curl -f http://localhost/"]
 *	HEALTHCHECK CMD ["/bin/check"]                           # ["CMD", "/bin/check"]
 */
export interface HealthcheckInstruction extends InstructionBase {
  kind: 'HEALTHCHECK';
  test: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  startIntervalNs: number;
  retries: number;
}

/**
 * OnbuildInstruction stores an instruction for builds that use this image in FROM.
 *
 *	ONBUILD RUN make   # expression "RUN make"
 */
export interface OnbuildInstruction extends InstructionBase {
  kind: 'ONBUILD';
  trigger: OnbuildTrigger;
  /** expression is the trigger's raw text, as the image's OnBuild list stores it. */
  expression: string;
}

/** Instruction is any instruction that may follow FROM in a stage. */
export type Instruction =
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | ArgInstruction
  | CopyInstruction
  | AddInstruction
  | WorkdirInstruction
  | UserInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | VolumeInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

/** OnbuildTrigger is an instruction ONBUILD may hold. */
export type OnbuildTrigger = Exclude<Instruction, OnbuildInstruction | MaintainerInstruction>;
