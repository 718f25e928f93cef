// What every unit that loads a BPF program shares: libbpf's output routed
// through our logger, and one explanation of load failures as lw::Error, so
// the CLI and the agent say the same true thing on every kernel.
#pragma once

#include <string>
#include <string_view>

namespace lw {

struct BpfOptions {
  // A BTF file for kernels without /sys/kernel/btf/vmlinux (libbpf's
  // btf_custom_path); empty for the kernel's own.
  std::string btf_path;
  // A directory in a BPF filesystem where the loaded socket iterator is
  // pinned and where a later run finds it, instead of loading it again
  // (parsing the kernel's BTF is most of a one-process command's time);
  // empty for none. Not used with btf_path.
  std::string program_cache;
  // For bpf_object_open_opts.btf_custom_path.
  const char* btf_custom_path() const { return btf_path.empty() ? nullptr : btf_path.c_str(); }
};

}  // namespace lw

namespace lw::bpf_loading {

// The oldest kernel the kernel matrix proves (README, "Supported kernels").
// Task-targeted iterators (`leakwatch inspect PID`) appeared in Linux 6.1.
inline constexpr std::string_view kMinimumKernel = "6.1";

// Sends libbpf's messages to lw::log, whole: a verifier log arrives as one
// message of many lines, and its last lines say why.
void route_libbpf_output();

// Keeps everything libbpf says on this thread while it lives (one load), so
// that a refusal can be explained in the verifier's own words.
class LoadLog {
 public:
  LoadLog();
  ~LoadLog();
  LoadLog(const LoadLog&) = delete;
  LoadLog& operator=(const LoadLog&) = delete;
  const std::string& text() const { return text_; }
  void append(std::string_view message) { text_.append(message); }

 private:
  std::string text_;
  LoadLog* outer_;
};

// Why libbpf failed, in one line, from what it logged during the load and
// the errno it failed with: which program, which kernel feature the kernel
// lacks or refused and since which version it exists, or else the
// verifier's own last word. Pure, so that real logs can be replayed in tests.
std::string explain_refusal(std::string_view log, int err);

// Throws for a load of `what` (e.g. "socket iterator") that failed with
// errno `err`: no_privilege when we lack the capabilities, bpf_refused with
// explain_refusal() otherwise.
[[noreturn]] void throw_load_failure(std::string_view what, const LoadLog& log, int err);

}  // namespace lw::bpf_loading
