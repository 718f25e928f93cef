#include "collect/bpf_loading.h"

#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <regex>
#include <vector>

#include "util/error.h"
#include "util/libbpf_ptr.h"
#include "util/log.h"

namespace lw::bpf_loading {
namespace {

thread_local LoadLog* current_load_log = nullptr;

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

std::string format_message(const char* format, va_list args) {
  va_list measure;
  va_copy(measure, args);
  const int length = std::vsnprintf(nullptr, 0, format, measure);
  va_end(measure);
  if (length <= 0) return {};
  std::string text(static_cast<size_t>(length) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(length));
  return text;
}

int print_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
  const log::Level ours = level == LIBBPF_WARN ? log::Level::warn : log::Level::debug;
  const bool shown = log::enabled(ours);
  if (!shown && !current_load_log) return 0;
  std::string message = format_message(format, args);
  if (current_load_log) current_load_log->append(message);
  if (!shown) return 0;
  while (!message.empty() && message.back() == '\n') message.pop_back();
  log::write(ours, message);
  return static_cast<int>(message.size());
}

// A kernel feature some program of ours needs, recognised by what libbpf or
// the verifier says when it is missing, with the release that brought it.
struct KnownFeature {
  std::regex said;
  std::string_view feature;
  std::string_view since;
};

const std::vector<KnownFeature>& known_features() {
  // Only refusals the kernel matrix has shown (README, "Supported kernels");
  // anything else is explained by the verifier's own verdict.
  static const std::vector<KnownFeature> table = {
      // A kernel that does not know a helper names it only by number.
      {std::regex("func (unknown|bpf_sock_from_file)#162\\b"), "the helper bpf_sock_from_file", "5.11"},
  };
  return table;
}

// The program libbpf names in "prog 'NAME': ..." lines, if any.
std::string failed_program(std::string_view log) {
  static const std::regex prog(R"(prog '([A-Za-z0-9_]+)': (BPF program load failed|failed to))");
  std::match_results<std::string_view::const_iterator> m;
  if (std::regex_search(log.begin(), log.end(), m, prog)) return m[1].str();
  return {};
}

// The verifier's verdict: the last line of its log before its statistics
// (instruction lines and source comments come before it).
std::string verifier_verdict(std::string_view log) {
  const auto end = log.find("-- END PROG LOAD LOG --");
  if (end == std::string_view::npos) return {};
  std::string_view body = log.substr(0, end);
  std::string verdict;
  size_t start = 0;
  while (start < body.size()) {
    size_t stop = body.find('\n', start);
    if (stop == std::string_view::npos) stop = body.size();
    const std::string_view line = body.substr(start, stop - start);
    start = stop + 1;
    const bool statistics =
        line.starts_with("verification time") || line.starts_with("stack depth") || line.starts_with("processed ");
    const bool instruction = !line.empty() && (std::isdigit(static_cast<unsigned char>(line[0])) || line[0] == ';');
    if (!line.empty() && !statistics && !instruction && !line.starts_with("libbpf:")) verdict = line;
  }
  return verdict;
}

}  // namespace

LoadLog::LoadLog() : outer_(current_load_log) { current_load_log = this; }
LoadLog::~LoadLog() { current_load_log = outer_; }

void route_libbpf_output() { libbpf_set_print(print_libbpf); }

std::string explain_refusal(std::string_view log, int err) {
  const std::string program = failed_program(log);
  const std::string subject = program.empty() ? std::string("it") : fmt::format("program {}", program);
  for (const auto& known : known_features()) {
    if (std::regex_search(log.begin(), log.end(), known.said)) {
      return fmt::format(
          "{} needs {}, which this kernel lacks (it appeared in Linux {}); leakwatch's BPF programs "
          "need Linux >= {} with BTF",
          subject, known.feature, known.since, kMinimumKernel);
    }
  }
  if (const std::string verdict = verifier_verdict(log); !verdict.empty()) {
    return fmt::format("the verifier refused {}: \"{}\"; run with --verbose for the whole verifier log", subject,
                       verdict);
  }
  if (err == ENOSYS) {
    return "bpf(2) answered ENOSYS: the kernel was built without BPF, or a seccomp profile forbids bpf(2)";
  }
  if (err == EPERM || err == EACCES) {
    return fmt::format(
        "{} although we hold CAP_BPF and CAP_PERFMON: check kernel lockdown "
        "(/sys/kernel/security/lockdown) and the container's seccomp profile",
        std::strerror(err));
  }
  return fmt::format("{}; run with --verbose for libbpf's log", std::strerror(err));
}

void throw_load_failure(std::string_view what, const LoadLog& log, int err) {
  const bool verifier_spoke = log.text().find("-- BEGIN PROG LOAD LOG --") != std::string::npos;
  if ((err == EPERM || err == EACCES) && !verifier_spoke && !has_bpf_capabilities()) {
    throw Error(ErrorKind::no_privilege,
                "missing privileges to load BPF programs: run as root, or grant CAP_BPF and CAP_PERFMON", err);
  }
  throw Error(ErrorKind::bpf_refused,
              fmt::format("the kernel refused the BPF {}: {}", what, explain_refusal(log.text(), err)), err);
}

}  // namespace lw::bpf_loading

namespace lw {

void LibbpfDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }
void LibbpfDeleter::operator()(ring_buffer* ring) const { ring_buffer__free(ring); }

}  // namespace lw
