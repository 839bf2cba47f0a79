// N-API surface of nbox: spawn a container init, wait for it, signal it, and
// the few system calls Node's fs lacks. Plain values in and out; TypeScript
// validates every argument first, so this file assumes well-formed input.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/mount.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "child.h"
#include "inroot.h"
#include "seccomp.h"
#include "tree.h"
#include "netlink.h"
#include "nft-ports.h"
#include "spawnfds.h"
#include <arpa/inet.h>
#include "wire.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace {

Napi::FunctionReference sys_error_class;
std::string exec_helper_path;
std::string monitor_path;
int exec_memfd = -1;

const char *ErrnoName(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

// SysError{step, syscall, errno, errnoName, path, message}, as a value.
Napi::Value SysErrorValue(Napi::Env env, const std::string &step, const std::string &syscall_name, int err,
                          const std::string &path) {
  std::string message = step + ": " + syscall_name;
  if (!path.empty()) message += " " + path;
  message += ": " + std::string(strerror(err));
  Napi::Object fields = Napi::Object::New(env);
  fields.Set("step", step);
  fields.Set("syscall", syscall_name);
  fields.Set("errno", err);
  fields.Set("errnoName", ErrnoName(err));
  if (!path.empty()) fields.Set("path", path);
  fields.Set("message", message);
  if (sys_error_class.IsEmpty()) return Napi::Error::New(env, message).Value();
  return sys_error_class.New({fields});
}

// Throws the SysError SysErrorValue makes.
void ThrowSysError(Napi::Env env, const std::string &step, const std::string &syscall_name, int err,
                   const std::string &path) {
  Napi::Error(env, SysErrorValue(env, step, syscall_name, err, path)).ThrowAsJavaScriptException();
}

std::vector<std::string> StringArray(Napi::Object obj, const char *key) {
  Napi::Array arr = obj.Get(key).As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

// An optional string array: absent reads as empty.
std::vector<std::string> OptionalStringArray(Napi::Object obj, const char *key) {
  return obj.Get(key).IsArray() ? StringArray(obj, key) : std::vector<std::string>{};
}

// A mount's propagation mode (Docker's name; absent, and a tmpfs's, read as "": rprivate).
std::string BindPropagation(Napi::Object mount) {
  Napi::Value propagation = mount.Get("propagation");
  return propagation.IsString() ? propagation.As<Napi::String>().Utf8Value() : "";
}

// --ulimit triples (resource, soft, hard; -1 is unlimited), validated by TypeScript.
std::vector<child_rlimit> Rlimits(const std::vector<std::string> &triples) {
  std::vector<child_rlimit> out;
  for (size_t i = 0; i + 2 < triples.size(); i += 3)
    out.push_back({atoi(triples[i].c_str()), (unsigned long long)strtoll(triples[i + 1].c_str(), nullptr, 10),
                   (unsigned long long)strtoll(triples[i + 2].c_str(), nullptr, 10)});
  return out;
}

std::vector<char *> CStringVector(std::vector<std::string> &strings) {
  std::vector<char *> out;
  out.reserve(strings.size() + 1);
  for (auto &s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

Napi::Value Init(const Napi::CallbackInfo &info) {
  sys_error_class = Napi::Persistent(info[0].As<Napi::Function>());
  exec_helper_path = info[1].As<Napi::String>().Utf8Value();
  monitor_path = info[2].As<Napi::String>().Utf8Value();
  return info.Env().Undefined();
}

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

// Copies nbox-exec into a memfd and seals it, once per process: a container
// can run that copy but never write it, and it is no file of the host.
int SealedExecHelper(std::string &failed_syscall) {
  if (exec_memfd >= 0) return exec_memfd;
  int src = open(exec_helper_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) return failed_syscall = "open", -1;
  int fd = memfd_create("nbox-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("nbox-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    int err = errno;
    close(src);
    return failed_syscall = "memfd_create", errno = err, -1;
  }
  // In the kernel: one sendfile per call rather than a read and a write per 64 KiB (every start pays it).
  ssize_t got;
  while ((got = sendfile(fd, src, nullptr, 1 << 30)) > 0 || (got < 0 && errno == EINTR)) {
  }
  int err = errno;
  close(src);
  if (got < 0) {
    close(fd);
    return failed_syscall = "copy", errno = err, -1;
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    err = errno;
    close(fd);
    return failed_syscall = "fcntl", errno = err, -1;
  }
  return exec_memfd = fd;
}

// The path a failed step was working on, for the error message.
std::string StepPath(const child_error &err, const child_spec &spec, const std::vector<std::string> &lowers,
                     const std::vector<std::string> &bind_sources, const std::vector<std::string> &bind_targets) {
  switch (err.step) {
    case STEP_MOUNT_OVERLAY:
      if (err.index >= 0 && (size_t)err.index < lowers.size()) return lowers[err.index];
      return spec.rootfs;
    case STEP_PIVOT_ROOT:
      return spec.rootfs;
    case STEP_BIND_PREPARE:
      if (err.index >= 0 && (size_t)err.index < bind_sources.size()) return bind_sources[err.index];
      return "";
    case STEP_BIND_MOUNT:
      if (err.index >= 0 && (size_t)err.index < bind_targets.size()) return bind_targets[err.index];
      return "";
    case STEP_MOUNT_PROC:
      return "/proc";
    case STEP_MOUNT_DEV:
    case STEP_DEVICE_NODES:
      return "/dev";
    case STEP_MOUNT_DEVPTS:
      return "/dev/pts";
    case STEP_MOUNT_SHM:
      return "/dev/shm";
    case STEP_MOUNT_MQUEUE:
      return "/dev/mqueue";
    case STEP_MOUNT_SYS:
      return "/sys";
    case STEP_WORKDIR:
    case STEP_CHDIR:
      return spec.cwd;
    case STEP_EXEC:
      return spec.argv[0];
    case STEP_CGROUP:
      if (err.index >= 0 && (size_t)err.index < spec.ncgroups) return spec.cgroup_join_files[err.index];
      return "";
    default:
      return "";
  }
}

// ProcessSpec holds the buffers of what spawn and join share: the command, its
// identity, stdio, cgroups and the sealed exec helper. ReadProcessSpec points a
// child_spec into it, so it stays in place (no copies) until child_spawn returns.
struct ProcessSpec {
  std::vector<std::string> argv, envs, cgroup_join_files;
  std::vector<char *> argv_c, env_c, exec_argv;
  std::vector<const char *> cgroup_join_files_c;
  std::vector<gid_t> groups;
  std::vector<child_rlimit> rlimits;
  std::vector<std::string> sysctls, device_paths;
  std::vector<const char *> sysctls_c;
  std::vector<child_device> devices;
  std::vector<sock_filter> filter;
  std::string cwd;
  std::string exec_name = "nbox-exec";
  // nbox-exec ERROR_FD COMMAND...: the fd number is written in by child_spawn.
  char exec_fd_arg[CHILD_EXEC_ARG_MAX] = "";
  ProcessSpec() = default;
  ProcessSpec(const ProcessSpec &) = delete;
  ProcessSpec &operator=(const ProcessSpec &) = delete;
};

// SecurityDevices reads `devices: [{path, mode, major, minor, uid, gid}]`.
std::vector<child_device> SecurityDevices(Napi::Object o, std::vector<std::string> &paths) {
  std::vector<child_device> devices;
  Napi::Value list = o.Get("devices");
  if (!list.IsArray()) return devices;
  Napi::Array array = list.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) paths.push_back(array.Get(i).As<Napi::Object>().Get("path").As<Napi::String>().Utf8Value());
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Object d = array.Get(i).As<Napi::Object>();
    auto number = [&](const char *key) { return d.Get(key).As<Napi::Number>().Uint32Value(); };
    devices.push_back({paths[i].c_str(), (mode_t)number("mode"), number("major"), number("minor"), (uid_t)number("uid"), (gid_t)number("gid")});
  }
  return devices;
}

// ReadSecurity reads seccompFilter (a Buffer of sock_filter, or null: unconfined), caps, noNewPrivs, privileged, readonlyRootfs, sysctls
// (flat name, value pairs) and devices; TypeScript always gives caps.
void ReadSecurity(Napi::Object o, ProcessSpec &p, child_spec &spec) {
  Napi::Value filter = o.Get("seccompFilter");
  if (filter.IsBuffer()) {
    Napi::Buffer<char> program = filter.As<Napi::Buffer<char>>();
    p.filter.resize(program.Length() / sizeof(sock_filter));
    memcpy(p.filter.data(), program.Data(), p.filter.size() * sizeof(sock_filter));
    spec.filter = p.filter.data();
    spec.filter_len = (unsigned short)p.filter.size();
  }
  spec.caps = (uint64_t)o.Get("caps").As<Napi::Number>().Int64Value();
  spec.no_new_privs = o.Get("noNewPrivs").ToBoolean().Value();
  spec.privileged = o.Get("privileged").ToBoolean().Value();
  spec.readonly_rootfs = o.Get("readonlyRootfs").ToBoolean().Value();
  if (o.Get("sysctls").IsArray()) p.sysctls = StringArray(o, "sysctls");
  for (auto &text : p.sysctls) p.sysctls_c.push_back(text.c_str());
  spec.sysctls = p.sysctls_c.data();
  spec.nsysctls = p.sysctls_c.size() / 2;
  p.devices = SecurityDevices(o, p.device_paths);
  spec.devices = p.devices.data();
  spec.ndevices = p.devices.size();
}

// ReadProcessSpec fills p from the JS spec and clears spec to point into it; false after throwing.
bool ReadProcessSpec(Napi::Env env, Napi::Object o, ProcessSpec &p, child_spec &spec) {
  p.argv = StringArray(o, "argv");
  p.envs = StringArray(o, "env");
  p.argv_c = CStringVector(p.argv);
  p.env_c = CStringVector(p.envs);
  p.cwd = o.Get("cwd").As<Napi::String>().Utf8Value();
  Napi::Array groups_js = o.Get("groups").As<Napi::Array>();
  for (uint32_t i = 0; i < groups_js.Length(); i++) p.groups.push_back(groups_js.Get(i).As<Napi::Number>().Uint32Value());
  p.cgroup_join_files = StringArray(o, "cgroupJoinFiles");
  for (auto &procs : p.cgroup_join_files) p.cgroup_join_files_c.push_back(procs.c_str());
  p.rlimits = Rlimits(OptionalStringArray(o, "rlimits"));
  std::string failed_syscall;
  int exec_fd = SealedExecHelper(failed_syscall);
  if (exec_fd < 0) {
    ThrowSysError(env, "exec-helper", failed_syscall, errno, exec_helper_path);
    return false;
  }
  p.exec_argv = {p.exec_name.data(), p.exec_fd_arg};
  p.exec_argv.insert(p.exec_argv.end(), p.argv_c.begin(), p.argv_c.end());

  Napi::Array stdio = o.Get("stdio").As<Napi::Array>();
  memset(&spec, 0, sizeof spec);
  spec.argv = p.argv_c.data();
  spec.envp = p.env_c.data();
  spec.cwd = p.cwd.c_str();
  spec.uid = o.Get("uid").As<Napi::Number>().Uint32Value();
  spec.gid = o.Get("gid").As<Napi::Number>().Uint32Value();
  spec.groups = p.groups.data();
  spec.ngroups = p.groups.size();
  ReadSecurity(o, p, spec);
  for (uint32_t i = 0; i < 3; i++) spec.stdio[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
  spec.cgroup_join_files = p.cgroup_join_files_c.data();
  spec.ncgroups = p.cgroup_join_files_c.size();
  spec.rlimits = p.rlimits.data();
  spec.nrlimits = p.rlimits.size();
  spec.exec_fd = exec_fd;
  spec.exec_argv = p.exec_argv.data();
  spec.exec_fd_arg = p.exec_fd_arg;
  spec.join_pidfd = -1;
  spec.console_fd = -1;
  return true;
}

// Console is the socket pair a -t child sends its pty master over; the spec's
// `terminal: {rows, cols}` asks for one. Both ends close with it.
struct Console {
  int fds[2] = {-1, -1};
  Console() = default;
  Console(const Console &) = delete;
  Console &operator=(const Console &) = delete;
  ~Console() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
  // Open makes the pair when the spec asks for a terminal; false after throwing.
  bool Open(Napi::Env env, Napi::Object o, child_spec &spec) {
    Napi::Value terminal = o.Get("terminal");
    if (!terminal.IsObject()) return true;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
      ThrowSysError(env, child_step_name(STEP_TERMINAL), "socketpair", errno, "");
      return false;
    }
    Napi::Object size = terminal.As<Napi::Object>();
    spec.console_fd = fds[1];
    spec.console_rows = (unsigned short)size.Get("rows").As<Napi::Number>().Uint32Value();
    spec.console_cols = (unsigned short)size.Get("cols").As<Napi::Number>().Uint32Value();
    return true;
  }
  // Receive takes the master the child sent before it exec'd (close-on-exec), or -1 with errno.
  int Receive() {
    close(fds[1]);
    fds[1] = -1;
    return child_console_receive(fds[0]);
  }
};

// Spawned is spawn's and join's result: {pid, pidfd}, and with a terminal its
// master as `terminal`. A master that did not arrive ends the command it was for.
Napi::Value Spawned(Napi::Env env, const spawn_result &res, Console &console) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", res.pid);
  out.Set("pidfd", res.pidfd);
  if (console.fds[0] < 0) return out;
  int master = console.Receive();
  if (master < 0) {
    int err = errno;
    if (res.pidfd >= 0) {
      syscall(SYS_pidfd_send_signal, res.pidfd, SIGKILL, nullptr, 0);
      siginfo_t info;
      while (waitid((idtype_t)P_PIDFD, (id_t)res.pidfd, &info, WEXITED) < 0 && errno == EINTR) {
      }
      close(res.pidfd);
    }
    ThrowSysError(env, child_step_name(STEP_TERMINAL), "recvmsg", err, "");
    return env.Undefined();
  }
  out.Set("terminal", master);
  return out;
}

Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();

  // Every buffer the child reads is built here, before the clone.
  ProcessSpec process;
  child_spec spec;
  Console console;
  if (!ReadProcessSpec(env, o, process, spec) || !console.Open(env, o, spec)) return env.Undefined();
  std::vector<std::string> lowers = StringArray(o, "lowerDirs");
  std::vector<const char *> lower_c;
  for (auto &l : lowers) lower_c.push_back(l.c_str());
  std::string hostname = o.Get("hostname").As<Napi::String>().Utf8Value();
  std::string netns = o.Get("netns").IsString() ? o.Get("netns").As<Napi::String>().Utf8Value() : "";
  std::string rootfs = o.Get("rootfs").As<Napi::String>().Utf8Value();
  std::string upper = o.Get("upperDir").As<Napi::String>().Utf8Value();
  std::string work = o.Get("workDir").As<Napi::String>().Utf8Value();

  Napi::Array mounts_js = o.Get("mounts").As<Napi::Array>();
  std::vector<std::string> bind_sources, bind_targets, tmpfs_options;
  std::vector<child_bind> binds(mounts_js.Length());
  for (uint32_t i = 0; i < mounts_js.Length(); i++) {
    Napi::Object m = mounts_js.Get(i).As<Napi::Object>();
    Napi::Value tmpfs = m.Get("tmpfs");
    bind_sources.push_back(tmpfs.IsString() ? "" : m.Get("source").As<Napi::String>().Utf8Value());
    tmpfs_options.push_back(tmpfs.IsString() ? tmpfs.As<Napi::String>().Utf8Value() : "");
    bind_targets.push_back(m.Get("target").As<Napi::String>().Utf8Value());
    binds[i].readonly = m.Get("readonly").ToBoolean().Value();
    binds[i].is_file = m.Get("isFile").ToBoolean().Value();
    Napi::Value source_fd = m.Get("sourceFd");
    binds[i].source_fd = source_fd.IsNumber() ? source_fd.As<Napi::Number>().Int32Value() : -1;
    std::string propagation = BindPropagation(m);
    if (child_propagation(propagation.c_str(), &binds[i].propagation) < 0) {
      Napi::TypeError::New(env, "invalid propagation mode: " + propagation).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  for (size_t i = 0; i < binds.size(); i++) {
    bool is_tmpfs = mounts_js.Get(i).As<Napi::Object>().Get("tmpfs").IsString();
    binds[i].source = is_tmpfs ? nullptr : bind_sources[i].c_str();
    binds[i].tmpfs_options = is_tmpfs ? tmpfs_options[i].c_str() : nullptr;
    binds[i].target = bind_targets[i].c_str();
  }

  // A source the caller resolved comes as an fd. open_tree refuses a mount of another mount namespace, and
  // the child has its own: the detached copy of the tree is made here, private so that nothing mounted
  // under it propagates to the host's peers, and the child attaches it.
  std::vector<int> trees;
  auto close_trees = [&trees]() {
    for (int tree : trees) close(tree);
  };
  for (size_t i = 0; i < binds.size(); i++) {
    if (binds[i].source_fd < 0) continue;
    int tree = (int)syscall(SYS_open_tree, binds[i].source_fd, "",
                            AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    struct mount_attr attr = {};
    attr.propagation = MS_PRIVATE;
    const char *failed = tree < 0 ? "open_tree" : nullptr;
    if (tree >= 0) {
      trees.push_back(tree);
      if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) failed = "mount_setattr";
    }
    if (failed) {
      int err = errno;
      close_trees();
      ThrowSysError(env, child_step_name(STEP_BIND_PREPARE), failed, err, bind_sources[i]);
      return env.Undefined();
    }
    binds[i].source_fd = tree;
  }

  spec.chown_cwd = o.Get("chownCwd").ToBoolean().Value();
  spec.hostname = hostname.c_str();
  spec.rootfs = rootfs.c_str();
  spec.lower_dirs = lower_c.data();
  spec.nlower = lower_c.size();
  spec.upper_dir = upper.c_str();
  spec.work_dir = work.c_str();
  spec.new_network = o.Get("newNetwork").ToBoolean().Value();
  spec.netns_path = netns.empty() ? NULL : netns.c_str();
  spec.binds = binds.data();
  spec.nbinds = binds.size();

  spawn_result res;
  child_error err;
  int spawned = child_spawn(&spec, &res, &err);
  close_trees();
  if (spawned < 0) {
    ThrowSysError(env, child_step_name(err.step), err.syscall, err.err,
                  StepPath(err, spec, lowers, bind_sources, bind_targets));
    return env.Undefined();
  }
  // The init's mount namespace (child_spawn's mount_ns) goes to the caller, who closes it once the init exited.
  int mount_ns = res.mount_ns;
  Napi::Value out = Spawned(env, res, console);
  if (env.IsExceptionPending() || !out.IsObject()) {
    if (mount_ns >= 0) close(mount_ns);
    return out;
  }
  if (mount_ns >= 0) out.As<Napi::Object>().Set("mountNamespace", mount_ns);
  return out;
}

// join(spec): a promise of a command in a running container, joined through
// the pidfd of its init (child.c's join mode); same result and errors as
// spawn. Made on the thread pool: a command the container stops before its
// exec holds the join for child.c's JOIN_START_TIMEOUT_MS, which must not
// stop this process's loop (nbox serve's, a test harness's).
class JoinWorker : public Napi::AsyncWorker {
 public:
  explicit JoinWorker(Napi::Env env) : Napi::AsyncWorker(env, "nbox:join"), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Reads the spec; false after throwing. Every buffer the child reads lives in this worker until it is done.
  bool Read(Napi::Env env, Napi::Object o) {
    if (!ReadProcessSpec(env, o, process_, spec_)) return false;
    spec_.detach = o.Get("detach").ToBoolean().Value();
    // A detached command has nobody to hold its terminal's master.
    if (!spec_.detach && !console_.Open(env, o, spec_)) return false;
    spec_.hostname = "";
    spec_.rootfs = "";
    spec_.join_pidfd = o.Get("pidfd").As<Napi::Number>().Int32Value();
    return true;
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { rc_ = child_spawn(&spec_, &res_, &err_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ < 0) {
      deferred_.Reject(SysErrorValue(env, child_step_name(err_.step), err_.syscall, err_.err, StepPath(err_, spec_, {}, {}, {})));
      return;
    }
    Napi::Value out = Spawned(env, res_, console_);
    if (env.IsExceptionPending()) deferred_.Reject(env.GetAndClearPendingException().Value());
    else deferred_.Resolve(out);
  }

 private:
  Napi::Promise::Deferred deferred_;
  ProcessSpec process_;
  child_spec spec_;
  Console console_;
  spawn_result res_;
  child_error err_;
  int rc_ = 0;
};

Napi::Value Join(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  JoinWorker *join = new JoinWorker(env);
  if (!join->Read(env, info[0].As<Napi::Object>())) {
    delete join;
    return env.Undefined();
  }
  Napi::Promise promise = join->Promise();
  join->Queue();
  return promise;
}

// setWindowSize(fd, rows, cols): TIOCSWINSZ on a terminal (a container's pty master).
Napi::Value SetWindowSize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct winsize size;
  memset(&size, 0, sizeof size);
  size.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  size.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  if (ioctl(fd, TIOCSWINSZ, &size) < 0) ThrowSysError(env, child_step_name(STEP_TERMINAL), "ioctl", errno, "");
  return env.Undefined();
}

// pidfdOpen(pid): a close-on-exec pidfd of the process, or null when there is none (ESRCH).
// ExitNow ends this process at once (_exit): the CLI's last step, once its loop
// is empty and its 'exit' listeners ran. exit() would first run the C
// library's and Node's own teardown, for memory the kernel takes back anyway.
Napi::Value ExitNow(const Napi::CallbackInfo &info) {
  _exit(info[0].As<Napi::Number>().Int32Value());
}

Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) return Napi::Number::New(env, fd);
  if (errno == ESRCH) return env.Null();
  ThrowSysError(env, "pidfd-open", "pidfd_open", errno, "");
  return env.Undefined();
}

// One pending wait: a uv_poll on the pidfd, resolved from the loop thread.
// The pidfd stays the caller's: closing it here would let a later kill() on
// the same number reach whichever process got that fd next.
struct Waiter {
  uv_poll_t poll;
  int pidfd;
  napi_env env;
  Napi::Promise::Deferred deferred;
  // The resolve runs from a raw libuv callback: without a callback scope the
  // promise's reactions would wait for some unrelated JS callback to run.
  Napi::AsyncContext context;
  Waiter(napi_env e, int fd)
      : pidfd(fd), env(e), deferred(Napi::Promise::Deferred::New(e)), context(Napi::Env(e), "nbox:wait") {}
};

void OnWaiterClosed(uv_handle_t *handle) { delete static_cast<Waiter *>(handle->data); }

void OnPidfdReadable(uv_poll_t *handle, int status, int /*events*/) {
  Waiter *w = static_cast<Waiter *>(handle->data);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::CallbackScope callback_scope(env, w->context);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc = status < 0 ? -1 : waitid((idtype_t)P_PIDFD, (id_t)w->pidfd, &si, WEXITED | WNOHANG);
  if (rc == 0 && si.si_pid == 0) return;  // readable but not yet reapable: keep polling
  if (rc < 0) {
    int err = status < 0 ? -status : errno;
    w->deferred.Reject(Napi::Error::New(env, std::string("waitid: ") + strerror(err)).Value());
  } else {
    Napi::Object out = Napi::Object::New(env);
    bool signaled = si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
    out.Set("exitCode", signaled ? env.Null() : Napi::Number::New(env, si.si_status));
    out.Set("signal", signaled ? Napi::Number::New(env, si.si_status) : env.Null());
    w->deferred.Resolve(out);
  }
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnWaiterClosed);
}

Napi::Value Wait(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  Waiter *w = new Waiter(env, pidfd);
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, pidfd);
  if (rc == 0) rc = uv_poll_start(&w->poll, UV_READABLE, OnPidfdReadable);
  if (rc != 0) {
    Napi::Promise promise = w->deferred.Promise();
    w->deferred.Reject(Napi::Error::New(env, std::string("uv_poll: ") + uv_strerror(rc)).Value());
    delete w;
    return promise;
  }
  // wait(pidfd, true): the wait does not keep the loop alive, so this process may end first (a program
  // that only has its exit left to do).
  if (info.Length() > 1 && info[1].ToBoolean().Value()) uv_unref(reinterpret_cast<uv_handle_t *>(&w->poll));
  return w->deferred.Promise();
}


// The start of a detached container (monitor.c, monitor-proto.h): one
// pending reply of the monitor on its socket, a uv_poll resolved from the loop
// thread as Waiter is. A FAILED reply is worded as a foreground start's
// SysError, so the spec's strings StepPath needs are kept here.
struct MonitorReply {
  uv_poll_t poll;
  int fd;
  bool hello;  // waiting for HELLO, else for STARTED or FAILED
  bool keep_fd = false;  // HELLO came: the fd is the caller's now
  bool attach = false;   // STARTED of an attaching SPEC: the fd goes on as the caller's attach connection
  pid_t spawned = -1;    // the monitor's first process, which forks it and exits: reaped once the socket speaks
  napi_env env;
  Napi::Promise::Deferred deferred;
  Napi::AsyncContext context;
  std::vector<std::string> argv, lowers, cgroup_join_files, bind_sources, bind_targets;
  std::string rootfs, cwd;
  MonitorReply(napi_env e, int socket, bool h)
      : fd(socket), hello(h), env(e), deferred(Napi::Promise::Deferred::New(e)), context(Napi::Env(e), "nbox:monitor") {}
};

void OnMonitorClosed(uv_handle_t *handle) {
  MonitorReply *r = static_cast<MonitorReply *>(handle->data);
  if (!r->keep_fd) close(r->fd);
  delete r;
}

// The SysError of a FAILED reply, its path as a foreground start gives it.
Napi::Value MonitorFailure(Napi::Env env, MonitorReply *r, const mon_failed &failed) {
  if (failed.step < 0) return SysErrorValue(env, std::string(failed.step_name, strnlen(failed.step_name, sizeof failed.step_name)),
                                            std::string(failed.syscall, strnlen(failed.syscall, sizeof failed.syscall)), failed.err, "");
  child_error err;
  memset(&err, 0, sizeof err);
  err.step = failed.step;
  err.err = failed.err;
  err.index = failed.index;
  memcpy(err.syscall, failed.syscall, sizeof err.syscall);
  err.syscall[sizeof err.syscall - 1] = '\0';
  std::vector<char *> argv_c = CStringVector(r->argv);
  std::vector<const char *> procs_c;
  for (auto &p : r->cgroup_join_files) procs_c.push_back(p.c_str());
  child_spec spec;
  memset(&spec, 0, sizeof spec);
  spec.argv = argv_c.data();
  spec.rootfs = r->rootfs.c_str();
  spec.cwd = r->cwd.c_str();
  spec.cgroup_join_files = procs_c.data();
  spec.ncgroups = procs_c.size();
  return SysErrorValue(env, child_step_name(err.step), err.syscall, err.err, StepPath(err, spec, r->lowers, r->bind_sources, r->bind_targets));
}

void OnMonitorReadable(uv_poll_t *handle, int status, int /*events*/) {
  MonitorReply *r = static_cast<MonitorReply *>(handle->data);
  Napi::Env env(r->env);
  Napi::HandleScope scope(env);
  Napi::CallbackScope callback_scope(env, r->context);
  mon_hdr hdr;
  union {
    mon_process process;
    mon_failed failed;
  } msg;
  // uv_poll made the fd non-blocking: a frame is read whole, blocking (the monitor sends it at once).
  int flags = fcntl(r->fd, F_GETFL);
  if (flags >= 0) fcntl(r->fd, F_SETFL, flags & ~O_NONBLOCK);
  int got = status < 0 ? -1 : wire_recv(r->fd, &hdr, &msg, sizeof msg);
  int err = status < 0 ? -status : errno;
  // HELLO (or EOF) comes after the fork: the first process has exited, or is about to.
  if (r->spawned > 0) {
    int wstatus;
    while (waitpid(r->spawned, &wstatus, 0) < 0 && errno == EINTR) {
    }
    r->spawned = -1;
  }
  if (r->hello && got == 1 && hdr.type == MON_HELLO && hdr.len == sizeof msg.process) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("fd", r->fd);
    out.Set("pid", msg.process.pid);
    out.Set("startTime", (double)msg.process.start);
    r->keep_fd = true;
    r->deferred.Resolve(out);
  } else if (!r->hello && got == 1 && hdr.type == MON_STARTED && hdr.len == sizeof msg.process) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("pid", msg.process.pid);
    out.Set("pidStartTime", (double)msg.process.start);
    r->keep_fd = r->attach;
    r->deferred.Resolve(out);
  } else if (!r->hello && got == 1 && hdr.type == MON_FAILED && hdr.len == sizeof msg.failed) {
    r->deferred.Reject(MonitorFailure(env, r, msg.failed));
  } else {
    std::string what = got < 0 ? std::string(": ") + strerror(err) : "";
    r->deferred.Reject(Napi::Error::New(env, std::string("nbox-monitor exited before ") +
                                                 (r->hello ? "it was ready" : "the container started") + what).Value());
  }
  uv_poll_stop(&r->poll);
  uv_close(reinterpret_cast<uv_handle_t *>(&r->poll), OnMonitorClosed);
}

Napi::Promise PollMonitor(Napi::Env env, MonitorReply *r) {
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  r->poll.data = r;
  int rc = uv_poll_init(loop, &r->poll, r->fd);
  if (rc == 0) rc = uv_poll_start(&r->poll, UV_READABLE, OnMonitorReadable);
  Napi::Promise promise = r->deferred.Promise();
  if (rc != 0) {
    close(r->fd);
    if (r->spawned > 0) waitpid(r->spawned, nullptr, 0);
    r->deferred.Reject(Napi::Error::New(env, std::string("uv_poll: ") + uv_strerror(rc)).Value());
    delete r;
  }
  return promise;
}

// A monitor's spawn, made on the thread pool: posix_spawn's vfork holds the
// calling thread until the monitor's execve, which the main thread would
// otherwise wait out on every start instead of reading the image.
struct MonitorSpawn {
  uv_work_t work;
  MonitorReply *reply;
  std::string id, fault;
  bool ready_netns;
  int exec_fd;
  int socket = -1;
  pid_t pid = -1;
  int err = 0;
  const char *failed = "";
};

void SpawnMonitorWork(uv_work_t *req) {
  MonitorSpawn *s = static_cast<MonitorSpawn *>(req->data);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    s->err = errno;
    s->failed = "socketpair";
    return;
  }
  // Above 4, so that the dup2s onto 3 and 4 cannot overwrite each other's source.
  int child_socket = fcntl(sv[1], F_DUPFD_CLOEXEC, 5);
  int child_exec = fcntl(s->exec_fd, F_DUPFD_CLOEXEC, 5);
  int err = errno;
  close(sv[1]);
  int rc = child_socket < 0 || child_exec < 0 ? err : 0;
  if (rc == 0) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&actions, 0, 1);
    posix_spawn_file_actions_adddup2(&actions, 0, 2);
    posix_spawn_file_actions_adddup2(&actions, child_socket, MON_SOCKET_FD);
    posix_spawn_file_actions_adddup2(&actions, child_exec, MON_EXEC_FD);
    posix_spawnattr_t attr;
    spawn_attr_default_signals(&attr, 0);
    std::string name = "nbox-monitor";
    std::string netns = "netns";
    char *argv[] = {name.data(), s->id.data(), s->ready_netns ? netns.data() : nullptr, nullptr};
    char *envp[] = {s->fault.empty() ? nullptr : s->fault.data(), nullptr};
    rc = posix_spawn(&s->pid, monitor_path.c_str(), &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    s->failed = "posix_spawn";
  } else {
    s->failed = "fcntl";
  }
  if (child_socket >= 0) close(child_socket);
  if (child_exec >= 0) close(child_exec);
  if (rc != 0) {
    close(sv[0]);
    s->err = rc;
    return;
  }
  s->socket = sv[0];
}

void SpawnMonitorDone(uv_work_t *req, int /*status*/) {
  MonitorSpawn *s = static_cast<MonitorSpawn *>(req->data);
  MonitorReply *r = s->reply;
  Napi::Env env(r->env);
  Napi::HandleScope scope(env);
  Napi::CallbackScope callback_scope(env, r->context);
  if (s->err != 0) {
    r->deferred.Reject(SysErrorValue(env, "monitor", s->failed, s->err, monitor_path));
    delete r;
  } else {
    // It forks the monitor and exits at once (a failed fork shows as EOF on the socket): reaped when the
    // socket speaks. The promise was the caller's from the start; a failed poll rejects it.
    r->fd = s->socket;
    r->spawned = s->pid;
    PollMonitor(env, r);
  }
  delete s;
}

// spawnMonitor(id, readyNetns): posix_spawns nbox-monitor (glibc's CLONE_VFORK: no code of
// this threaded process runs in the child) with the start socket on fd 3, the
// sealed nbox-exec on fd 4, /dev/null on 0-2, no env; with readyNetns it makes
// a network namespace while it waits for the spec (monitor.c). Resolves on its HELLO
// with {fd, pid, startTime}. The caller hands fd to startInMonitor, or closes it.
Napi::Value SpawnMonitor(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  MonitorReply *r = new MonitorReply(env, -1, true);
  Napi::Promise promise = r->deferred.Promise();
  std::string failed_syscall;
  int exec_fd = SealedExecHelper(failed_syscall);
  if (exec_fd < 0) {
    r->deferred.Reject(SysErrorValue(env, "exec-helper", failed_syscall, errno, exec_helper_path));
    delete r;
    return promise;
  }
  MonitorSpawn *s = new MonitorSpawn();
  s->work.data = s;
  s->reply = r;
  s->id = info[0].As<Napi::String>().Utf8Value();
  s->ready_netns = info[1].ToBoolean().Value();
  s->exec_fd = exec_fd;
  // No env, but a fault test's step of the monitor (src/runtime/fault.ts): never a secret.
  const char *stop_at = getenv("NBOX_TEST_STOP_AT");
  if (stop_at && strncmp(stop_at, "monitor:", 8) == 0) s->fault = std::string("NBOX_TEST_STOP_AT=") + stop_at;
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_queue_work(loop, &s->work, SpawnMonitorWork, SpawnMonitorDone);
  if (rc != 0) {
    r->deferred.Reject(Napi::Error::New(env, std::string("uv_queue_work: ") + uv_strerror(rc)).Value());
    delete r;
    delete s;
  }
  return promise;
}

// spawnProgram(path, argv, fds, env): posix_spawns a host program (spawn_fds: no
// copy of this process's memory is made, and none of its code runs in the
// child) in a session of its own, with fds[i] on fd i (-1: /dev/null, for 0-2)
// and no other fd, env's NAME=value strings (none when not given) and default
// signals. Returns {pid, pidfd}; the caller waits on pidfd. child_process would
// fork all of Node for it.
Napi::Value SpawnProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Array args = info[1].As<Napi::Array>();
  Napi::Array fds_js = info[2].As<Napi::Array>();
  std::vector<std::string> words;
  for (uint32_t i = 0; i < args.Length(); i++) words.push_back(args.Get(i).As<Napi::String>().Utf8Value());
  std::vector<char *> argv;
  for (auto &word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::vector<int> fds;
  for (uint32_t i = 0; i < fds_js.Length(); i++) fds.push_back(fds_js.Get(i).As<Napi::Number>().Int32Value());
  std::vector<std::string> entries;
  if (info[3].IsArray()) {
    Napi::Array env_js = info[3].As<Napi::Array>();
    for (uint32_t i = 0; i < env_js.Length(); i++) entries.push_back(env_js.Get(i).As<Napi::String>().Utf8Value());
  }
  std::vector<char *> envp;
  for (auto &entry : entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const char *failed = "";
  pid_t pid = -1;
  int rc = spawn_fds(&pid, path.c_str(), argv.data(), envp.data(), fds.data(), (int)fds.size(), &failed);
  if (rc != 0) {
    ThrowSysError(env, "spawn", failed, rc, path);
    return env.Undefined();
  }
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    int err = errno;
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ThrowSysError(env, "spawn", "pidfd_open", err, path);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", pid);
  out.Set("pidfd", pidfd);
  return out;
}

// FilterHex is the seccomp program as hex for the SPEC (whose strings end at a NUL); "" for none.
std::string FilterHex(Napi::Object o) {
  Napi::Value filter = o.Get("seccompFilter");
  if (!filter.IsBuffer()) return "";
  Napi::Buffer<unsigned char> program = filter.As<Napi::Buffer<unsigned char>>();
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(program.Length() * 2);
  for (size_t i = 0; i < program.Length(); i++) {
    hex.push_back(digits[program.Data()[i] >> 4]);
    hex.push_back(digits[program.Data()[i] & 15]);
  }
  return hex;
}

// MonitorDevices flattens devices for the SPEC: path, mode, major, minor, uid, gid each.
std::vector<std::string> MonitorDevices(Napi::Object o) {
  std::vector<std::string> paths, out;
  for (const child_device &d : SecurityDevices(o, paths))
    out.insert(out.end(), {d.path, std::to_string(d.mode), std::to_string(d.major), std::to_string(d.minor), std::to_string(d.uid),
                           std::to_string(d.gid)});
  return out;
}

// startInMonitor(fd, spawnSpec, monitorSpec): sends the SPEC, with monitorSpec.portFds (the caller's copies
// stay open: its to close); resolves on
// STARTED with {pid, pidStartTime}, rejects on FAILED with the SysError a
// foreground spawn would throw. The fd is closed either way, but for a
// STARTED of a SPEC with attach flags: then it is the caller's attach connection.
Napi::Value StartInMonitor(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Object o = info[1].As<Napi::Object>();
  Napi::Object m = info[2].As<Napi::Object>();
  MonitorReply *r = new MonitorReply(env, fd, false);
  r->argv = StringArray(o, "argv");
  r->lowers = StringArray(o, "lowerDirs");
  r->cgroup_join_files = StringArray(o, "cgroupJoinFiles");
  r->rootfs = o.Get("rootfs").As<Napi::String>().Utf8Value();
  r->cwd = o.Get("cwd").As<Napi::String>().Utf8Value();
  std::vector<std::string> mounts;
  Napi::Array mounts_js = o.Get("mounts").As<Napi::Array>();
  for (uint32_t i = 0; i < mounts_js.Length(); i++) {
    Napi::Object mount = mounts_js.Get(i).As<Napi::Object>();
    bool tmpfs = mount.Get("tmpfs").IsString();
    std::string source = tmpfs ? "" : mount.Get("source").As<Napi::String>().Utf8Value();
    r->bind_sources.push_back(source);
    r->bind_targets.push_back(mount.Get("target").As<Napi::String>().Utf8Value());
    mounts.insert(mounts.end(), {tmpfs ? "tmpfs" : "bind", tmpfs ? mount.Get("tmpfs").As<Napi::String>().Utf8Value() : source,
                                 r->bind_targets.back(), mount.Get("readonly").ToBoolean().Value() ? "1" : "0",
                                 mount.Get("isFile").ToBoolean().Value() ? "1" : "0", BindPropagation(mount)});
  }
  std::vector<std::string> groups;
  Napi::Array groups_js = o.Get("groups").As<Napi::Array>();
  for (uint32_t i = 0; i < groups_js.Length(); i++) groups.push_back(std::to_string(groups_js.Get(i).As<Napi::Number>().Uint32Value()));
  auto text = [](Napi::Object obj, const char *key) { return obj.Get(key).ToString().Utf8Value(); };
  auto flag = [](bool value) { return std::string(value ? "1" : "0"); };
  Napi::Object health = m.Get("health").As<Napi::Object>();
  std::vector<int> port_fds;
  Napi::Array ports_js = m.Get("portFds").As<Napi::Array>();
  for (uint32_t i = 0; i < ports_js.Length(); i++) port_fds.push_back(ports_js.Get(i).As<Napi::Number>().Int32Value());
  std::vector<std::pair<std::string, std::vector<std::string>>> sections = {
      {"argv", r->argv},
      {"env", StringArray(o, "env")},
      {"cwd", {r->cwd}},
      {"uid", {text(o, "uid")}},
      {"gid", {text(o, "gid")}},
      {"groups", groups},
      {"hostname", {text(o, "hostname")}},
      {"rootfs", {r->rootfs}},
      {"lower", r->lowers},
      {"upper", {text(o, "upperDir")}},
      {"work", {text(o, "workDir")}},
      // "0": the host's network; "1": a namespace of its own; a path: the namespace kept there.
      {"net", {o.Get("netns").IsString() ? text(o, "netns") : flag(o.Get("newNetwork").ToBoolean().Value())}},
      {"seccomp", {FilterHex(o)}},
      {"caps", {std::to_string((uint64_t)o.Get("caps").As<Napi::Number>().Int64Value())}},
      {"nnp", {flag(o.Get("noNewPrivs").ToBoolean().Value())}},
      {"privileged", {flag(o.Get("privileged").ToBoolean().Value())}},
      {"readonly", {flag(o.Get("readonlyRootfs").ToBoolean().Value())}},
      {"sysctls", o.Get("sysctls").IsArray() ? StringArray(o, "sysctls") : std::vector<std::string>{}},
      {"devices", MonitorDevices(o)},
      {"mounts", mounts},
      {"cgroupJoinFiles", r->cgroup_join_files},
      {"cgroupDirs", StringArray(m, "cgroupDirs")},
      {"rlimits", OptionalStringArray(o, "rlimits")},
      {"id", {text(m, "id")}},
      {"name", {text(m, "name")}},
      {"store", {text(m, "store")}},
      {"log", {text(m, "log")}},
      {"logRotate", OptionalStringArray(m, "logRotate")},
      {"autoRemove", {flag(m.Get("autoRemove").ToBoolean().Value())}},
      {"restart", {text(m.Get("restart").As<Napi::Object>(), "name")}},
      {"restartMax", {text(m.Get("restart").As<Napi::Object>(), "maximumRetryCount")}},
      {"health", StringArray(m.Get("health").As<Napi::Object>(), "argv")},
      {"healthTimes", {text(health, "intervalMs"), text(health, "timeoutMs"), text(health, "startPeriodMs"),
                       text(health, "startIntervalMs"), text(health, "retries"), text(health, "timeoutText")}},
      {"tty", {flag(m.Get("tty").ToBoolean().Value())}},
      {"stdin", {flag(m.Get("stdin").ToBoolean().Value())}},
      {"attach", {text(m, "attach")}},
      {"ttySize", {text(m.Get("ttySize").As<Napi::Object>(), "rows"), text(m.Get("ttySize").As<Napi::Object>(), "cols")}},
      {"exitCommand", m.Get("exitCommand").IsArray() ? StringArray(m, "exitCommand") : std::vector<std::string>{}},
      {"exitLeases", OptionalStringArray(m, "exitLeases")},
      {"sessionOwner", OptionalStringArray(m, "sessionOwner")},
      {"ports", {std::to_string(port_fds.size())}},
      {"proxy", OptionalStringArray(m, "proxy")},
      {"proxyPorts", OptionalStringArray(m, "proxyPorts")},
  };
  r->attach = m.Get("attach").As<Napi::Number>().Uint32Value() != 0;
  wire_buf payload = {};
  for (auto &section : sections) {
    std::vector<const char *> strings;
    for (auto &s : section.second) strings.push_back(s.c_str());
    wire_section(&payload, section.first.c_str(), strings.data(), strings.size());
  }
  int err = payload.failed ? ENOMEM : payload.len > MON_SPEC_MAX ? E2BIG : 0;
  // Blocking (HELLO's uv_poll made it non-blocking): the monitor reads the whole spec at once.
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (err == 0 && wire_send_fds(fd, MON_SPEC, payload.data, (uint32_t)payload.len, port_fds.data(), port_fds.size()) < 0) err = errno;
  wire_buf_free(&payload);
  if (err != 0) {
    Napi::Promise promise = r->deferred.Promise();
    close(fd);
    r->deferred.Reject(SysErrorValue(env, "monitor", "send", err, ""));
    delete r;
    return promise;
  }
  return PollMonitor(env, r);
}

Napi::Value Kill(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0) return Napi::Boolean::New(env, true);
  if (errno == ESRCH) return Napi::Boolean::New(env, false);
  ThrowSysError(env, "kill", "pidfd_send_signal", errno, "");
  return env.Undefined();
}

Napi::Value TryLock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool exclusive = info[1].ToBoolean().Value();
  int rc;
  do rc = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  while (rc < 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  ThrowSysError(env, "lock", "flock", errno, "");
  return env.Undefined();
}

// lgetxattr(path, name): the value, or null when the file has no such attribute.
Napi::Value Lgetxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  for (;;) {
    ssize_t size = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) break;
    std::vector<char> value(size);
    ssize_t got = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (got >= 0) return Napi::Buffer<char>::Copy(env, value.data(), got);
    if (errno != ERANGE) break;  // grew between the calls: ask again
  }
  if (errno == ENODATA || errno == ENOTSUP) return env.Null();
  ThrowSysError(env, "xattr", "lgetxattr", errno, path);
  return env.Undefined();
}

// llistxattr(path): the names of the file's extended attributes.
Napi::Value Llistxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::vector<char> names;
  for (;;) {
    ssize_t size = llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) break;
    names.resize(size);
    ssize_t got = llistxattr(path.c_str(), names.data(), names.size());
    if (got >= 0) {
      names.resize(got);
      Napi::Array out = Napi::Array::New(env);
      uint32_t n = 0;
      for (size_t at = 0; at < names.size(); at += strlen(names.data() + at) + 1) out.Set(n++, std::string(names.data() + at));
      return out;
    }
    if (errno != ERANGE) break;
  }
  if (errno == ENOTSUP) return Napi::Array::New(env);
  ThrowSysError(env, "xattr", "llistxattr", errno, path);
  return env.Undefined();
}

// lsetxattr(path, name, value).
Napi::Value Lsetxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0)
    ThrowSysError(env, "xattr", "lsetxattr", errno, path);
  return env.Undefined();
}

// mknod(path, mode, major, minor): device nodes and overlay whiteouts (char 0:0).
Napi::Value Mknod(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  dev_t dev = makedev(info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value());
  if (mknod(path.c_str(), mode, dev) < 0) ThrowSysError(env, "mknod", "mknod", errno, path);
  return env.Undefined();
}

// pipe2(O_CLOEXEC): [readFd, writeFd], for container stdio the caller reads.
Napi::Value Pipe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    ThrowSysError(env, "pipe", "pipe2", errno, "");
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, fds[0]);
  out.Set(1u, fds[1]);
  return out;
}

// The device allow-list (runtime/cgroup.ts) as a cgroup v2 device program:
// mknod of any node, open of the standard character devices and the ptys
// (136:*); every other access is denied. (v1 writes the list to devices.allow.)
std::vector<bpf_insn> DeviceFilterProgram() {
  static const unsigned allowed[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}};
  std::vector<bpf_insn> p;
  std::vector<size_t> to_allow;
  auto insn = [&](uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i;
    memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst;
    i.src_reg = src;
    i.off = off;
    i.imm = imm;
    p.push_back(i);
  };
  auto jump_to_allow = [&](uint8_t op, uint8_t reg, int32_t imm) {
    to_allow.push_back(p.size());
    insn(BPF_JMP | op | BPF_K, reg, 0, 0, imm);
  };
  insn(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);  // r2 = access_type
  insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
  insn(BPF_ALU64 | BPF_AND | BPF_K, 3, 0, 0, 0xffff);  // r3 = device type
  insn(BPF_ALU64 | BPF_RSH | BPF_K, 2, 0, 0, 16);      // r2 = access
  insn(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);         // r4 = major
  insn(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);         // r5 = minor
  jump_to_allow(BPF_JEQ, 2, BPF_DEVCG_ACC_MKNOD);
  size_t not_char = p.size();
  insn(BPF_JMP | BPF_JNE | BPF_K, 3, 0, 0, BPF_DEVCG_DEV_CHAR);
  jump_to_allow(BPF_JEQ, 4, 136);
  for (auto &dev : allowed) {
    insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 1, dev[0]);
    jump_to_allow(BPF_JEQ, 5, dev[1]);
  }
  size_t deny = p.size();
  p[not_char].off = (int16_t)(deny - not_char - 1);
  insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
  insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  size_t allow = p.size();
  for (size_t at : to_allow) p[at].off = (int16_t)(allow - at - 1);
  insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
  insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return p;
}

// attachDeviceFilter(cgroupDir): loads the device program and attaches it to a v2 cgroup.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  std::vector<bpf_insn> program = DeviceFilterProgram();
  static const char license[] = "Apache-2.0";
  bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)program.data();
  load.insn_cnt = program.size();
  load.license = (uint64_t)(uintptr_t)license;
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
  if (prog < 0) {
    ThrowSysError(env, "cgroup-devices", "bpf", errno, dir);
    return env.Undefined();
  }
  int cgroup = open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int err = errno;
  if (cgroup >= 0) {
    bpf_attr attach;
    memset(&attach, 0, sizeof attach);
    attach.target_fd = cgroup;
    attach.attach_bpf_fd = prog;
    attach.attach_type = BPF_CGROUP_DEVICE;
    if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0) err = errno;
    else err = 0;
    close(cgroup);
  }
  close(prog);
  if (err != 0) ThrowSysError(env, "cgroup-devices", cgroup < 0 ? "open" : "bpf", err, dir);
  return env.Undefined();
}


// A root given as a directory path (opened here, closed by the destructor) or as an fd the caller owns.
struct Root {
  int fd = -1;
  bool owned = false;
  std::string shown;
  explicit Root(Napi::Value value) {
    if (value.IsNumber()) {
      fd = value.As<Napi::Number>().Int32Value();
      shown = "fd " + std::to_string(fd);
      return;
    }
    shown = value.As<Napi::String>().Utf8Value();
    fd = open(shown.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    owned = fd >= 0;
  }
  ~Root() {
    if (owned) close(fd);
  }
  // Throws the SysError for a root path that could not be opened; true when it was.
  bool Opened(Napi::Env env, const std::string &step) const {
    if (fd >= 0) return true;
    ThrowSysError(env, step, "open", errno, shown);
    return false;
  }
};

// openInRoot(root, path, {mkdir, mode}): an O_PATH fd of path resolved inside root.
Napi::Value OpenInRoot(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Root root(info[0]);
  std::string path = info[1].As<Napi::String>().Utf8Value();
  bool make_dirs = false;
  mode_t mode = 0755;
  if (info[2].IsObject()) {
    Napi::Object opts = info[2].As<Napi::Object>();
    make_dirs = opts.Get("mkdir").ToBoolean().Value();
    if (opts.Get("mode").IsNumber()) mode = opts.Get("mode").As<Napi::Number>().Uint32Value();
  }
  if (!root.Opened(env, "open-in-root")) return env.Undefined();
  const char *failed = "";
  int fd = inroot_open(root.fd, path.c_str(), make_dirs, mode, &failed);
  if (fd < 0) {
    int err = errno;
    ThrowSysError(env, "open-in-root", failed, err, root.shown + "/" + path);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// openFileInRoot(root, path, dev, ino): a readable fd of the regular file at path resolved inside root,
// which must be the file with that dev and ino (as JS numbers hold them, so compared as doubles).
Napi::Value OpenFileInRoot(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Root root(info[0]);
  std::string path = info[1].As<Napi::String>().Utf8Value();
  double dev = info[2].As<Napi::Number>().DoubleValue();
  double ino = info[3].As<Napi::Number>().DoubleValue();
  if (!root.Opened(env, "open-in-root")) return env.Undefined();
  const char *failed = "";
  struct stat st;
  int fd = inroot_open_file(root.fd, path.c_str(), &st, &failed);
  if (fd >= 0 && ((double)st.st_dev != dev || (double)st.st_ino != ino)) {
    close(fd);
    fd = -1;
    failed = "fstat";
    errno = ESTALE;
  }
  if (fd < 0) {
    int err = errno;
    ThrowSysError(env, "open-in-root", failed, err, root.shown + "/" + path);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// Seconds since the epoch as a timespec, as libuv turns the times Node's utimes takes (microseconds kept).
struct timespec ToTimespec(double seconds) {
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  ts.tv_nsec -= ts.tv_nsec % 1000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  return ts;
}

// copyFileInRoot(root, path, dev, ino, target, mode, mtimeMs): copies the regular file openFileInRoot would open
// into a new file target (never through a symlink) with that mode and mtime, all in one call.
Napi::Value CopyFileInRoot(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Value fd_value = OpenFileInRoot(info);
  if (env.IsExceptionPending()) return env.Undefined();
  int fd = fd_value.As<Napi::Number>().Int32Value();
  std::string target = info[4].As<Napi::String>().Utf8Value();
  mode_t mode = info[5].As<Napi::Number>().Uint32Value();
  struct timespec mtime = ToTimespec(info[6].As<Napi::Number>().DoubleValue() / 1000);
  const char *failed = "";
  int rc = copy_to_new_file(fd, target.c_str(), mode, mtime, &failed);
  int err = errno;
  close(fd);
  if (rc < 0) ThrowSysError(env, "copy", failed, err, target);
  return env.Undefined();
}

// removeEmptyBeneath(root, path): true when an empty file or directory was removed.
Napi::Value RemoveEmptyBeneath(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Root root(info[0]);
  std::string path = info[1].As<Napi::String>().Utf8Value();
  if (!root.Opened(env, "remove-stub")) return env.Undefined();
  const char *failed = "";
  int removed = inroot_remove_empty(root.fd, path.c_str(), &failed);
  if (removed < 0) {
    int err = errno;
    ThrowSysError(env, "remove-stub", failed, err, root.shown + "/" + path);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, removed == 1);
}

// removeTree(path): a promise of the tree's removal (tree.c), walked on the
// thread pool: one trip for the whole tree where fs.rm makes one per entry.
class TreeRemoval : public Napi::AsyncWorker {
 public:
  TreeRemoval(Napi::Env env, std::string path)
      : Napi::AsyncWorker(env, "nbox:remove-tree"), path_(std::move(path)), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    char where[256];
    rc_ = remove_tree(path_.c_str(), &failed_, where, sizeof where);
    err_ = errno;
    where_ = where;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ == 0) deferred_.Resolve(env.Undefined());
    else deferred_.Reject(SysErrorValue(env, "remove-tree", failed_, err_, where_.empty() ? path_ : path_ + "/…/" + where_));
  }

 private:
  std::string path_;
  Napi::Promise::Deferred deferred_;
  int rc_ = 0;
  int err_ = 0;
  const char *failed_ = "";
  std::string where_;
};

Napi::Value RemoveTree(const Napi::CallbackInfo &info) {
  TreeRemoval *removal = new TreeRemoval(info.Env(), info[0].As<Napi::String>().Utf8Value());
  Napi::Promise promise = removal->Promise();
  removal->Queue();
  return promise;
}

// The bridge network's plumbing (netlink.c): plain values in, SysError out.
uint32_t Ipv4(Napi::Value value) {
  in_addr addr{};
  inet_pton(AF_INET, value.As<Napi::String>().Utf8Value().c_str(), &addr);
  return addr.s_addr;
}

Napi::Value NetBridgeUp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  const char *failed = "";
  if (net_bridge_up(name.c_str(), Ipv4(info[1]), info[2].As<Napi::Number>().Int32Value(), &failed) < 0)
    ThrowSysError(env, "network-bridge", failed, errno, name);
  return env.Undefined();
}

// A request about one link by name: netlink.c's net_link_delete or net_link_down.
Napi::Value LinkRequest(const Napi::CallbackInfo &info, int (*request)(const char *, const char **)) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  const char *failed = "";
  if (request(name.c_str(), &failed) < 0) ThrowSysError(env, "network-link", failed, errno, name);
  return env.Undefined();
}

Napi::Value NetLinkDelete(const Napi::CallbackInfo &info) { return LinkRequest(info, net_link_delete); }

Napi::Value NetLinkDown(const Napi::CallbackInfo &info) { return LinkRequest(info, net_link_down); }

Napi::Value NetnsCreate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  const char *failed = "";
  if (net_netns_create(path.c_str(), &failed) < 0) ThrowSysError(env, "network-namespace", failed, errno, path);
  return env.Undefined();
}

Napi::Value NetnsRelease(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  const char *failed = "";
  if (net_netns_release(path.c_str(), &failed) < 0) ThrowSysError(env, "network-namespace", failed, errno, path);
  return env.Undefined();
}

Napi::Value NetVethAttach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  std::string netns = o.Get("netns").As<Napi::String>().Utf8Value();
  std::string bridge = o.Get("bridge").As<Napi::String>().Utf8Value();
  std::string host_if = o.Get("hostIf").As<Napi::String>().Utf8Value();
  std::string ns_if = o.Get("ifName").As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> mac = o.Get("mac").As<Napi::Buffer<uint8_t>>();
  if (mac.Length() != 6) {
    ThrowSysError(env, "network-veth", "mac", EINVAL, host_if);
    return env.Undefined();
  }
  const char *failed = "";
  if (net_veth_attach(netns.c_str(), bridge.c_str(), host_if.c_str(), ns_if.c_str(), mac.Data(), Ipv4(o.Get("address")),
                      o.Get("prefix").As<Napi::Number>().Int32Value(), Ipv4(o.Get("gateway")), &failed) < 0)
    ThrowSysError(env, "network-veth", failed, errno, host_if);
  return env.Undefined();
}

// nftPorts(table, add, ports): adds or deletes the published ports' elements in the table's DNAT maps
// (nft-ports.h); each port is {protocol, hostIp ("" any), hostPort, address, containerPort}, IPv4.
Napi::Value NftPorts(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string table = info[0].As<Napi::String>().Utf8Value();
  bool add = info[1].As<Napi::Boolean>().Value();
  Napi::Array list = info[2].As<Napi::Array>();
  std::vector<nft_port> ports(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object o = list.Get(i).As<Napi::Object>();
    std::string host_ip = o.Get("hostIp").As<Napi::String>().Utf8Value();
    ports[i].host_ip = host_ip.empty() ? 0 : Ipv4(o.Get("hostIp"));
    ports[i].address = Ipv4(o.Get("address"));
    ports[i].host_port = (uint16_t)o.Get("hostPort").As<Napi::Number>().Uint32Value();
    ports[i].container_port = (uint16_t)o.Get("containerPort").As<Napi::Number>().Uint32Value();
    ports[i].protocol = o.Get("protocol").As<Napi::String>().Utf8Value() == "udp" ? IPPROTO_UDP : IPPROTO_TCP;
  }
  const char *failed = "";
  if (nft_ports_change(table.c_str(), add, ports.data(), (int)ports.size(), &failed) < 0) ThrowSysError(env, "network-ports", failed, errno, table);
  return env.Undefined();
}

// bindPort(protocol, hostIp, port): a close-on-exec socket holding a published host port on hostIp ("" for
// every IPv4 address; an IPv6 address on IPv6 alone) and port (0: the kernel's choice), {fd, port}. No other
// socket can bind the port while it is open. TCP's listens, as podman's conmon holds its ports: a listening
// socket conflicts with every binder, SO_REUSEADDR ones too (so it may set SO_REUSEADDR itself and bind past a
// TIME_WAIT a stopped host server left, as Docker's proxy does), and `ss -ltnp` names its holder. An IPv4
// one is never accepted on (DNAT takes the port's traffic before it); nbox-proxy accepts on an IPv6 one. UDP's
// is bound without SO_REUSEADDR, which no other bind gets past.
Napi::Value BindPort(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  bool tcp = info[0].As<Napi::String>().Utf8Value() == "tcp";
  std::string host_ip = info[1].As<Napi::String>().Utf8Value();
  uint16_t port = (uint16_t)info[2].As<Napi::Number>().Uint32Value();
  bool v6 = host_ip.find(':') != std::string::npos;
  sockaddr_storage addr{};
  socklen_t len;
  if (v6) {
    auto *a = (sockaddr_in6 *)&addr;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    len = sizeof *a;
    if (inet_pton(AF_INET6, host_ip.c_str(), &a->sin6_addr) != 1) {
      ThrowSysError(env, "publish", "inet_pton", EINVAL, host_ip);
      return env.Undefined();
    }
  } else {
    auto *a = (sockaddr_in *)&addr;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = host_ip.empty() ? htonl(INADDR_ANY) : Ipv4(info[1]);
    len = sizeof *a;
  }
  std::string shown = v6 ? "[" + host_ip + "]:" + std::to_string(port) : (host_ip.empty() ? std::string("0.0.0.0") : host_ip) + ":" + std::to_string(port);
  int fd = socket(addr.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowSysError(env, "publish", "socket", errno, shown);
    return env.Undefined();
  }
  int one = 1;
  const char *failed = tcp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0   ? "setsockopt"
                       : v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0 ? "setsockopt"
                       : bind(fd, (sockaddr *)&addr, len) < 0                                   ? "bind"
                       : tcp && listen(fd, v6 ? SOMAXCONN : 0) < 0                              ? "listen"
                       : getsockname(fd, (sockaddr *)&addr, &len) < 0                           ? "getsockname"
                                                                                                : nullptr;
  if (failed) {
    int err = errno;
    close(fd);
    ThrowSysError(env, "publish", failed, err, shown);
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", fd);
  out.Set("port", ntohs(v6 ? ((sockaddr_in6 *)&addr)->sin6_port : ((sockaddr_in *)&addr)->sin_port));
  return out;
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("bindPort", Napi::Function::New(env, BindPort));
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("join", Napi::Function::New(env, Join));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow));
  exports.Set("setWindowSize", Napi::Function::New(env, SetWindowSize));
  exports.Set("wait", Napi::Function::New(env, Wait));
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("spawnMonitor", Napi::Function::New(env, SpawnMonitor));
  exports.Set("spawnProgram", Napi::Function::New(env, SpawnProgram));
  exports.Set("startInMonitor", Napi::Function::New(env, StartInMonitor));
  exports.Set("tryLock", Napi::Function::New(env, TryLock));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("netBridgeUp", Napi::Function::New(env, NetBridgeUp));
  exports.Set("netLinkDelete", Napi::Function::New(env, NetLinkDelete));
  exports.Set("netLinkDown", Napi::Function::New(env, NetLinkDown));
  exports.Set("netnsCreate", Napi::Function::New(env, NetnsCreate));
  exports.Set("netnsRelease", Napi::Function::New(env, NetnsRelease));
  exports.Set("netVethAttach", Napi::Function::New(env, NetVethAttach));
  exports.Set("nftPorts", Napi::Function::New(env, NftPorts));
  exports.Set("openInRoot", Napi::Function::New(env, OpenInRoot));
  exports.Set("openFileInRoot", Napi::Function::New(env, OpenFileInRoot));
  exports.Set("copyFileInRoot", Napi::Function::New(env, CopyFileInRoot));
  exports.Set("removeEmptyBeneath", Napi::Function::New(env, RemoveEmptyBeneath));
  exports.Set("removeTree", Napi::Function::New(env, RemoveTree));
  return exports;
}

}  // namespace

NODE_API_MODULE(nbox, Register)
