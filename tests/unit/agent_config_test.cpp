#include "agent_config.h"
#include "flags/shared_flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_files.h"

#include "util/error.h"

namespace lw {
namespace {

using namespace std::chrono_literals;
using test::TempDir;
using test::write_file;

std::variant<AgentConfig, HelpText> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "leakwatch-agent");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  return parse_agent_config(static_cast<int>(argv.size()), argv.data());
}

AgentConfig config_of(const std::vector<std::string>& args) {
  auto result = parse(args);
  if (!std::holds_alternative<AgentConfig>(result)) {
    ADD_FAILURE() << "expected a config, got help:\n" << std::get<HelpText>(result).text;
    return {};
  }
  return std::get<AgentConfig>(std::move(result));
}

std::string help_of(const std::vector<std::string>& args) {
  auto result = parse(args);
  if (!std::holds_alternative<HelpText>(result)) {
    ADD_FAILURE() << "expected help text, got a config";
    return {};
  }
  return std::get<HelpText>(std::move(result)).text;
}

// The usage error's message; fails the test when there is none.
std::string usage_error_of(const std::vector<std::string>& args) {
  try {
    parse(args);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::usage);
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
    return message;
  }
  ADD_FAILURE() << "no lw::Error thrown";
  return {};
}

constexpr std::string_view kEveryKey = R"(# every setting, as a DaemonSet's ConfigMap would hold it
listen-address = "127.0.0.1:0"
interval = "10s"
top-processes = 20
top-endpoints = 3
pid = [10, 20]
comm = "^gunicorn"
cgroup-prefix = "/kubepods"
host-proc = "/host/proc"
host-cgroup = "/host/sys/fs/cgroup"
host-log = "/host/var/log"
log-level = "debug"
log-format = "json"
ring-buffer-bytes = 65536
analysis-window = "10m"
stall-after = "30s"
page-after = "30m"
record-dir = "/var/lib/leakwatch/recordings"
record-max-bytes = 1048576
alertmanager-url = "http://alertmanager.monitoring:9093/"
alertmanager-timeout = "5s"
backend = "netlink"
)";

// An Alertmanager without TLS or credentials.
AlertmanagerConfig alertmanager_at(std::string url, std::chrono::milliseconds timeout) {
  AlertmanagerConfig config;
  config.url = std::move(url);
  config.timeout = timeout;
  return config;
}

const AgentConfig kEveryKeyConfig{
    .listen_address = "127.0.0.1:0",
    .interval = 10s,
    .top_processes = 20,
    .top_endpoints = 3,
    .pids = {10, 20},
    .comm_pattern = "^gunicorn",
    .cgroup_prefix = "/kubepods",
    .paths = {.proc = "/host/proc", .cgroup = "/host/sys/fs/cgroup", .log = "/host/var/log"},
    .log_level = log::Level::debug,
    .log_format = log::Format::json,
    .ring_buffer_bytes = 65536,
    .analysis = {.window_seconds = 600, .stall_after_seconds = 30},
    .page_after = 30min,
    .record_dir = "/var/lib/leakwatch/recordings",
    .record_max_bytes = 1048576,
    .alertmanager = alertmanager_at("http://alertmanager.monitoring:9093", 5s),
    .backend = {.backend = Backend::netlink, .bpf = {}},
};

void expect_same(const AgentConfig& actual, const AgentConfig& expected) {
  EXPECT_EQ(actual.listen_address, expected.listen_address);
  EXPECT_EQ(actual.interval, expected.interval);
  EXPECT_EQ(actual.top_processes, expected.top_processes);
  EXPECT_EQ(actual.top_endpoints, expected.top_endpoints);
  EXPECT_EQ(actual.pids, expected.pids);
  EXPECT_EQ(actual.comm_pattern, expected.comm_pattern);
  EXPECT_EQ(actual.cgroup_prefix, expected.cgroup_prefix);
  EXPECT_EQ(actual.paths.proc, expected.paths.proc);
  EXPECT_EQ(actual.paths.cgroup, expected.paths.cgroup);
  EXPECT_EQ(actual.paths.log, expected.paths.log);
  EXPECT_EQ(actual.log_level, expected.log_level);
  EXPECT_EQ(actual.log_format, expected.log_format);
  EXPECT_EQ(actual.ring_buffer_bytes, expected.ring_buffer_bytes);
  EXPECT_EQ(actual.analysis.window_seconds, expected.analysis.window_seconds);
  EXPECT_EQ(actual.analysis.stall_after_seconds, expected.analysis.stall_after_seconds);
  EXPECT_EQ(actual.page_after, expected.page_after);
  EXPECT_EQ(actual.record_dir, expected.record_dir);
  EXPECT_EQ(actual.record_max_bytes, expected.record_max_bytes);
  EXPECT_EQ(actual.alertmanager.url, expected.alertmanager.url);
  EXPECT_EQ(actual.alertmanager.ca_file, expected.alertmanager.ca_file);
  EXPECT_EQ(actual.alertmanager.username, expected.alertmanager.username);
  EXPECT_EQ(actual.alertmanager.password, expected.alertmanager.password);
  EXPECT_EQ(actual.alertmanager.bearer_token, expected.alertmanager.bearer_token);
  EXPECT_EQ(actual.alertmanager.timeout, expected.alertmanager.timeout);
  EXPECT_EQ(actual.backend.backend, expected.backend.backend);
  EXPECT_EQ(actual.backend.bpf.btf_path, expected.backend.bpf.btf_path);
}

// --- good input ----------------------------------------------------------------

TEST(AgentConfig, Defaults) {
  // Spelt out, not AgentConfig{}: a changed default must show up here.
  expect_same(config_of({}), AgentConfig{
                                 .listen_address = "0.0.0.0:19849",
                                 .interval = 5s,
                                 .top_processes = 50,
                                 .top_endpoints = 5,
                                 .pids = {},
                                 .comm_pattern = "",
                                 .cgroup_prefix = "",
                                 .paths = {.proc = "/proc", .cgroup = "/sys/fs/cgroup"},
                                 .log_level = log::Level::info,
                                 .log_format = log::Format::text,
                                 .ring_buffer_bytes = 4u << 20,
                                 .analysis = {.window_seconds = 300, .stall_after_seconds = 60},
                                 .page_after = 15min,
                                 .record_dir = "",
                                 .record_max_bytes = 256u << 20,
                                 .alertmanager = alertmanager_at("", 10s),
                                 .backend = {.backend = Backend::automatic, .bpf = {}},
                             });
}

TEST(AgentConfig, EveryFlag) {
  expect_same(config_of({
                  "--listen-address",
                  "127.0.0.1:0",
                  "--interval",
                  "10s",
                  "--top-processes",
                  "20",
                  "--top-endpoints",
                  "3",
                  "--pid",
                  "10",
                  "--pid",
                  "20",
                  "--comm",
                  "^gunicorn",
                  "--cgroup-prefix",
                  "/kubepods",
                  "--host-proc",
                  "/host/proc",
                  "--host-cgroup",
                  "/host/sys/fs/cgroup",
                  "--host-log",
                  "/host/var/log",
                  "--log-level",
                  "debug",
                  "--log-format",
                  "json",
                  "--ring-buffer-bytes",
                  "65536",
                  "--analysis-window",
                  "10m",
                  "--stall-after",
                  "30s",
                  "--page-after",
                  "30m",
                  "--record-dir",
                  "/var/lib/leakwatch/recordings",
                  "--record-max-bytes",
                  "1048576",
                  "--alertmanager-url",
                  "http://alertmanager.monitoring:9093/",
                  "--alertmanager-timeout",
                  "5s",
                  "--backend",
                  "netlink",
              }),
              kEveryKeyConfig);
}

TEST(AgentConfig, PageAfterZeroPagesAtOnce) {
  EXPECT_EQ(config_of({"--page-after", "0s"}).page_after, 0ms);
  EXPECT_EQ(config_of({"--page-after", "1h"}).page_after, 1h);
}

// At a 60 s interval the default 5-minute window held 5 samples, under the
// 6 a verdict needs: no leak was ever named.
TEST(AgentConfig, TheWindowHoldsTheSamplesAVerdictNeeds) {
  const AgentConfig defaults = config_of({"--interval", "60s"});
  EXPECT_EQ(defaults.analysis.window_seconds, 360) << "the default window widened";
  EXPECT_TRUE(defaults.analysis_window_widened);
  EXPECT_FALSE(config_of({"--interval", "15s"}).analysis_window_widened);
  EXPECT_EQ(config_of({"--interval", "60s", "--analysis-window", "6m"}).analysis.window_seconds, 360);
  const std::string message = usage_error_of({"--interval", "60s", "--analysis-window", "5m"});
  EXPECT_NE(message.find("the 6 samples a verdict needs at this --interval: use 360s or more"), std::string::npos)
      << message;
}

TEST(AgentConfig, BtfFileForKernelsWithoutTheirOwn) {
  TempDir dir;
  write_file(dir.path() / "vmlinux.btf", "BTF");
  const auto config = config_of({"--backend", "bpf", "--btf", (dir.path() / "vmlinux.btf").string()});
  EXPECT_EQ(config.backend.backend, Backend::bpf);
  EXPECT_EQ(config.backend.bpf.btf_path, (dir.path() / "vmlinux.btf").string());
}

TEST(AgentConfig, FlagsWithEqualsAndCommaSeparatedPids) {
  const auto config = config_of({"--interval=1.5s", "--pid=7,8", "--pid", "9", "--log-level=error"});
  EXPECT_EQ(config.interval, 1500ms);
  EXPECT_EQ(config.pids, (std::vector<pid_t>{7, 8, 9}));
  EXPECT_EQ(config.log_level, log::Level::error);
}

TEST(AgentConfig, GoodListenAddresses) {
  for (const auto* address : {"127.0.0.1:0", "[::1]:0", "[::]:65535", "localhost:9100", "node-1.example:19849"}) {
    EXPECT_EQ(config_of({"--listen-address", address}).listen_address, address);
  }
}

TEST(AgentConfig, RingBufferBoundsAreInclusive) {
  EXPECT_EQ(config_of({"--ring-buffer-bytes", "4096"}).ring_buffer_bytes, 4096u);
  EXPECT_EQ(config_of({"--ring-buffer-bytes", "1073741824"}).ring_buffer_bytes, 1u << 30);
}

TEST(AgentConfig, ConfigFileWithEveryKey) {
  TempDir dir;
  write_file(dir.path() / "agent.toml", kEveryKey);
  expect_same(config_of({"--config", (dir.path() / "agent.toml").string()}), kEveryKeyConfig);
}

// An empty TOML file is a valid one, as Prometheus takes an empty config:
// every setting keeps its default.
TEST(AgentConfig, EmptyConfigFileKeepsTheDefaults) {
  TempDir dir;
  for (const char* text : {"", "\n", "# nothing here yet\r\n\n"}) {
    write_file(dir.path() / "agent.toml", text);
    expect_same(config_of({"--config", (dir.path() / "agent.toml").string()}), AgentConfig{});
  }
}

TEST(AgentConfig, ConfigTextReadsLikeTheFile) {
  const auto result = parse_agent_config_text(kEveryKey);
  ASSERT_TRUE(std::holds_alternative<AgentConfig>(result));
  expect_same(std::get<AgentConfig>(result), kEveryKeyConfig);
  try {
    parse_agent_config_text("interval = \"5\"\n");
    ADD_FAILURE() << "a duration without a unit was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::usage);
  }
}

// A terminal escape in a value (or a binary given as the config) must not
// reach the one-line message: the text is refused before it is parsed.
TEST(AgentConfig, ControlBytesInConfigTextAreRefused) {
  try {
    parse_agent_config_text("interval = \"\x1b[31m5s\"\n");
    ADD_FAILURE() << "an escape sequence was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::usage);
    EXPECT_EQ(std::string(error.what()),
              "the config is not a text file (byte 0x1b at offset 12): give the TOML file of the settings");
  }
}

// The limit is read in chunks: a file of exactly 1 MiB is read whole, and
// one byte more is refused.
TEST(AgentConfig, ConfigTextUpToOneMebibyteIsRead) {
  constexpr size_t kLimit = size_t{1} << 20;
  const std::string setting = "interval = \"7s\"\n";
  const std::string comment = "#" + std::string(kLimit - setting.size() - 2, 'x') + "\n";
  const auto result = parse_agent_config_text(comment + setting);
  ASSERT_TRUE(std::holds_alternative<AgentConfig>(result));
  EXPECT_EQ(std::get<AgentConfig>(result).interval, std::chrono::seconds(7));
  try {
    parse_agent_config_text("#" + comment + setting);
    ADD_FAILURE() << "a config of 1 MiB and one byte was read";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), "the config is larger than 1 MiB: is it the right file?");
  }
}

// Found by fuzzing the config file: libstdc++ reads a backreference's or a
// repeat's number into a long without a bound (undefined behaviour past 18
// digits). Refused before it is compiled; ordinary counts still work.
TEST(AgentConfig, NumbersTooLongForARegexAreRefused) {
  EXPECT_EQ(usage_error_of({"--comm", "a\\2222222222222222222222"}),
            "bad --comm 'a\\2222222222222222222222': a backreference or repeat count of 22 digits; a command name has "
            "at most 15 characters, use at most 9 digits");
  EXPECT_NE(usage_error_of({"--comm", "a{1,99999999999999999999}"}).find("repeat count of 20 digits"),
            std::string::npos);
  EXPECT_NE(usage_error_of({"--comm", "a{12345678901}"}).find("of 11 digits"), std::string::npos);
  EXPECT_EQ(config_of({"--comm", "^worker-[0-9]{1,15}$"}).comm_pattern, "^worker-[0-9]{1,15}$");
  EXPECT_EQ(config_of({"--comm", "^app12345678901234$"}).comm_pattern, "^app12345678901234$") << "digits of a name";
}

// Found by fuzzing the config file: both overflowed the stack in
// libstdc++'s std::regex instead of being refused.
TEST(AgentConfig, HugeValuesAreUsageErrorsNotCrashes) {
  const std::string url = "http://" + std::string(200000, 'a');
  EXPECT_EQ(config_of({"--alertmanager-url", url + ":9093/"}).alertmanager.url, url + ":9093");
  EXPECT_NE(usage_error_of({"--alertmanager-url", url + ":x"}).find("HOST:PORT"), std::string::npos);
  EXPECT_NE(usage_error_of({"--comm", std::string(50000, '(')}).find("a pattern of 50000 characters"),
            std::string::npos);
  EXPECT_NE(usage_error_of({"--comm", std::string(1025, 'a')}).find("use at most 1024"), std::string::npos);
  EXPECT_EQ(config_of({"--comm", std::string(1024, 'a')}).comm_pattern, std::string(1024, 'a'));
  try {
    parse_agent_config_text("comm = \"" + std::string(50000, '(') + "\"\n");
    ADD_FAILURE() << "a 50000-character pattern was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::usage);
  }
}

TEST(AgentConfig, AlertmanagerUrlShapes) {
  for (const std::string good : {"http://am", "http://am/", "http://am:9093", "http://10.0.0.1:1/", "https://am",
                                 "https://am:9443/alertmanager", "http://[::1]:9093", "https://[fd00::7]/am/"}) {
    EXPECT_NO_THROW(config_of({"--alertmanager-url", good})) << good;
  }
  for (const std::string bad :
       {"http://", "http:///", "http://:9093", "http://am:", "http://am:123456", "http://am:90a3", "http://a:1:2",
        "HTTP://am", "https://[zz]:1", "http://[::1", "http://[::1]x", "http://am/a b", "http://am/x#y", "ftp://am"}) {
    EXPECT_NE(usage_error_of({"--alertmanager-url", bad}).find("HOST:PORT"), std::string::npos) << bad;
  }
}

TEST(AgentConfig, FlagsOverrideTheFile) {
  TempDir dir;
  write_file(dir.path() / "agent.toml", kEveryKey);
  const auto config = config_of(
      {"--config", (dir.path() / "agent.toml").string(), "--interval", "90s", "--pid", "5", "--log-format", "text"});
  EXPECT_EQ(config.interval, 90s);
  EXPECT_EQ(config.pids, (std::vector<pid_t>{5}));
  EXPECT_EQ(config.log_format, log::Format::text);
  EXPECT_EQ(config.top_processes, 20u);  // from the file
}

TEST(AgentConfig, HelpAndVersionAreNotErrors) {
  const auto help = help_of({"--help"});
  for (const auto* flag : {"--listen-address", "--interval", "--top-processes", "--top-endpoints", "--pid", "--comm",
                           "--cgroup-prefix", "--host-root", "--host-proc", "--host-cgroup", "--host-log",
                           "--log-level", "--log-format", "--ring-buffer-bytes", "--config", "--version"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.find("19849"), std::string::npos) << "help shows the default port";
  EXPECT_EQ(help_of({"-h"}), help);
  EXPECT_EQ(help_of({"--version"}).rfind("leakwatch-agent ", 0), 0u);
}

// A container mounts the host's filesystems below one directory; one flag
// says where, and a path given on its own still wins.
TEST(AgentConfig, HostRootPlacesEveryHostPathBelowIt) {
  TempDir host;
  const auto root = host.path().string();
  const auto config = config_of({"--host-root", root});
  EXPECT_EQ(config.paths.proc, host.path() / "proc");
  EXPECT_EQ(config.paths.cgroup, host.path() / "sys/fs/cgroup");
  EXPECT_EQ(config.paths.log, host.path() / "var/log");
  const auto mixed = config_of({"--host-root", root, "--host-log", "/data/kubelet-logs"});
  EXPECT_EQ(mixed.paths.proc, host.path() / "proc");
  EXPECT_EQ(mixed.paths.log, "/data/kubelet-logs");
}

TEST(AgentConfig, HelpWinsOverABadValue) { EXPECT_FALSE(help_of({"--interval", "5x", "--help"}).empty()); }

// --- bad input: one line that names the flag or key and the value -------------

struct BadCase {
  std::vector<std::string> args;
  std::vector<std::string> mentions;
};

TEST(AgentConfig, BadFlagValues) {
  const std::vector<BadCase> cases = {
      {{"--backend", "ebpf"}, {"--backend", "'ebpf'", "auto, bpf or netlink"}},
      {{"--btf", "/nonexistent/vmlinux.btf"}, {"--btf", "'/nonexistent/vmlinux.btf'", "BTF file"}},
      {{"--btf", "/"}, {"--btf", "'/'", "BTF file"}},
      {{"--interval", "5x"}, {"--interval", "'5x'", "5s"}},
      {{"--interval", "5"}, {"--interval", "'5'"}},
      {{"--interval", "-5s"}, {"--interval", "'-5s'"}},
      {{"--interval", "0s"}, {"--interval", "'0s'"}},
      {{"--interval", "50ms"}, {"--interval", "'50ms'", "100ms"}},
      {{"--interval", "99ms"}, {"--interval", "100ms"}},
      {{"--top-processes", "0"}, {"--top-processes", "'0'"}},
      {{"--top-processes", "many"}, {"--top-processes", "'many'"}},
      {{"--top-endpoints", "0"}, {"--top-endpoints", "'0'"}},
      {{"--top-endpoints", "-1"}, {"--top-endpoints", "'-1'"}},
      {{"--pid", "abc"}, {"--pid", "'abc'"}},
      {{"--pid", "0"}, {"--pid", "'0'"}},
      {{"--pid", "12,x"}, {"--pid", "'x'"}},
      {{"--comm", "([a-z"}, {"--comm", "'([a-z'", "regex"}},
      {{"--log-level", "verbose"}, {"--log-level", "'verbose'", "debug, info, warn, error"}},
      {{"--log-format", "xml"}, {"--log-format", "'xml'", "text, json"}},
      {{"--ring-buffer-bytes", "5000"}, {"--ring-buffer-bytes", "'5000'", "power of two"}},
      {{"--ring-buffer-bytes", "2048"}, {"--ring-buffer-bytes", "'2048'", "4096"}},
      {{"--ring-buffer-bytes", "4MiB"}, {"--ring-buffer-bytes", "'4MiB'"}},
      {{"--ring-buffer-bytes", "2147483648"}, {"--ring-buffer-bytes", "'2147483648'", "1 GiB"}},
      {{"--listen-address", "19849"}, {"--listen-address", "'19849'", "host:port"}},
      {{"--listen-address", ":19849"}, {"--listen-address", "':19849'"}},
      {{"--listen-address", "0.0.0.0:"}, {"--listen-address", "'0.0.0.0:'"}},
      {{"--listen-address", "0.0.0.0:65536"}, {"--listen-address", "'0.0.0.0:65536'", "0-65535"}},
      {{"--listen-address", "0.0.0.0:http"}, {"--listen-address", "'0.0.0.0:http'"}},
      {{"--listen-address", "::1:9100"}, {"--listen-address", "'::1:9100'", "[ipv6]:port"}},
      {{"--listen-address", "[nope]:9100"}, {"--listen-address", "'[nope]:9100'"}},
      {{"--listen-address", "[::1]9100"}, {"--listen-address", "'[::1]9100'"}},
      {{"--listen-address", "999.1.1.1:80"}, {"--listen-address", "'999.1.1.1:80'"}},
      {{"--listen-address", "10.1.1:80"}, {"--listen-address", "'10.1.1:80'"}},
      {{"--analysis-window", "long"}, {"--analysis-window", "'long'", "5m"}},
      {{"--stall-after", "10"}, {"--stall-after", "'10'"}},
      {{"--page-after", "later"}, {"--page-after", "'later'", "0s to page at once"}},
      {{"--page-after", "-5m"}, {"--page-after", "'-5m'"}},
      {{"--record-dir", "/tmp/r"}, {"--record-dir", "'/tmp/r'", "--pid, --comm or --cgroup-prefix"}},
      {{"--pid", "1", "--record-dir", ""}, {"--record-dir", "use a directory"}},
      {{"--pid", "1", "--record-max-bytes", "4096"}, {"--record-max-bytes", "it needs --record-dir"}},
      {{"--pid", "1", "--record-dir", "/tmp/r", "--record-max-bytes", "1000"},
       {"--record-max-bytes", "'1000'", "4096 or more"}},
      {{"--alertmanager-url", "ftp://am:9093"}, {"--alertmanager-url", "'ftp://am:9093'", "http(s)://HOST:PORT"}},
      {{"--alertmanager-url", "am:9093"}, {"--alertmanager-url", "'am:9093'"}},
      {{"--alertmanager-url", "http://am:9093?x=1"}, {"--alertmanager-url", "'http://am:9093?x=1'"}},
      {{"--alertmanager-url", "https://am:9093", "--alertmanager-timeout", "soon"},
       {"--alertmanager-timeout", "'soon'"}},
      {{"--alertmanager-ca-file", "/etc/ssl/certs/ca-certificates.crt"}, {"--alertmanager-url"}},
      {{"--alertmanager-url", "http://am:9093", "--alertmanager-ca-file", "/etc/hostname"},
       {"--alertmanager-ca-file", "https://"}},
      {{"--alertmanager-url", "https://am:9093", "--alertmanager-ca-file", "/nonexistent/ca.pem"},
       {"--alertmanager-ca-file", "'/nonexistent/ca.pem'", "cannot read"}},
      {{"--alertmanager-url", "https://am:9093", "--alertmanager-username", "lw"},
       {"--alertmanager-username", "--alertmanager-password-file"}},
      {{"--alertmanager-url", "https://am:9093", "--alertmanager-password-file", "/etc/hostname"},
       {"--alertmanager-username", "--alertmanager-password-file"}},
      {{"--alertmanager-url", "https://am:9093", "--alertmanager-username", "lw", "--alertmanager-password-file",
        "/nonexistent/password"},
       {"--alertmanager-password-file", "'/nonexistent/password'", "cannot read"}},
      {{"--alertmanager-url", "https://am:9093", "--alertmanager-bearer-token-file", "/nonexistent/token"},
       {"--alertmanager-bearer-token-file", "'/nonexistent/token'", "cannot read"}},
      {{"--alertmanager-url", "https://am:9093", "--alertmanager-bearer-token-file", "/dev/zero"},
       {"--alertmanager-bearer-token-file", "'/dev/zero'", "larger than 64 KiB"}},
      {{"--host-root", "/no/such/host"}, {"--host-root", "'/no/such/host'", "/host"}},
  };
  for (const auto& bad : cases) {
    const auto message = usage_error_of(bad.args);
    for (const auto& mention : bad.mentions) {
      EXPECT_NE(message.find(mention), std::string::npos) << "'" << message << "' lacks " << mention;
    }
  }
}

// Prometheus's alerting config, as flags and as TOML keys: TLS with a CA
// file, basic auth or a bearer token, the secrets read from files at start.
TEST(AgentConfig, AlertmanagerTlsAndCredentialsFromFiles) {
  TempDir dir;
  write_file(dir.path() / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  write_file(dir.path() / "password", "s3cret-pw\n");
  write_file(dir.path() / "token", "tok-123\r\n");
  const auto basic = config_of({"--alertmanager-url", "https://am.example.com/alertmanager/", "--alertmanager-ca-file",
                                (dir.path() / "ca.pem").string(), "--alertmanager-username", "leakwatch",
                                "--alertmanager-password-file", (dir.path() / "password").string()});
  EXPECT_EQ(basic.alertmanager.url, "https://am.example.com/alertmanager");
  EXPECT_EQ(basic.alertmanager.ca_file, (dir.path() / "ca.pem").string());
  EXPECT_EQ(basic.alertmanager.username, "leakwatch");
  EXPECT_EQ(basic.alertmanager.password, "s3cret-pw") << "the trailing newline is not part of it";
  EXPECT_TRUE(basic.alertmanager.bearer_token.empty());

  write_file(dir.path() / "agent.toml",
             "alertmanager-url = \"https://[::1]:9093\"\n"
             "alertmanager-bearer-token-file = \"" +
                 (dir.path() / "token").string() + "\"\n");
  const auto bearer = config_of({"--config", (dir.path() / "agent.toml").string()});
  EXPECT_EQ(bearer.alertmanager.url, "https://[::1]:9093");
  EXPECT_EQ(bearer.alertmanager.bearer_token, "tok-123");
  EXPECT_TRUE(bearer.alertmanager.username.empty());
}

TEST(AgentConfig, AlertmanagerBasicAuthAndBearerTokenTogetherIsAnError) {
  TempDir dir;
  write_file(dir.path() / "password", "pw");
  write_file(dir.path() / "token", "tok");
  const auto message = usage_error_of({"--alertmanager-url", "https://am:9093", "--alertmanager-username", "lw",
                                       "--alertmanager-password-file", (dir.path() / "password").string(),
                                       "--alertmanager-bearer-token-file", (dir.path() / "token").string()});
  EXPECT_NE(message.find("not both"), std::string::npos) << message;
}

// A secret never appears in a message: not from a file, not from a URL.
TEST(AgentConfig, AlertmanagerSecretsAreNeverInMessages) {
  TempDir dir;
  write_file(dir.path() / "empty", "\n");
  const auto empty = usage_error_of(
      {"--alertmanager-url", "https://am:9093", "--alertmanager-bearer-token-file", (dir.path() / "empty").string()});
  EXPECT_NE(empty.find("empty"), std::string::npos) << empty;
  const auto in_url = usage_error_of({"--alertmanager-url", "https://lw:hunter2@am:9093"});
  EXPECT_EQ(in_url.find("hunter2"), std::string::npos) << in_url;
  EXPECT_NE(in_url.find("--alertmanager-password-file"), std::string::npos) << in_url;
}

TEST(AgentConfig, UnknownFlag) {
  const auto message = usage_error_of({"--intervall", "5s"});
  EXPECT_NE(message.find("--intervall"), std::string::npos) << message;
  EXPECT_NE(message.find("--help"), std::string::npos) << message;
}

TEST(AgentConfig, UnknownConfigKeyIsRejectedNotIgnored) {
  TempDir dir;
  const auto file = dir.path() / "agent.toml";
  write_file(file, "interval = \"10s\"\nintervall = \"20s\"\n");
  const auto message = usage_error_of({"--config", file.string()});
  EXPECT_NE(message.find("unknown key 'intervall'"), std::string::npos) << message;
  EXPECT_NE(message.find(file.string()), std::string::npos) << message;
}

TEST(AgentConfig, UnknownConfigSectionIsRejected) {
  TempDir dir;
  write_file(dir.path() / "agent.toml", "[agent]\ninterval = \"10s\"\n");
  const auto message = usage_error_of({"--config", (dir.path() / "agent.toml").string()});
  EXPECT_NE(message.find("unknown section [agent]"), std::string::npos) << message;
}

TEST(AgentConfig, BadValueInTheFileNamesTheKey) {
  TempDir dir;
  write_file(dir.path() / "agent.toml", "interval = \"5x\"\n");
  const auto message = usage_error_of({"--config", (dir.path() / "agent.toml").string()});
  EXPECT_NE(message.find("interval '5x'"), std::string::npos) << message;
}

TEST(AgentConfig, MissingConfigFile) {
  const auto message = usage_error_of({"--config", "/nonexistent/leakwatch-agent.toml"});
  EXPECT_NE(message.find("--config"), std::string::npos) << message;
  EXPECT_NE(message.find("/nonexistent/leakwatch-agent.toml"), std::string::npos) << message;
}

// --- parse_duration ------------------------------------------------------------

TEST(ParseDuration, Table) {
  const std::vector<std::pair<std::string_view, std::optional<std::chrono::milliseconds>>> table = {
      {"250ms", 250ms},
      {"5s", 5s},
      {"2m", 2min},
      {"1h", 1h},
      {"1.5s", 1500ms},
      {"0.5m", 30s},
      {"100ms", 100ms},
      {"1ms", 1ms},
      {"007s", 7s},
      {"5", std::nullopt},
      {"s", std::nullopt},
      {"", std::nullopt},
      {"-5s", std::nullopt},
      {"0s", std::nullopt},
      {"0ms", std::nullopt},
      {"0.4ms", std::nullopt},
      {"5x", std::nullopt},
      {"5 s", std::nullopt},
      {" 5s", std::nullopt},
      {"5s ", std::nullopt},
      {"5S", std::nullopt},
      {"1.2.3s", std::nullopt},
      {"5sec", std::nullopt},
      {"1e3ms", std::nullopt},
      {"5s5", std::nullopt},
      {"1d", std::nullopt},
      {"99999999999999999999h", std::nullopt},
  };
  for (const auto& [text, expected] : table) EXPECT_EQ(parse_duration(text), expected) << "'" << text << "'";
}

}  // namespace
}  // namespace lw
