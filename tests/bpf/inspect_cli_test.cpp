// `leakwatch inspect` as a user runs it: the real binary, real processes,
// and every documented failure with its exit code and one-line message.
#include <bpf/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>

#include <fmt/format.h>

#include "../unit/fake_files.h"
#include "bpf_test_support.h"
#include "collect/procfs.h"
#include "private_bpffs.h"
#include "run_command.h"
#include "test_cgroup.h"

namespace lw::test {
namespace {

// Runs the CLI; before_exec runs in the child (to drop privileges, say).
CommandResult run_cli(const std::vector<std::string>& args, const std::function<void()>& before_exec = {}) {
  std::vector<std::string> argv{LW_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, Output::capture, before_exec);
}

void expect_one_line_error(const CommandResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line on stderr, got: " << r.err;
  EXPECT_EQ(r.err.rfind("leakwatch: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "expected '" << needle << "' in: " << r.err;
}

class InspectCliTest : public BpfTest {};

// pthread_exit from main: the leader is a zombie, the threads hold 3 unix
// pairs. inspect used to call the process a zombie (exit 5) and the iterator
// reported each socket once per thread.
TEST_F(InspectCliTest, AProcessWhoseMainThreadExitedIsInspectedOncePerSocket) {
  constexpr int kPairs = 3, kThreads = 3;
  auto holder =
      start_workload({"leader-exits", "--unix-pairs", std::to_string(kPairs), "--threads", std::to_string(kThreads)});
  holder->expect_line("ready ");
  ASSERT_TRUE(eventually([&] { return read_stat(HostPaths{}, holder->pid())->state == 'Z'; }));

  const ProcessInfo info = read_process(HostPaths{}, holder->pid());
  EXPECT_TRUE(info.alive());
  EXPECT_TRUE(info.leader_exited);
  EXPECT_TRUE(info.status.vm_rss) << "memory is read from a live thread";
  EXPECT_GE(info.open_fds.value_or(0), 2u * kPairs);

  const auto r = run_cli({"inspect", std::to_string(holder->pid()), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["sockets"]["total"], 2 * kPairs);
  EXPECT_EQ(report["sockets"]["descriptors"], 2 * kPairs) << "one record per socket fd, not one per thread";
  EXPECT_EQ(report["sockets"]["by_kind"]["unix-stream"], 2 * kPairs);
  EXPECT_TRUE(report["memory"]["footprint_bytes"].is_number());
}

// Bytes waiting at the reading end of a unix stream: at that socket and in
// their own total, apart from TCP's, through both backends.
TEST_F(InspectCliTest, BytesWaitingOnUnixStreamsAreShownAtTheReader) {
  constexpr int kPairs = 2, kUnread = 7000;
  auto holder =
      start_workload({"sockets", "--unix-pairs", std::to_string(kPairs), "--unix-unread", std::to_string(kUnread)});
  holder->expect_line("ready ");
  for (const char* backend : {"bpf", "netlink"}) {
    const auto r = run_cli({"inspect", std::to_string(holder->pid()), "--json", "--backend", backend});
    ASSERT_EQ(r.exit_code, 0) << backend << ": " << r.err;
    const auto report = nlohmann::json::parse(r.out);
    EXPECT_EQ(report["sockets"]["unix_unread_bytes"], kPairs * kUnread) << backend;
    EXPECT_EQ(report["sockets"]["unix_sockets_with_unread"], kPairs) << backend;
    EXPECT_EQ(report["sockets"]["unread_bytes"], 0) << backend;
    int readers = 0;
    for (const auto& socket : report["top_sockets"]) readers += socket["unread_bytes"] == kUnread;
    EXPECT_EQ(readers, kPairs) << backend << ": " << report["top_sockets"].dump();
  }
  const auto text = run_cli({"inspect", std::to_string(holder->pid())});
  EXPECT_NE(text.out.find("Unread on unix streams: 13.7 KiB waiting for the process to read, on 2 sockets"),
            std::string::npos)
      << text.out;
}

TEST_F(InspectCliTest, JsonReportShowsUnreadDataPerRemoteEndpoint) {
  constexpr int kConnections = 6;
  constexpr uint64_t kBytes = 5000;
  auto server = start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", std::to_string(kBytes),
                                "--count", std::to_string(kConnections)});
  const std::string port = server->expect_line("ready ");
  auto client =
      start_workload({"connect", "--to", "127.0.0.1", "--port", port, "--count", std::to_string(kConnections)});
  client->expect_line("ready ");
  server->expect_line("sent ");

  nlohmann::json report;
  ASSERT_TRUE(eventually([&] {
    const auto r = run_cli({"inspect", std::to_string(client->pid()), "--json"});
    if (r.exit_code != 0) return false;
    report = nlohmann::json::parse(r.out);
    return report["sockets"]["unread_bytes"] == kConnections * kBytes;
  })) << report.dump(2);
  EXPECT_EQ(report["schema_version"], 1);
  EXPECT_EQ(report["process"]["pid"], client->pid());
  EXPECT_EQ(report["process"]["command"], "lw-workload");
  EXPECT_GE(report["memory"]["socket_receive_queue_bytes"].get<uint64_t>(), kConnections * kBytes);
  EXPECT_GT(report["memory"]["footprint_bytes"].get<uint64_t>(),
            report["memory"]["socket_receive_queue_bytes"].get<uint64_t>());
  EXPECT_EQ(report["sockets"]["by_tcp_state"]["ESTABLISHED"], kConnections);
  const auto& top = report["endpoints"]["top"][0];
  EXPECT_EQ(top["peer"], "127.0.0.1:" + port);
  EXPECT_EQ(top["direction"], "outbound");
  EXPECT_EQ(top["connections"], kConnections);
  EXPECT_EQ(top["unread_bytes"], kConnections * kBytes);
  EXPECT_EQ(top["max_unread_bytes"], kBytes);
  EXPECT_EQ(report["top_sockets"].size(), static_cast<size_t>(kConnections));
  EXPECT_EQ(report["top_sockets"][0]["unread_bytes"], kBytes);
  EXPECT_TRUE(report["pod"].is_null()) << "not in a pod: " << report["pod"];

  // The server's view: one inbound group for the client's address.
  const auto server_report = nlohmann::json::parse(run_cli({"inspect", std::to_string(server->pid()), "--json"}).out);
  const auto& inbound = server_report["endpoints"]["top"][0];
  EXPECT_EQ(inbound["peer"], "127.0.0.1");
  EXPECT_EQ(inbound["direction"], "inbound");
  EXPECT_EQ(inbound["local_port"], std::stoi(port));
  EXPECT_EQ(inbound["connections"], kConnections);

  // --top bounds the lists.
  const auto bounded =
      nlohmann::json::parse(run_cli({"inspect", std::to_string(client->pid()), "--json", "--top", "2"}).out);
  EXPECT_EQ(bounded["top_sockets"].size(), 2u);

  // The terminal report names the endpoint and the unread bytes.
  const auto text = run_cli({"inspect", std::to_string(client->pid())});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("127.0.0.1:" + port), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Unread: 29.3 KiB received but not yet read by the process, on 6 sockets"), std::string::npos)
      << text.out;
}

// A process in a pod's container cgroup, with the kubelet's log directories
// for it, inspected as from the agent's container (the host's filesystems
// below one --host-root): the report names its pod and container.
TEST_F(InspectCliTest, NamesThePodAndContainerOfAProcess) {
  TempDir host;
  std::filesystem::create_directories(host.path() / "sys" / "fs");
  std::filesystem::create_symlink("/proc", host.path() / "proc");
  std::filesystem::create_symlink("/sys/fs/cgroup", host.path() / "sys" / "fs" / "cgroup");
  const std::string uid = fmt::format("0c4b6e2a-1d3f-4a5b-8c7d-{:012d}", getpid());
  const std::string container_id = fmt::format("{:064x}", getpid());
  add_kubelet_container_log(host.path() / "var" / "log", "media", "transcoder-1", uid, "worker", container_id);
  TestCgroup cgroup("leakwatch-test-inspect-" + std::to_string(getpid()) + "/kubepods/besteffort/pod" + uid + "/" +
                    container_id);
  ChildProcess process(cgroup.wrap({LW_WORKLOAD_PATH, "sockets", "--unix-pairs", "1", "--max-seconds", "60"}));
  process.expect_line("ready");

  const auto r = run_cli({"--host-root", host.path().string(), "inspect", std::to_string(process.pid()), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["pod"], (nlohmann::json{{"namespace", "media"},
                                           {"pod", "transcoder-1"},
                                           {"pod_uid", uid},
                                           {"container", "worker"},
                                           {"container_id", container_id}}));
  EXPECT_EQ(report["cgroup"]["path"], cgroup.path()) << "the cgroup, read through --host-root";
  EXPECT_NE(report["cgroup"]["usage_bytes"], nullptr);
  const auto text = run_cli({"--host-root", host.path().string(), "inspect", std::to_string(process.pid())});
  EXPECT_NE(text.out.find("Pod media/transcoder-1 (uid " + uid + "), container worker\n"), std::string::npos)
      << text.out;
}

TEST_F(InspectCliTest, MalformedPidsAreUsageErrors) {
  expect_one_line_error(run_cli({"inspect", "abc"}), 2, "'abc' is not a PID");
  expect_one_line_error(run_cli({"inspect", "12x"}), 2, "'12x' is not a PID");
  expect_one_line_error(run_cli({"inspect", "0"}), 2, "not a valid PID");
  expect_one_line_error(run_cli({"inspect", "--", "-5"}), 2, "not a valid PID");
  expect_one_line_error(run_cli({"inspect", "99999999999999999999"}), 2, "is not a PID");
  expect_one_line_error(run_cli({"inspect"}), 2, "pid is required");
  expect_one_line_error(run_cli({"inspect", "1", "--top", "0"}), 2, "--top");
}

TEST_F(InspectCliTest, NonexistentPid) {
  pid_t free_pid = 4194000;
  while (std::filesystem::exists("/proc/" + std::to_string(free_pid))) --free_pid;
  expect_one_line_error(run_cli({"inspect", std::to_string(free_pid)}), 3, "no process with PID");
}

// Without the check, every PID looked absent: "no process with PID 1".
TEST_F(InspectCliTest, UnreadableHostProcNamesThePath) {
  expect_one_line_error(run_cli({"--host-proc", "/nonexistent/proc", "inspect", "1"}), 9,
                        "cannot read /nonexistent/proc/1/stat");
}

TEST_F(InspectCliTest, KernelThread) {
  std::optional<pid_t> kthread;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto stat = read_stat(HostPaths{}, std::stoi(name));
    if (stat && stat->is_kernel_thread()) {
      kthread = std::stoi(name);
      break;
    }
  }
  ASSERT_TRUE(kthread) << "every Linux system has kernel threads";
  expect_one_line_error(run_cli({"inspect", std::to_string(*kthread)}), 4, "kernel thread");
}

TEST_F(InspectCliTest, Zombie) {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_TRUE(eventually([&] { return read_stat(HostPaths{}, child)->state == 'Z'; }));
  expect_one_line_error(run_cli({"inspect", std::to_string(child)}), 5, "zombie");
  waitpid(child, nullptr, 0);
}

// A /proc/PID/stat line as Linux writes it, with 23 of its fields.
std::string stat_line(pid_t pid, const std::string& comm) {
  return fmt::format("{} ({}) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n", pid, comm);
}

// A fake /proc in dir, with an init as a host's has (the CLI checks it at
// start); the test adds the process it inspects.
std::filesystem::path fake_proc_in(const TempDir& dir) {
  write_file(dir.path() / "1" / "stat", "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n");
  return dir.path();
}

// A fake /proc that lists a PID the kernel does not know: exactly what the
// CLI sees when a process exits between reading /proc and the socket pass.
TEST_F(InspectCliTest, ProcessExitedDuringSnapshot) {
  pid_t gone = 4194000;
  while (std::filesystem::exists("/proc/" + std::to_string(gone))) --gone;
  const TempDir dir;
  const auto fake_proc = fake_proc_in(dir);
  write_file(fake_proc / std::to_string(gone) / "stat", stat_line(gone, "gone"));
  expect_one_line_error(run_cli({"--host-proc", fake_proc.string(), "inspect", std::to_string(gone)}), 6,
                        "exited before its sockets could be read");
}

// /proc/PID/status of other kernels, or other /proc implementations
// (gVisor, a copied tree), for a live process the socket pass sees: what
// is missing is reported as unknown, never as 0, and never a crash.
TEST_F(InspectCliTest, StatusWithoutMemoryLinesReportsThemAsUnknown) {
  auto process = start_workload({"sockets", "--unix-pairs", "1"});
  process->expect_line("ready");
  const pid_t pid = process->pid();
  const std::string head = fmt::format("Name:\tlw-workload\nState:\tS (sleeping)\nTgid:\t{}\n", pid);
  struct Layout {
    const char* what;
    std::optional<std::string> status;  // nullopt: no status file
    bool resident_known;                // VmRSS is there: the footprint is known
  };
  const Layout layouts[] = {
      {"before Linux 4.5: VmRSS, no RssAnon/RssFile/RssShmem", head + "VmRSS:\t    2048 kB\nThreads:\t1\n", true},
      {"no memory lines at all", head + "Threads:\t1\n", false},
      {"lines cut before their unit", head + "VmRSS:\t    2048\nRssAnon:\t\nThreads:\t1\n", false},
      {"an empty status", "", false},
      {"no status file", std::nullopt, false},
  };
  for (const auto& layout : layouts) {
    SCOPED_TRACE(layout.what);
    const TempDir dir;
    const auto fake_proc = fake_proc_in(dir);
    write_file(fake_proc / std::to_string(pid) / "stat", stat_line(pid, "lw-workload"));
    if (layout.status) write_file(fake_proc / std::to_string(pid) / "status", *layout.status);

    const auto r = run_cli({"--host-proc", fake_proc.string(), "inspect", std::to_string(pid), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto memory = nlohmann::json::parse(r.out)["memory"];
    for (const auto* field : {"rss_anon_bytes", "rss_file_bytes", "rss_shmem_bytes"}) {
      EXPECT_TRUE(memory[field].is_null()) << field << " in " << memory;
    }
    EXPECT_EQ(memory["footprint_bytes"].is_number(), layout.resident_known) << memory;

    const auto text = run_cli({"--host-proc", fake_proc.string(), "inspect", std::to_string(pid)});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_TRUE(text.err.empty()) << text.err;
    EXPECT_NE(text.out.find("unknown"), std::string::npos) << text.out;
  }
}

// A /proc/PID/stat that is not the layout proc(5) describes (cut short, no
// parentheses round the command, empty): one line naming the file, exit 9.
TEST_F(InspectCliTest, StatOfAnotherLayoutIsOneLineNamingTheFile) {
  auto process = start_workload({"sockets", "--unix-pairs", "1"});
  process->expect_line("ready");
  const pid_t pid = process->pid();
  for (const std::string& stat :
       {fmt::format("{} (lw-workload) S 1 1 1 0 -1 4194560 0 0\n", pid),
        fmt::format("{} lw-workload S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345\n", pid),
        fmt::format("{} (lw-workload) S 1 1 1 0 -1 flags 0 0 0 0 0 0 0 0 20 0 1 0 12345\n", pid), std::string()}) {
    SCOPED_TRACE(stat);
    const TempDir dir;
    const auto fake_proc = fake_proc_in(dir);
    const auto stat_path = fake_proc / std::to_string(pid) / "stat";
    write_file(stat_path, stat);
    write_file(fake_proc / std::to_string(pid) / "status", "Name:\tlw-workload\n");
    expect_one_line_error(run_cli({"--host-proc", fake_proc.string(), "inspect", std::to_string(pid)}), 9,
                          stat_path.string());
  }
}

std::vector<std::filesystem::path> entries_of(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.push_back(e.path());
  return out;
}

// The first inspect pins the loaded iterator; the next ones reuse it, with
// the same report. Anything else at the pin's name is not run.
TEST_F(InspectCliTest, TheLoadedIteratorIsKeptInABpfFilesystemAndReused) {
  const PrivateBpfFs bpffs;
  const auto cache = bpffs.path() / "leakwatch";
  auto proc = start_workload({"sockets", "--udp-bind", "127.0.0.1", "--unix-pairs", "3"});
  proc->expect_line("ready ");
  const std::vector<std::string> inspect{"-v",     "inspect",     std::to_string(proc->pid()),
                                         "--json", "--bpf-cache", cache.string()};
  const auto sockets_total = [](const CommandResult& r) { return nlohmann::json::parse(r.out)["sockets"]["total"]; };

  const auto first = run_cli(inspect);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(sockets_total(first), count_socket_fds(proc->pid()));
  const auto pins = entries_of(cache);
  ASSERT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins[0].filename().string().rfind("socket_iter-", 0), 0u) << pins[0];
  EXPECT_EQ(first.err.find("reusing the socket iterator"), std::string::npos);

  const auto second = run_cli(inspect);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("reusing the socket iterator pinned at " + pins[0].string()), std::string::npos)
      << second.err;
  EXPECT_EQ(sockets_total(second), sockets_total(first));

  // A map where the program should be: loaded afresh, and the report is right.
  std::filesystem::remove(pins[0]);
  const int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "not_an_iter", 4, 4, 1, nullptr);
  ASSERT_GE(map, 0) << std::strerror(errno);
  ASSERT_EQ(bpf_obj_pin(map, pins[0].c_str()), 0) << std::strerror(errno);
  close(map);
  const auto third = run_cli(inspect);
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_NE(third.err.find("is not leakwatch's socket iterator"), std::string::npos) << third.err;
  EXPECT_EQ(sockets_total(third), count_socket_fds(proc->pid()));
}

// nobody: setuid from root to a non-root user clears every capability.
void become_nobody() {
  if (setgid(65534) != 0 || setuid(65534) != 0) _exit(120);
}

TEST_F(InspectCliTest, MissingPrivileges) {
  expect_one_line_error(run_cli({"inspect", std::to_string(getpid()), "--backend", "bpf"}, become_nobody), 7,
                        "CAP_BPF");
  // Without BPF, netlink would see no socket of a process it may not read:
  // that is an error too, not an empty report.
  expect_one_line_error(run_cli({"inspect", std::to_string(getpid())}, become_nobody), 7,
                        fmt::format("cannot read /proc/{}/fd", getpid()));
}

// The netlink backend needs no privilege for one's own processes: a user
// without any capability gets the whole report of a process of theirs. One
// shell as that user starts the process (1 UDP socket, 2 unix pairs) and
// inspects it once it is ready; it ends with its parent.
TEST_F(InspectCliTest, AnUnprivilegedUserInspectsTheirOwnProcessThroughNetlink) {
  const TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  const auto ready = (dir.path() / "ready").string();
  const auto script = fmt::format(
      "{} sockets --udp-bind 127.0.0.1 --unix-pairs 2 --max-seconds 60 > {} & pid=$!; "
      "while ! grep -q ready {}; do sleep 0.05; done; exec {} inspect $pid --json",
      LW_WORKLOAD_PATH, ready, ready, LW_CLI_PATH);
  const auto r = run_command({"sh", "-c", script}, Output::capture, become_nobody);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("using the netlink socket backend: missing privileges"), std::string::npos) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["sockets"]["by_kind"]["udp"], 1) << r.out;
  EXPECT_EQ(report["sockets"]["by_kind"]["unix-stream"], 4) << r.out;
}

// A seccomp filter makes the kernel answer bpf(2) with ENOSYS, as a kernel
// built without BPF or a locked-down container runtime does.
void refuse_bpf_syscall() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    _exit(121);
  }
}

TEST_F(InspectCliTest, KernelRefusesBpf) {
  expect_one_line_error(run_cli({"inspect", std::to_string(getpid()), "--backend", "bpf"}, refuse_bpf_syscall), 8,
                        "the kernel refused");
}

// --backend auto (the default) falls back to netlink and says why, once.
TEST_F(InspectCliTest, WhereBpfIsRefusedAutoUsesNetlinkAndSaysWhy) {
  auto proc = start_workload({"sockets", "--udp-bind", "127.0.0.1", "--unix-pairs", "2"});
  proc->expect_line("ready ");
  const auto r = run_cli({"inspect", std::to_string(proc->pid()), "--json"}, refuse_bpf_syscall);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("using the netlink socket backend: the kernel refused"), std::string::npos) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["sockets"]["total"], count_socket_fds(proc->pid()));
}

// The whole command through each backend, on the same process: the same
// report, field for field (the idle times aside: the clock moves between).
TEST_F(InspectCliTest, BothBackendsGiveTheSameReport) {
  auto pair_server =
      start_workload({"serve", "--bind", "127.0.0.1", "--port", "0", "--send-bytes", "4000", "--count", "5"});
  const std::string port = pair_server->expect_line("ready ");
  auto client = start_workload({"connect", "--to", "127.0.0.1", "--port", port, "--count", "5"});
  client->expect_line("ready ");
  pair_server->expect_line("sent ");
  const auto comparable = [](const std::string& out) {
    auto report = nlohmann::json::parse(out);
    nlohmann::json kept = {
        {"sockets", report["sockets"]},
        {"endpoints", report["endpoints"]},
        {"top_sockets", report["top_sockets"]},
        {"queues", {report["memory"]["socket_receive_queue_bytes"], report["memory"]["socket_send_queue_bytes"]}}};
    for (auto& s : kept["top_sockets"]) s.erase("idle_seconds");
    for (auto& g : kept["endpoints"]["top"]) g.erase("max_idle_seconds");
    return kept;
  };
  for (const pid_t pid : {client->pid(), pair_server->pid()}) {
    nlohmann::json bpf, netlink;
    ASSERT_TRUE(eventually([&] {
      const auto a = run_cli({"inspect", std::to_string(pid), "--json", "--backend", "bpf"});
      const auto b = run_cli({"inspect", std::to_string(pid), "--json", "--backend", "netlink"});
      if (a.exit_code != 0 || b.exit_code != 0) return false;
      bpf = comparable(a.out);
      netlink = comparable(b.out);
      return bpf == netlink;
    })) << "bpf:\n"
        << bpf.dump(2) << "\nnetlink:\n"
        << netlink.dump(2);
    EXPECT_EQ(bpf["sockets"]["total"], pid == client->pid() ? 5 : 6);
  }
}

// The PIDs of a `sockets` workload's siblings, from its ready line.
std::vector<pid_t> siblings_of(const std::string& ready) {
  std::vector<pid_t> pids;
  const std::regex sibling(R"(sibling=(\d+))");
  for (auto it = std::sregex_iterator(ready.begin(), ready.end(), sibling); it != std::sregex_iterator(); ++it) {
    pids.push_back(std::stoi((*it)[1]));
  }
  return pids;
}

// One connection with 100,000 bytes unread, its descriptor dup()ed, then
// a fork(): each process used to report 3 TCP sockets and 200,000 unread
// bytes. Each holds 2 sockets (both ends) through 3 descriptors.
TEST_F(InspectCliTest, ASocketHeldTwiceAndByAForkedSiblingIsOneSocket) {
  constexpr int kUnread = 100000;
  auto holder = start_workload({"sockets", "--shared-tcp", std::to_string(kUnread), "--processes", "2"});
  const auto siblings = siblings_of(holder->expect_line("ready "));
  ASSERT_EQ(siblings.size(), 1u);
  for (const pid_t pid : {holder->pid(), siblings[0]}) {
    for (const char* backend : {"bpf", "netlink"}) {
      const auto r = run_cli({"inspect", std::to_string(pid), "--json", "--backend", backend});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const auto sockets = nlohmann::json::parse(r.out)["sockets"];
      const std::string where = fmt::format("PID {} through {}: {}", pid, backend, sockets.dump());
      EXPECT_EQ(sockets["total"], 2) << where;
      EXPECT_EQ(sockets["descriptors"], 3) << where;
      EXPECT_EQ(sockets["by_tcp_state"]["ESTABLISHED"], 2) << where;
      EXPECT_EQ(sockets["unread_bytes"], kUnread) << where;
      EXPECT_EQ(sockets["sockets_with_unread"], 1) << where;
    }
    // Which other process holds them: the BPF backend knows each socket
    // file's references, netlink does not.
    const pid_t other = pid == holder->pid() ? siblings[0] : holder->pid();
    const auto bpf = nlohmann::json::parse(run_cli({"inspect", std::to_string(pid), "--json"}).out);
    const auto& shared = bpf["shared_sockets"];
    ASSERT_EQ(shared.size(), 2u) << "PID " << pid << ": " << shared.dump();
    uint64_t descriptors = 0;
    for (const auto& s : shared) {
      ASSERT_EQ(s["other_holders"].size(), 1u) << s.dump();
      EXPECT_EQ(s["other_holders"][0]["pid"], other) << s.dump();
      EXPECT_EQ(s["other_holders"][0]["command"], "lw-workload") << s.dump();
      EXPECT_EQ(s["other_holders"][0]["descriptors"], s["descriptors"]) << "the fork copied every fd: " << s.dump();
      descriptors += s["descriptors"].get<uint64_t>();
    }
    EXPECT_EQ(descriptors, 3u);
    const auto netlink =
        nlohmann::json::parse(run_cli({"inspect", std::to_string(pid), "--json", "--backend", "netlink"}).out);
    EXPECT_TRUE(netlink["shared_sockets"].is_null());
  }
  const auto text = run_cli({"inspect", std::to_string(holder->pid())});
  EXPECT_NE(text.out.find("Sockets: 2 (tcp 2), held by 3 descriptors"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(fmt::format("also held by PID {} lw-workload (2 fds)", siblings[0])), std::string::npos)
      << text.out;
}

// A process holding its sockets alone: nothing said shared, and no whole
// node pass to find out (every socket's file has as many references as the
// process has descriptors of it).
TEST_F(InspectCliTest, SocketsHeldByOneProcessAloneAreNotShared) {
  auto holder = start_workload({"sockets", "--udp-bind", "127.0.0.1", "--unix-pairs", "3"});
  holder->expect_line("ready ");
  const auto r = run_cli({"-v", "inspect", std::to_string(holder->pid()), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["shared_sockets"], nlohmann::json::array());
  EXPECT_EQ(r.err.find("other holders"), std::string::npos) << r.err;
}

// Datagrams sent faster than a process reads them overflow its socket's
// buffer; both backends report the kernel's count of them.
TEST_F(InspectCliTest, UdpDatagramsDroppedAtAFullBufferAreReported) {
  auto holder = start_workload({"sockets", "--udp-bind", "127.0.0.1"});
  const std::string ready = holder->expect_line("ready udp=");
  const auto port = static_cast<uint16_t>(std::stoi(ready));
  flood_udp_on_loopback(port);
  const uint64_t dropped = kernel_udp_drops(holder->pid(), port);
  ASSERT_GT(dropped, 0u) << "2 MB of datagrams fit a buffer of " << ready;
  for (const char* backend : {"bpf", "netlink"}) {
    const auto r = run_cli({"inspect", std::to_string(holder->pid()), "--json", "--backend", backend});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["sockets"]["drops"], dropped) << backend;
  }
  const auto text = run_cli({"inspect", std::to_string(holder->pid())});
  EXPECT_NE(text.out.find(fmt::format("Dropped: {} packets dropped by the kernel on arrival", dropped)),
            std::string::npos)
      << text.out;
}

// A watch recorded, then read back: `leakwatch analyze` reaches the watch's
// verdict, finding for finding, from the file alone.
TEST_F(InspectCliTest, AWatchRecordedAndAnalyzedGivesTheSameVerdict) {
  TempDir dir;
  const std::string recording = (dir.path() / "watch.jsonl").string();
  auto leaking = start_workload({"heap-grow", "--bytes-per-second", "4000000"});
  leaking->expect_line("ready");
  const auto watch = run_cli({"inspect", std::to_string(leaking->pid()), "--watch", "4s", "--interval", "500ms",
                              "--record", recording, "--json"});
  ASSERT_EQ(watch.exit_code, 10) << watch.err;
  const auto watched = nlohmann::json::parse(watch.out)["watch"];
  ASSERT_FALSE(watched["findings"].empty()) << watched.dump(2);
  EXPECT_EQ(watched["findings"][0]["kind"], "heap-growth");

  const auto replay = run_cli({"analyze", recording, "--json"});
  ASSERT_EQ(replay.exit_code, 10) << replay.err;
  EXPECT_TRUE(replay.err.empty()) << replay.err;
  const auto replayed = nlohmann::json::parse(replay.out);
  EXPECT_EQ(replayed["watch"], watched);
  EXPECT_EQ(replayed["recording"]["pid"], leaking->pid());
  EXPECT_EQ(replayed["recording"]["command"], "lw-workload");

  const auto text = run_cli({"analyze", recording});
  EXPECT_EQ(text.exit_code, 10) << text.err;
  EXPECT_NE(text.out.find(fmt::format("Recording of PID {} (lw-workload)", leaking->pid())), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("heap-growth"), std::string::npos) << text.out;
}

TEST_F(InspectCliTest, RecordingAndAnalyzeFailuresAreOneLineWithTheirExitCode) {
  TempDir dir;
  auto idle = start_workload({"heap-grow", "--bytes-per-second", "1"});
  idle->expect_line("ready");
  const std::string pid = std::to_string(idle->pid());
  expect_one_line_error(run_cli({"inspect", pid, "--record", (dir.path() / "r.jsonl").string()}), 2,
                        "only apply with --watch");
  expect_one_line_error(
      run_cli({"inspect", pid, "--watch", "1s", "--interval", "500ms", "--record", "/nonexistent/dir/r.jsonl"}), 9,
      "cannot write the recording '/nonexistent/dir/r.jsonl'");

  // A mistyped PID leaves an earlier recording of that name untouched.
  pid_t free_pid = 4194000;
  while (std::filesystem::exists("/proc/" + std::to_string(free_pid))) --free_pid;
  const auto kept = dir.path() / "kept.jsonl";
  write_file(kept, "an earlier recording\n");
  expect_one_line_error(
      run_cli({"inspect", std::to_string(free_pid), "--watch", "1s", "--interval", "500ms", "--record", kept.string()}),
      3, "no process with PID");
  EXPECT_EQ(std::filesystem::file_size(kept), 21u);

  // A full disk: the watch goes on and reports, then says the recording is
  // incomplete, with exit code 9.
  const auto full = run_cli({"inspect", pid, "--watch", "1s", "--interval", "500ms", "--record", "/dev/full"});
  EXPECT_EQ(full.exit_code, 9) << full.err;
  EXPECT_NE(full.out.find("Verdict"), std::string::npos) << full.out;
  EXPECT_EQ(full.err,
            "leakwatch: error: the recording '/dev/full' stopped after 0 of its lines: No space left on device\n");

  expect_one_line_error(run_cli({"analyze", "/nonexistent/r.jsonl"}), 9,
                        "cannot read the recording '/nonexistent/r.jsonl'");
  expect_one_line_error(run_cli({"analyze", dir.path().string()}), 2, "is a directory, not a recording");
  write_file(dir.path() / "report.json", "{\"schema_version\": 1}\n");
  expect_one_line_error(run_cli({"analyze", (dir.path() / "report.json").string()}), 2, "not a leakwatch recording");
  expect_one_line_error(run_cli({"analyze", "/dev/zero"}), 2, "line 1 is longer than");
  expect_one_line_error(run_cli({"analyze"}), 2, "file is required");
}

// A process may name itself with any bytes. inspect --json, a recording and
// analyze failed on them with "unexpected failure" (exit 1): the name is
// now written with U+FFFD for what is not UTF-8.
TEST_F(InspectCliTest, ACommandNameThatIsNotUtf8IsWrittenNotFatal) {
  const BadlyNamedChild named(0);
  const std::string pid = std::to_string(named.pid());
  const auto report = run_cli({"inspect", pid, "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_EQ(nlohmann::json::parse(report.out)["process"]["command"], BadlyNamedChild::kNameAsUtf8);

  TempDir dir;
  const std::string recording = (dir.path() / "watch.jsonl").string();
  const auto watch = run_cli({"inspect", pid, "--watch", "1s", "--interval", "500ms", "--record", recording});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  const auto replay = run_cli({"analyze", recording, "--json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(nlohmann::json::parse(replay.out)["recording"]["command"], BadlyNamedChild::kNameAsUtf8);
}

}  // namespace
}  // namespace lw::test
