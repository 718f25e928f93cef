// /proc/PID/status (parse_status): never throws; sizes are whole kB in
// bytes; a state is a letter; the fields it found, written back the way the
// kernel writes them, parse to the same status.
#include <cctype>
#include <string>

#include <fmt/format.h>

#include "collect/procfs.h"
#include "fuzz_check.h"

namespace {

bool same(const lw::ProcessStatus& a, const lw::ProcessStatus& b) {
  return a.name == b.name && a.state == b.state && a.tgid == b.tgid && a.vm_rss == b.vm_rss &&
         a.rss_anon == b.rss_anon && a.rss_file == b.rss_file && a.rss_shmem == b.rss_shmem;
}

void write_kilobytes(std::string& out, std::string_view key, const std::optional<uint64_t>& bytes) {
  if (bytes) out += fmt::format("{}:\t{:8} kB\n", key, *bytes / 1024);
}

std::string render(const lw::ProcessStatus& status) {
  std::string out;
  if (status.name) out += fmt::format("Name:\t{}\n", *status.name);
  if (status.state) out += fmt::format("State:\t{} (sleeping)\n", *status.state);
  if (status.tgid) out += fmt::format("Tgid:\t{}\n", *status.tgid);
  write_kilobytes(out, "VmRSS", status.vm_rss);
  write_kilobytes(out, "RssAnon", status.rss_anon);
  write_kilobytes(out, "RssFile", status.rss_file);
  write_kilobytes(out, "RssShmem", status.rss_shmem);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto status = lw::parse_status(lw::fuzz::as_text(data, size));
  for (const auto& bytes : {status.vm_rss, status.rss_anon, status.rss_file, status.rss_shmem}) {
    LW_FUZZ_CHECK(!bytes || *bytes % 1024 == 0);
  }
  LW_FUZZ_CHECK(!status.state || std::isalpha(static_cast<unsigned char>(*status.state)));
  LW_FUZZ_CHECK(!status.tgid || *status.tgid >= 0);
  LW_FUZZ_CHECK(!status.name || status.name->find('\n') == std::string::npos);
  LW_FUZZ_CHECK(same(lw::parse_status(render(status)), status));
  return 0;
}
