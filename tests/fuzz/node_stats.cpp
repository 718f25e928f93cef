// /proc/net/sockstat, sockstat6 and /proc/sys/net/ipv4/tcp_mem
// (parse_sockstat, parse_tcp_mem). The input is sockstat, a NUL, then
// sockstat6. Never throws; each file only fills its own fields; tcp_mem
// written back as the kernel writes it parses the same.
#include <string>

#include <fmt/format.h>

#include "collect/node_stats.h"
#include "fuzz_check.h"

namespace {

bool same_v4(const lw::NodeSocketStats& a, const lw::NodeSocketStats& b) {
  return a.sockets_used == b.sockets_used && a.tcp_inuse == b.tcp_inuse && a.tcp_orphan == b.tcp_orphan &&
         a.tcp_tw == b.tcp_tw && a.tcp_alloc == b.tcp_alloc && a.tcp_mem_pages == b.tcp_mem_pages &&
         a.udp_inuse == b.udp_inuse && a.udp_mem_pages == b.udp_mem_pages;
}

bool same_v6(const lw::NodeSocketStats& a, const lw::NodeSocketStats& b) {
  return a.tcp6_inuse == b.tcp6_inuse && a.udp6_inuse == b.udp6_inuse;
}

const lw::NodeSocketStats kNothing{};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = lw::fuzz::as_text(data, size);
  const auto nul = input.find('\0');
  const auto sockstat = input.substr(0, nul);
  const auto sockstat6 = nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1);

  const auto both = lw::parse_sockstat(sockstat, sockstat6);
  const auto v4_only = lw::parse_sockstat(sockstat, "");
  const auto v6_only = lw::parse_sockstat("", sockstat6);
  LW_FUZZ_CHECK(same_v4(both, v4_only) && same_v6(v4_only, kNothing));
  LW_FUZZ_CHECK(same_v6(both, v6_only) && same_v4(v6_only, kNothing));

  const auto tcp_mem = lw::parse_tcp_mem(input);
  if (tcp_mem) {
    const auto again =
        lw::parse_tcp_mem(fmt::format("{}\t{}\t{}\n", tcp_mem->min_pages, tcp_mem->pressure_pages, tcp_mem->max_pages));
    LW_FUZZ_CHECK(again && again->min_pages == tcp_mem->min_pages && again->pressure_pages == tcp_mem->pressure_pages &&
                  again->max_pages == tcp_mem->max_pages);
  }
  return 0;
}
