#include <gtest/gtest.h>

#include "output/report_json.h"
#include "record_builder.h"
#include "report_text.h"
#include "text_table.h"
#include "util/units.h"

namespace lw::test {
namespace {

using lw::human_bytes;
using lw::human_duration_ms;

TEST(HumanUnits, Bytes) {
  EXPECT_EQ(human_bytes(uint64_t{0}), "0 B");
  EXPECT_EQ(human_bytes(uint64_t{1023}), "1023 B");
  EXPECT_EQ(human_bytes(uint64_t{1536}), "1.5 KiB");
  EXPECT_EQ(human_bytes(uint64_t{5} << 30), "5.0 GiB");
  EXPECT_EQ(human_bytes(std::optional<uint64_t>{}), "unknown");
  EXPECT_EQ(human_bytes(UINT64_MAX), "16.0 EiB");
}

TEST(HumanUnits, Durations) {
  EXPECT_EQ(human_duration_ms(400), "0.4s");
  EXPECT_EQ(human_duration_ms(12'000), "12s");
  EXPECT_EQ(human_duration_ms(185'000), "3m05s");
  EXPECT_EQ(human_duration_ms(7'260'000), "2h01m");
  EXPECT_EQ(human_duration_ms(3ull * 86'400'000 + 4 * 3'600'000), "3d04h");
  EXPECT_EQ(percent(1, 3), "33%");
  EXPECT_EQ(percent(1, 0), "-");
}

TEST(TextTable, ColumnsFitTheirWidestCellAndAlign) {
  cli::TextTable t({{"NAME"}, {"N", cli::TextTable::Align::right}});
  t.add_row({"a", "1"});
  t.add_row({"longer", "100"});
  EXPECT_EQ(t.render(""), "NAME      N\na         1\nlonger  100\n");
}

ProcessReport stream_leak_report() {
  ProcessReport r;
  r.process.pid = 4242;
  r.process.cmdline = "gunicorn app:app";
  r.process.status.name = "gunicorn";
  r.process.stat.state = 'S';
  r.process.open_fds = 9;
  r.process.status.rss_anon = 50ull << 20;
  r.process.status.rss_file = 10ull << 20;
  r.process.status.rss_shmem = 0;
  std::vector<SocketRecord> records;
  for (uint32_t i = 0; i < 4; ++i) {
    records.push_back(
        RecordBuilder::tcp4("10.1.0.5", 40000 + i, "10.2.0.7", 8000).fd(5 + i).unread(40u << 20).idle_ms(300'000));
  }
  r.sockets = summarize_sockets(records, 10, 10);
  r.memory = memory_breakdown(r.process.status, r.sockets);
  CgroupMemory c;
  c.version = CgroupVersion::v2;
  c.path = "/kubepods/pod1/abc";
  c.usage = 400ull << 20;
  c.limit = MemoryLimit{1ull << 30};
  r.cgroup = c;
  return r;
}

TEST(RenderText, ShowsTheBreakdownEndpointsAndTheHint) {
  const std::string text = cli::render_text(stream_leak_report());
  EXPECT_NE(text.find("PID 4242  gunicorn app:app"), std::string::npos) << text;
  EXPECT_NE(text.find("kernel socket receive queues  320.0 MiB    84%"), std::string::npos) << text;
  EXPECT_NE(text.find("footprint                     380.0 MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("usage 400.0 MiB (39% of limit), limit 1.0 GiB, socket memory unknown"), std::string::npos)
      << text;
  EXPECT_NE(text.find("10.2.0.7:8000"), std::string::npos) << text;
  EXPECT_NE(text.find("5m00s"), std::string::npos) << "idle time of the endpoint" << text;
  EXPECT_NE(text.find("84% of this process's footprint"), std::string::npos) << text;
}

TEST(RenderText, UnknownValuesAreSaidToBeUnknown) {
  ProcessReport r = stream_leak_report();
  r.process.status = {};
  r.memory = memory_breakdown(r.process.status, r.sockets);
  r.cgroup.reset();
  const std::string text = cli::render_text(r);
  EXPECT_NE(text.find("resident anon (heap, stacks)    unknown"), std::string::npos) << text;
  EXPECT_NE(text.find("footprint                       unknown"), std::string::npos) << text;
  EXPECT_NE(text.find("Memory cgroup: not found"), std::string::npos) << text;
}

TEST(ReportJson, ExactBytesAndNullForUnknown) {
  ProcessReport r = stream_leak_report();
  r.process.status.rss_shmem.reset();
  r.memory = memory_breakdown(r.process.status, r.sockets);
  const auto j = to_json(r);
  EXPECT_EQ(j["schema_version"], kInspectSchemaVersion);
  EXPECT_EQ(j["memory"]["rss_anon_bytes"], 50ull << 20);
  EXPECT_TRUE(j["memory"]["rss_shmem_bytes"].is_null());
  EXPECT_EQ(j["memory"]["socket_receive_queue_bytes"], 4ull * (80u << 20));
  EXPECT_EQ(j["cgroup"]["limit_state"], "set");
  EXPECT_EQ(j["cgroup"]["limit_bytes"], 1ull << 30);
  EXPECT_TRUE(j["cgroup"]["socket_bytes"].is_null());
  EXPECT_EQ(j["endpoints"]["total"], 1);
  EXPECT_EQ(j["endpoints"]["top"][0]["max_idle_seconds"], 300.0);
  EXPECT_EQ(j["top_sockets"][0]["unread_bytes"], 40u << 20);
  EXPECT_EQ(j["top_sockets"][0]["state"], "ESTABLISHED");
}

// Both kinds of listener in text and JSON: a TCP one by its port, a unix
// one by its path (port null).
TEST(ReportFormat, ListenersAreNamedByPortOrUnixPath) {
  ProcessReport r = stream_leak_report();
  r.sockets.listeners = {{.waiting = 21, .limit = 20, .path = "/run/gunicorn.sock"},
                         {.port = 8000, .waiting = 3, .limit = 128}};
  const std::string text = cli::render_text(r);
  EXPECT_NE(text.find("Accept queue: 21 connections wait to be accepted on unix socket /run/gunicorn.sock (limit 20)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Accept queue: 3 connections wait to be accepted on port 8000 (limit 128)"), std::string::npos)
      << text;
  const auto listeners = to_json(r)["sockets"]["listeners"];
  EXPECT_EQ(listeners[0]["path"], "/run/gunicorn.sock");
  EXPECT_TRUE(listeners[0]["port"].is_null());
  EXPECT_EQ(listeners[0]["waiting"], 21);
  EXPECT_EQ(listeners[1]["port"], 8000);
  EXPECT_TRUE(listeners[1]["path"].is_null());
}

TEST(ReportJson, CgroupWithoutLimitAndUnknownLimit) {
  ProcessReport r = stream_leak_report();
  r.cgroup->limit = MemoryLimit{std::nullopt};
  EXPECT_EQ(to_json(r)["cgroup"]["limit_state"], "none");
  r.cgroup->limit.reset();
  EXPECT_EQ(to_json(r)["cgroup"]["limit_state"], "unknown");
  EXPECT_TRUE(to_json(r)["cgroup"]["limit_bytes"].is_null());
}

}  // namespace
}  // namespace lw::test
