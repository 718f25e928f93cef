#include "flags/shared_flags.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <filesystem>

#include "util/error.h"

namespace lw {
namespace {

std::optional<double> unit_milliseconds(std::string_view unit) {
  if (unit == "ms") return 1.0;
  if (unit == "s") return 1e3;
  if (unit == "m") return 60e3;
  if (unit == "h") return 3600e3;
  return std::nullopt;
}

std::optional<Backend> parse_backend(std::string_view text) {
  if (text == "auto") return Backend::automatic;
  if (text == "bpf") return Backend::bpf;
  if (text == "netlink") return Backend::netlink;
  return std::nullopt;
}

}  // namespace

void bad_value(std::string_view flag, std::string_view value, std::string_view advice) {
  throw Error(ErrorKind::usage, fmt::format("bad --{} '{}': {}", flag, value, advice));
}

void add_host_path_options(CLI::App& app, HostPaths& paths, std::string& host_root) {
  app.add_option("--host-root", host_root,
                 "Where the host's root is mounted: --host-proc, --host-cgroup and --host-log default to its "
                 "proc, sys/fs/cgroup and var/log")
      ->type_name("PATH");
  app.add_option("--host-proc", paths.proc, "Where the host's /proc is mounted")
      ->type_name("PATH")
      ->capture_default_str();
  app.add_option("--host-cgroup", paths.cgroup, "Where the host's /sys/fs/cgroup is mounted")
      ->type_name("PATH")
      ->capture_default_str();
  app.add_option("--host-log", paths.log,
                 "Where the host's /var/log is mounted: pod and container names come from the kubelet's "
                 "pods/ and containers/ directories in it")
      ->type_name("PATH")
      ->capture_default_str();
}

void place_under_host_root(const CLI::App& app, const std::string& host_root, HostPaths& paths) {
  if (host_root.empty()) return;
  std::error_code error;
  if (!std::filesystem::is_directory(host_root, error)) {
    bad_value("host-root", host_root, "use the directory where the host's / is mounted, e.g. /host");
  }
  const HostPaths under = host_paths_under(host_root);
  if (app.count("--host-proc") == 0) paths.proc = under.proc;
  if (app.count("--host-cgroup") == 0) paths.cgroup = under.cgroup;
  if (app.count("--host-log") == 0) paths.log = under.log;
}

void add_backend_options(CLI::App& app, BackendFlags& flags) {
  app.add_option("--backend", flags.backend,
                 "Where socket data comes from: bpf (the BPF iterator), netlink (sock_diag and /proc, where BPF "
                 "is refused), or auto: bpf, else netlink")
      ->type_name("auto|bpf|netlink")
      ->capture_default_str();
  app.add_option("--btf", flags.btf,
                 "BTF file of the running kernel, for kernels without /sys/kernel/btf/vmlinux (bpf backend)")
      ->type_name("FILE");
}

BackendChoice to_backend_choice(const BackendFlags& flags) {
  BackendChoice choice;
  const auto backend = parse_backend(flags.backend);
  if (!backend) bad_value("backend", flags.backend, "use auto, bpf or netlink");
  choice.backend = *backend;
  if (!flags.btf.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(flags.btf, error) || access(flags.btf.c_str(), R_OK) != 0) {
      bad_value("btf", flags.btf, "use a readable BTF file of the running kernel (e.g. from pahole or btfhub)");
    }
    choice.bpf.btf_path = flags.btf;
  }
  return choice;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto unit_start = text.find_first_not_of("0123456789.");
  if (unit_start == 0 || unit_start == std::string_view::npos) return std::nullopt;
  const auto unit = unit_milliseconds(text.substr(unit_start));
  double number = 0;
  const auto number_end = text.data() + unit_start;
  const auto [end, ec] = std::from_chars(text.data(), number_end, number, std::chars_format::fixed);
  if (!unit || ec != std::errc{} || end != number_end) return std::nullopt;

  const double milliseconds = number * *unit;
  // Also rejects NaN, and values that would overflow the count.
  if (!(milliseconds >= 1 && milliseconds < 1e15)) return std::nullopt;
  return std::chrono::milliseconds(std::llround(milliseconds));
}

}  // namespace lw
