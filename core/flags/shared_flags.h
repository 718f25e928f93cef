// Flags both binaries take, with the same names, checks and messages: the
// host path flags and durations. Kept out of the core library so that only
// the binaries link CLI11.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "collect/host_paths.h"
#include "collect/socket_source.h"

namespace CLI {
class App;
}

namespace lw {

// Throws lw::Error(usage): "bad --FLAG 'VALUE': ADVICE".
[[noreturn]] void bad_value(std::string_view flag, std::string_view value, std::string_view advice);

// The host path flags both binaries take: --host-root, --host-proc,
// --host-cgroup, --host-log. After parsing, place_under_host_root moves
// every path not given on its own below --host-root (when it was given);
// it throws lw::Error(usage) when that is not a directory.
void add_host_path_options(CLI::App& app, HostPaths& paths, std::string& host_root);
void place_under_host_root(const CLI::App& app, const std::string& host_root, HostPaths& paths);

// --backend auto|bpf|netlink and --btf FILE, as typed; to_backend_choice
// checks them after the parse.
struct BackendFlags {
  std::string backend = "auto";
  std::string btf;
};
void add_backend_options(CLI::App& app, BackendFlags& flags);
// Throws lw::Error(usage) for an unknown backend or an unreadable BTF file.
BackendChoice to_backend_choice(const BackendFlags& flags);

// "250ms", "5s", "2m", "1h", also "1.5s"; nullopt for anything else (no unit,
// negative, zero, garbage, or less than a millisecond).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace lw
