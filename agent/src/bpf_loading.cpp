#include "bpf_loading.h"

#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "leakwatch/error.h"
#include "leakwatch/log.h"

namespace lw::bpf_loading {
namespace {

// Loading tracing programs such as iterators needs CAP_BPF and CAP_PERFMON,
// or CAP_SYS_ADMIN on kernels from before they were split out.
bool has_bpf_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  auto has = [&](int cap) { return (data[cap / 32].effective & (1u << (cap % 32))) != 0; };
  constexpr int cap_perfmon = 38, cap_bpf = 39;
  return has(CAP_SYS_ADMIN) || (has(cap_bpf) && has(cap_perfmon));
}

int print_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
  const log::Level ours = level == LIBBPF_WARN ? log::Level::warn : log::Level::debug;
  if (!log::enabled(ours)) return 0;
  char line[1024];
  const int n = std::vsnprintf(line, sizeof(line), format, args);
  log::write(ours, fmt::format("libbpf: {}", line));
  return n;
}

}  // namespace

void route_libbpf_output() { libbpf_set_print(print_libbpf); }

void throw_load_failure(std::string_view program, std::string_view requirement, int err) {
  if (err == EPERM || err == EACCES) {
    if (!has_bpf_capabilities()) {
      throw Error(ErrorKind::no_privilege,
                  "missing privileges to load BPF programs: run as root, or grant CAP_BPF and CAP_PERFMON",
                  err);
    }
    throw Error(ErrorKind::bpf_refused,
                fmt::format("the kernel refused the BPF {} ({}): check kernel.unprivileged_bpf_disabled, "
                            "lockdown mode and seccomp profiles",
                            program, std::strerror(err)),
                err);
  }
  throw Error(ErrorKind::bpf_refused,
              fmt::format("the kernel refused the BPF {} ({}): it needs {}; run with --verbose for the verifier log",
                          program, std::strerror(err), requirement),
              err);
}

}  // namespace lw::bpf_loading
