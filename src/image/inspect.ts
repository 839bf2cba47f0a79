// `docker image inspect`'s JSON shape for an image in the store.
import type { ImageRecord } from './images';

/** ImageInspect mirrors the Docker Engine API's ImageInspect. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: Record<string, unknown>;
  Architecture: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** inspectImage renders an image record as Docker does. */
export function inspectImage(image: ImageRecord): ImageInspect {
  const body = image.config.config ?? {};
  const history = image.config.history ?? [];
  return {
    Id: image.id,
    RepoTags: image.tags,
    RepoDigests: image.repoDigests,
    Parent: '',
    Comment: history.length > 0 ? history[history.length - 1].comment ?? '' : '',
    Created: image.config.created ?? '',
    DockerVersion: '',
    Author: image.config.author ?? '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: body.User ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: body.ExposedPorts,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: body.Env ?? null,
      Cmd: body.Cmd ?? null,
      Healthcheck: body.Healthcheck,
      Image: '',
      Volumes: body.Volumes ?? null,
      WorkingDir: body.WorkingDir ?? '',
      Entrypoint: body.Entrypoint ?? null,
      OnBuild: body.OnBuild ?? null,
      Labels: body.Labels ?? null,
      StopSignal: body.StopSignal,
      Shell: body.Shell,
    },
    Architecture: image.config.architecture,
    Os: image.config.os,
    Size: image.size,
    GraphDriver: { Name: 'overlay', Data: null },
    RootFS: { Type: 'layers', Layers: image.config.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}
