/* compileSeccomp: a reduced seccomp profile compiled to BPF with libseccomp (see seccomp.cc). */
#ifndef NBOX_SECCOMP_H
#define NBOX_SECCOMP_H

#include <napi.h>

Napi::Value CompileSeccomp(const Napi::CallbackInfo &info);

#endif
