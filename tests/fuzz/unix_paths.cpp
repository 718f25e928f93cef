// /proc/PID/net/unix (parse_proc_net_unix): the paths unix listeners are
// bound to. Never throws; every name has a socket inode and a path of valid
// UTF-8 on one line; names written back as the kernel writes them parse the
// same.
#include <string>

#include <fmt/format.h>

#include "collect/unix_paths.h"
#include "fuzz_check.h"
#include "util/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto names = lw::parse_proc_net_unix(lw::fuzz::as_text(data, size));
  std::string table = "Num       RefCount Protocol Flags    Type St Inode Path\n";
  for (const auto& n : names) {
    LW_FUZZ_CHECK(n.inode != 0 && !n.path.empty());
    LW_FUZZ_CHECK(lw::is_valid_utf8(n.path) && n.path.find('\n') == std::string::npos);
    table += fmt::format("0000000052d119ce: 00000002 00000000 00010000 0001 01 {} {}\n", n.inode, n.path);
  }
  const auto again = lw::parse_proc_net_unix(table);
  LW_FUZZ_CHECK(again.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    LW_FUZZ_CHECK(again[i].inode == names[i].inode && again[i].path == names[i].path);
  }
  return 0;
}
