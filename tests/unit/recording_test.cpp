// Recordings: what a watch writes is what `leakwatch analyze` reads, field
// for field, so a replay reaches the watch's verdict; and a file that is
// not a whole recording is refused in one line naming the line and field.
#include "output/recording.h"

#include <gtest/gtest.h>

#include <sstream>

#include "analyze/subject_window.h"
#include "fake_files.h"
#include "util/error.h"

namespace lw::test {
namespace {

RecordingHeader header() {
  return {.pid = 4242,
          .command = "gunicorn",
          .start_time_ticks = 123456,
          .cgroup = "/kubepods/pod1/c1",
          .interval_seconds = 15,
          .window_seconds = 900,
          .longer_windows_seconds = {3600, 86400},
          .stall_after_seconds = 60,
          .started_at = "2026-12-07T00:00:00Z",
          .backend = "bpf"};
}

Observation every_field(double time) {
  Observation o;
  o.time = time;
  o.resident = {.anon = 50e6 + 0.25, .file = 2e6, .shmem = 4096, .total = 52e6};
  o.receive_queue_bytes = 131072;
  o.send_queue_bytes = 2626560;
  o.unread_bytes = 98304;
  o.ingress_bytes_total = 1e12 / 3;  // not a round number: doubles must come back exact
  o.tcp_connections = 61;
  o.close_wait = 3;
  o.idle_connections = 17;
  o.open_fds = 80;
  o.socket_fds = 64;
  o.memory_limit = 512e6;
  o.memory_usage = 300e6;
  EndpointGroup out;
  out.peer = "10.0.0.7:8000";
  out.connections = 40;
  out.states = {{"ESTABLISHED", 38}, {"CLOSE_WAIT", 2}};
  out.receive_queue_bytes = 131072;
  out.unread_bytes = 98304;
  out.max_unread_bytes = 65536;
  out.max_idle_ms = 61234;
  out.stalled_sockets = 2;
  out.stalled_unread_bytes = 90000;
  out.max_stalled_seconds = 75.5;
  EndpointGroup in;
  in.peer = "10.0.0.9";
  in.inbound = true;
  in.local_port = 8080;
  in.connections = 21;
  in.states = {{"ESTABLISHED", 21}};
  in.send_queue_bytes = 2626560;
  o.endpoints = {out, in};
  o.listeners = {{.port = 8080, .waiting = 50, .limit = 128}, {.waiting = 3, .limit = 64, .path = "/run/app.sock"}};
  return o;
}

void expect_same(const Observation& a, const Observation& b) {
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.resident.anon, b.resident.anon);
  EXPECT_EQ(a.resident.file, b.resident.file);
  EXPECT_EQ(a.resident.shmem, b.resident.shmem);
  EXPECT_EQ(a.resident.total, b.resident.total);
  EXPECT_EQ(a.receive_queue_bytes, b.receive_queue_bytes);
  EXPECT_EQ(a.send_queue_bytes, b.send_queue_bytes);
  EXPECT_EQ(a.unread_bytes, b.unread_bytes);
  EXPECT_EQ(a.ingress_bytes_total, b.ingress_bytes_total);
  EXPECT_EQ(a.tcp_connections, b.tcp_connections);
  EXPECT_EQ(a.close_wait, b.close_wait);
  EXPECT_EQ(a.idle_connections, b.idle_connections);
  EXPECT_EQ(a.open_fds, b.open_fds);
  EXPECT_EQ(a.socket_fds, b.socket_fds);
  EXPECT_EQ(a.memory_limit, b.memory_limit);
  EXPECT_EQ(a.memory_usage, b.memory_usage);
  ASSERT_EQ(a.endpoints.size(), b.endpoints.size());
  for (size_t i = 0; i < a.endpoints.size(); ++i) {
    const EndpointGroup &x = a.endpoints[i], &y = b.endpoints[i];
    EXPECT_EQ(x.peer, y.peer);
    EXPECT_EQ(x.inbound, y.inbound);
    EXPECT_EQ(x.local_port, y.local_port);
    EXPECT_EQ(x.connections, y.connections);
    EXPECT_EQ(x.states, y.states);
    EXPECT_EQ(x.receive_queue_bytes, y.receive_queue_bytes);
    EXPECT_EQ(x.send_queue_bytes, y.send_queue_bytes);
    EXPECT_EQ(x.unread_bytes, y.unread_bytes);
    EXPECT_EQ(x.max_unread_bytes, y.max_unread_bytes);
    EXPECT_EQ(x.max_idle_ms, y.max_idle_ms);
    EXPECT_EQ(x.stalled_sockets, y.stalled_sockets);
    EXPECT_EQ(x.stalled_unread_bytes, y.stalled_unread_bytes);
    EXPECT_EQ(x.max_stalled_seconds, y.max_stalled_seconds);
  }
  ASSERT_EQ(a.listeners.size(), b.listeners.size());
  for (size_t i = 0; i < a.listeners.size(); ++i) {
    EXPECT_EQ(a.listeners[i].port, b.listeners[i].port);
    EXPECT_EQ(a.listeners[i].path, b.listeners[i].path);
    EXPECT_EQ(a.listeners[i].waiting, b.listeners[i].waiting);
    EXPECT_EQ(a.listeners[i].limit, b.listeners[i].limit);
  }
}

std::string lines_of(const RecordingHeader& h, const std::vector<Observation>& samples) {
  std::string text = to_json(h).dump() + "\n";
  for (const auto& o : samples) text += to_json(o).dump() + "\n";
  return text;
}

Recording parse(const std::string& text) {
  std::istringstream in(text);
  return parse_recording(in);
}

std::string refusal(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    return e.what();
  }
  return "(accepted)";
}

TEST(Recording, EveryFieldComesBackExactly) {
  Observation unknowns = every_field(15);
  unknowns.resident = {.anon = std::nullopt, .file = std::nullopt, .shmem = std::nullopt, .total = 9e6};
  unknowns.open_fds = std::nullopt;
  unknowns.idle_connections = std::nullopt;
  unknowns.memory_limit = std::nullopt;
  unknowns.memory_usage = std::nullopt;
  unknowns.endpoints[0].max_idle_ms = std::nullopt;
  const Recording r = parse(lines_of(header(), {every_field(0), unknowns}));
  EXPECT_EQ(r.header.pid, 4242);
  EXPECT_EQ(r.header.command, "gunicorn");
  EXPECT_EQ(r.header.start_time_ticks, 123456u);
  EXPECT_EQ(r.header.cgroup, "/kubepods/pod1/c1");
  EXPECT_EQ(r.header.interval_seconds, 15);
  EXPECT_EQ(r.header.window_seconds, 900);
  EXPECT_EQ(r.header.longer_windows_seconds, (std::vector<double>{3600, 86400}));
  EXPECT_EQ(r.header.stall_after_seconds, 60);
  EXPECT_EQ(r.header.started_at, "2026-12-07T00:00:00Z");
  EXPECT_EQ(r.header.backend, "bpf");
  ASSERT_EQ(r.samples.size(), 2u);
  expect_same(r.samples[0], every_field(0));
  expect_same(r.samples[1], unknowns);
  EXPECT_FALSE(r.process_exited);
  EXPECT_FALSE(r.cut_short);
}

// A leak written to a file and read back: the replayed window names the
// same finding with the same numbers.
TEST(Recording, AReplayReachesTheWatchsVerdict) {
  TempDir dir;
  const std::string path = (dir.path() / "watch.jsonl").string();
  SubjectWindow live(analysis_config(header()));
  {
    RecordingWriter writer(path);
    writer.write(to_json(header()));
    for (int i = 0; i < 40; ++i) {
      Observation o = every_field(15.0 * i);
      o.resident.anon = 50e6 + 300e3 * 15 * i;  // 300 KB/s of heap
      live.add(o);
      writer.write(to_json(o));
    }
    writer.write(process_exited_line());
    EXPECT_EQ(writer.lines_written(), 42u);
    EXPECT_FALSE(writer.failure());
  }
  const Recording r = read_recording(path);
  EXPECT_TRUE(r.process_exited);
  SubjectWindow replayed(analysis_config(r.header));
  for (const auto& o : r.samples) replayed.add(o);
  const auto expected = live.findings();
  const auto found = replayed.findings();
  ASSERT_FALSE(expected.empty()) << "the series is a leak";
  ASSERT_EQ(found.size(), expected.size());
  for (size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].kind, expected[i].kind);
    EXPECT_EQ(found[i].severity, expected[i].severity);
    EXPECT_EQ(found[i].growth_per_second, expected[i].growth_per_second);
    EXPECT_EQ(found[i].confidence, expected[i].confidence);
    EXPECT_EQ(found[i].explanation, expected[i].explanation);
  }
}

// Recordings made before samples told idle connections and headers the
// longer windows: read as unknown and as the one window they were judged by.
TEST(Recording, OlderRecordingsWithoutLaterFieldsAreRead) {
  auto head = to_json(header());
  head.erase("longer_windows_seconds");
  auto sample = to_json(every_field(0));
  sample["sockets"].erase("idle_connections");
  const Recording r = parse(head.dump() + "\n" + sample.dump() + "\n");
  EXPECT_TRUE(r.header.longer_windows_seconds.empty());
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_FALSE(r.samples[0].idle_connections);
  EXPECT_EQ(window_spans(analysis_config(r.header)), std::vector<double>{900});
}

TEST(Recording, ALastLineCutShortIsIgnoredAndSaid) {
  std::string text = lines_of(header(), {every_field(0), every_field(15)});
  text += to_json(every_field(30)).dump().substr(0, 40);  // no newline: the writer was stopped mid-line
  const Recording r = parse(text);
  EXPECT_EQ(r.samples.size(), 2u);
  ASSERT_TRUE(r.cut_short);
  EXPECT_EQ(*r.cut_short, "line 4 is incomplete (the recording was cut short) and was ignored");
}

TEST(Recording, WhatIsNotAWholeRecordingIsRefusedNamingLineAndField) {
  const std::string head = to_json(header()).dump() + "\n";
  const auto sample_with = [](const std::function<void(nlohmann::ordered_json&)>& change) {
    auto j = to_json(every_field(0));
    change(j);
    return j.dump() + "\n";
  };
  EXPECT_EQ(refusal(""), "not a leakwatch recording: it is empty");
  EXPECT_EQ(refusal("\x7f"
                    "ELF\x02\x01\x01\n"),
            "line 1: not JSON");
  EXPECT_EQ(refusal("{\"schema_version\": 1}\n"),
            "not a leakwatch recording: its first line has no \"leakwatch_recording\"");
  auto v2 = to_json(header());
  v2["leakwatch_recording"] = 2;
  EXPECT_EQ(refusal(v2.dump() + "\n"),
            "line 1: leakwatch_recording: version 2 is not one this leakwatch reads (it reads 1)");
  auto no_interval = to_json(header());
  no_interval["interval_seconds"] = 0;
  EXPECT_EQ(refusal(no_interval.dump() + "\n"), "line 1: interval_seconds: expected more than 0");
  auto negative_window = to_json(header());
  negative_window["longer_windows_seconds"] = {3600, -1};
  EXPECT_EQ(refusal(negative_window.dump() + "\n"), "line 1: longer_windows_seconds: expected numbers above 0");
  EXPECT_EQ(refusal(head + "[1, 2]\n"), "line 2: expected a JSON object");
  EXPECT_EQ(refusal(head + sample_with([](auto& j) { j["memory"].erase("rss_anon_bytes"); })),
            "line 2: memory: rss_anon_bytes: missing");
  EXPECT_EQ(refusal(head + sample_with([](auto& j) { j["sockets"]["unread_bytes"] = "lots"; })),
            "line 2: sockets: unread_bytes: expected a finite number");
  EXPECT_EQ(refusal(head + sample_with([](auto& j) { j["endpoints"][0]["connections"] = -1; })),
            "line 2: endpoints[0]: connections: expected a whole number, 0 or more");
  EXPECT_EQ(refusal(head + sample_with([](auto& j) { j["endpoints"][1]["local_port"] = 70000; })),
            "line 2: endpoints[1]: local_port: expected a port, 0 to 65535");
  EXPECT_EQ(refusal(head + sample_with([](auto& j) { j["sockets"]["listeners"][0].erase("limit"); })),
            "line 2: sockets: listeners[0]: limit: missing");
  EXPECT_EQ(refusal(head + sample_with([](auto& j) { j["sockets"]["listeners"][1]["path"] = ""; })),
            "line 2: sockets: listeners[1]: path: expected a unix socket's path");
  EXPECT_EQ(refusal(head + sample_with([](auto& j) { j["sockets"]["listeners"][1]["path"] = 3; })),
            "line 2: sockets: listeners[1]: path: expected a string");
  EXPECT_EQ(refusal(head + to_json(every_field(15)).dump() + "\n" + to_json(every_field(15)).dump() + "\n"),
            "line 3: time_seconds: not after the sample before it");
  EXPECT_EQ(refusal(head + process_exited_line().dump() + "\n" + to_json(every_field(0)).dump() + "\n"),
            "line 3: a sample after the process exited");
  // A broken line that is not the last one is not a cut-short recording.
  EXPECT_EQ(refusal(head + "{\"time_seconds\": \n" + to_json(every_field(0)).dump() + "\n"), "line 2: not JSON");
}

TEST(Recording, AFileThatCannotBeReadOrWrittenIsAnIoError) {
  try {
    read_recording("/nonexistent/watch.jsonl");
    FAIL() << "read";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_STREQ(e.what(), "cannot read the recording '/nonexistent/watch.jsonl': No such file or directory");
  }
  try {
    RecordingWriter writer("/nonexistent/watch.jsonl");
    FAIL() << "created";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_NE(std::string(e.what()).find("choose a writable path for --record"), std::string::npos) << e.what();
  }
}

// A full disk stops the recording, is kept for the end of the watch, and
// never throws into the sampling loop.
TEST(Recording, AFullDiskStopsTheRecordingAndIsKept) {
  RecordingWriter writer("/dev/full");
  writer.write(to_json(header()));
  writer.write(to_json(every_field(0)));
  EXPECT_EQ(writer.lines_written(), 0u);
  ASSERT_TRUE(writer.failure());
  EXPECT_EQ(*writer.failure(), "No space left on device");
}

}  // namespace
}  // namespace lw::test
