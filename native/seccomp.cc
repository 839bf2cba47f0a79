// compileSeccomp: a seccomp profile, already reduced by TypeScript to plain
// rules (runtime/seccomp.ts applies Docker's includes and excludes), compiled
// to classic BPF with libseccomp, as runc compiles it. The program goes to the
// child as data: between clone and execve it only calls seccomp().
#include "seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

struct FilterContext {
  scmp_filter_ctx ctx;
  explicit FilterContext(uint32_t action) : ctx(seccomp_init(action)) {}
  ~FilterContext() {
    if (ctx) seccomp_release(ctx);
  }
};

void ThrowCompile(Napi::Env env, const std::string &what, int err) {
  Napi::Error e = Napi::Error::New(env, "seccomp profile: " + what + ": " + strerror(err));
  e.Set("code", Napi::String::New(env, "ERR_NBOX_SECCOMP"));
  e.ThrowAsJavaScriptException();
}

// Each condition: {index, op (libseccomp's scmp_compare), value, valueTwo} with 64-bit values as decimal strings.
std::vector<scmp_arg_cmp> Conditions(Napi::Array args) {
  std::vector<scmp_arg_cmp> out;
  for (uint32_t i = 0; i < args.Length(); i++) {
    Napi::Object a = args.Get(i).As<Napi::Object>();
    scmp_arg_cmp cmp;
    memset(&cmp, 0, sizeof cmp);
    cmp.arg = a.Get("index").As<Napi::Number>().Uint32Value();
    cmp.op = (scmp_compare)a.Get("op").As<Napi::Number>().Uint32Value();
    cmp.datum_a = strtoull(a.Get("value").As<Napi::String>().Utf8Value().c_str(), nullptr, 10);
    cmp.datum_b = strtoull(a.Get("valueTwo").As<Napi::String>().Utf8Value().c_str(), nullptr, 10);
    out.push_back(cmp);
  }
  return out;
}

}  // namespace

// compileSeccomp({defaultAction, arches: ['x86', 'x32'], rules: [{names, action, args}]}) → Buffer of sock_filter.
Napi::Value CompileSeccomp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  FilterContext filter(o.Get("defaultAction").As<Napi::Number>().Uint32Value());
  if (!filter.ctx) {
    ThrowCompile(env, "seccomp_init", EINVAL);
    return env.Undefined();
  }
  // nbox sets no_new_privs itself when asked (runc does the same).
  int rc = seccomp_attr_set(filter.ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc == 0) rc = seccomp_attr_set(filter.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  Napi::Array arches = o.Get("arches").As<Napi::Array>();
  for (uint32_t i = 0; rc == 0 && i < arches.Length(); i++) {
    std::string name = arches.Get(i).As<Napi::String>().Utf8Value();
    uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    if (arch == 0) {
      ThrowCompile(env, "unknown architecture " + name, EINVAL);
      return env.Undefined();
    }
    rc = seccomp_arch_add(filter.ctx, arch);
    if (rc == -EEXIST) rc = 0;
  }
  if (rc < 0) {
    ThrowCompile(env, "seccomp_arch_add", -rc);
    return env.Undefined();
  }
  Napi::Array rules = o.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    uint32_t action = rule.Get("action").As<Napi::Number>().Uint32Value();
    std::vector<scmp_arg_cmp> args = Conditions(rule.Get("args").As<Napi::Array>());
    std::string name = rule.Get("name").As<Napi::String>().Utf8Value();
    // A name no architecture of the filter knows is skipped, as runc skips it (profiles list other arches' calls).
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;
    rc = seccomp_rule_add_array(filter.ctx, action, nr, (unsigned)args.size(), args.data());
    if (rc < 0) {
      ThrowCompile(env, "rule for " + name, -rc);
      return env.Undefined();
    }
  }
  int fd = memfd_create("nbox-seccomp", MFD_CLOEXEC);
  if (fd < 0) {
    ThrowCompile(env, "memfd_create", errno);
    return env.Undefined();
  }
  rc = seccomp_export_bpf(filter.ctx, fd);
  std::vector<char> program;
  off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
  if (size > 0) {
    program.resize((size_t)size);
    if (pread(fd, program.data(), program.size(), 0) != size) size = -1;
  }
  int err = rc < 0 ? -rc : errno;
  close(fd);
  if (size <= 0) {
    ThrowCompile(env, "seccomp_export_bpf", err ? err : EIO);
    return env.Undefined();
  }
  return Napi::Buffer<char>::Copy(env, program.data(), program.size());
}
