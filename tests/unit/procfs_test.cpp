#include "collect/procfs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "collect/node_sampler.h"
#include "fake_files.h"
#include "fixture.h"

#include "util/error.h"

namespace lw {
namespace {

namespace fs = std::filesystem;
using test::fixture;
using namespace std::string_view_literals;

std::string random_bytes(unsigned seed, size_t size) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string bytes(size, '\0');
  for (auto& c : bytes) c = static_cast<char>(byte(generator));
  return bytes;
}

// Garbage built from the characters the parsers look for, so the fuzzing
// reaches past the first separator check.
std::string random_procfs_like(unsigned seed, size_t size) {
  static constexpr std::string_view kAlphabet = "0123456789 ():\t\nkBSRZ-,/\0abcVmRSTgid"sv;
  std::mt19937 generator(seed);
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string text(size, '\0');
  for (auto& c : text) c = kAlphabet[pick(generator)];
  return text;
}

using test::TempDir;
using test::write_file;

template <typename Call>
ErrorKind thrown_kind(Call call) {
  try {
    call();
  } catch (const Error& error) {
    return error.kind();
  }
  ADD_FAILURE() << "no lw::Error thrown";
  return ErrorKind::usage;
}

// --- parse_status ----------------------------------------------------------

TEST(ParseStatus, NormalProcessInBytes) {
  const auto status = parse_status(fixture("status_normal.txt"));
  EXPECT_EQ(status.name, "gunicorn");
  EXPECT_EQ(status.state, 'S');
  EXPECT_EQ(status.tgid, 48213);
  EXPECT_EQ(status.vm_rss, 402716ull * 1024);
  EXPECT_EQ(status.rss_anon, 371204ull * 1024);
  EXPECT_EQ(status.rss_file, 30488ull * 1024);
  EXPECT_EQ(status.rss_shmem, 1024ull * 1024);
}

TEST(ParseStatus, KernelThreadHasNoMemoryLines) {
  const auto status = parse_status(fixture("status_kthread.txt"));
  EXPECT_EQ(status.name, "kworker/u4:2-events_unbound");
  EXPECT_EQ(status.state, 'I');
  EXPECT_EQ(status.tgid, 117);
  EXPECT_FALSE(status.vm_rss);
  EXPECT_FALSE(status.rss_anon);
  EXPECT_FALSE(status.rss_file);
  EXPECT_FALSE(status.rss_shmem);
}

TEST(ParseStatus, ZombieHasStateButNoMemory) {
  const auto status = parse_status(fixture("status_zombie.txt"));
  EXPECT_EQ(status.name, "python3");
  EXPECT_EQ(status.state, 'Z');
  EXPECT_EQ(status.tgid, 51007);
  EXPECT_FALSE(status.vm_rss);
  EXPECT_FALSE(status.rss_anon);
}

TEST(ParseStatus, NameKeepsSpaces) { EXPECT_EQ(parse_status("Name:\tmy weird cmd\n").name, "my weird cmd"); }

TEST(ParseStatus, EmptyIsAllUnknown) {
  const auto status = parse_status("");
  EXPECT_FALSE(status.name);
  EXPECT_FALSE(status.state);
  EXPECT_FALSE(status.tgid);
  EXPECT_FALSE(status.vm_rss);
}

TEST(ParseStatus, TruncatedValueIsUnknownNotPrefix) {
  const auto full = fixture("status_normal.txt");
  const auto cut = full.find("VmRSS:\t  4027");
  ASSERT_NE(cut, std::string::npos);
  const auto status = parse_status(std::string_view(full).substr(0, cut + 13));
  EXPECT_EQ(status.name, "gunicorn");
  EXPECT_EQ(status.tgid, 48213);
  EXPECT_FALSE(status.vm_rss);
  EXPECT_FALSE(status.rss_anon);
}

TEST(ParseStatus, MalformedValuesStayUnknown) {
  const auto status = parse_status(
      "State:\t\n"
      "Tgid:\t-5\n"
      "VmRSS:\tabc kB\n"
      "RssAnon:\t12 MB\n"
      "RssFile:\t18014398509481984 kB\n"  // 2^54 kB overflows 64-bit bytes
      "RssShmem:\t12kB\n");
  EXPECT_FALSE(status.state);
  EXPECT_FALSE(status.tgid);
  EXPECT_FALSE(status.vm_rss);
  EXPECT_FALSE(status.rss_anon);
  EXPECT_FALSE(status.rss_file);
  EXPECT_FALSE(status.rss_shmem);
}

TEST(ParseStatus, ZeroIsReportedWhenTheKernelSaysZero) {
  EXPECT_EQ(parse_status("RssShmem:\t       0 kB\n").rss_shmem, 0u);
}

TEST(ParseStatus, GarbageNeverCrashesOrInventsZero) {
  for (unsigned seed = 0; seed < 200; ++seed) {
    for (const auto& text : {random_bytes(seed, 512), random_procfs_like(seed, 512)}) {
      const auto status = parse_status(text);
      if (status.vm_rss) {
        EXPECT_NE(text.find("VmRSS:"), std::string::npos);
      }
      if (status.tgid) {
        EXPECT_NE(text.find("Tgid:"), std::string::npos);
      }
    }
  }
}

// --- parse_stat ------------------------------------------------------------

TEST(ParseStat, NormalProcess) {
  const auto stat = parse_stat(fixture("stat_normal.txt"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->flags, 4194560u);
  EXPECT_EQ(stat->start_time, 31148u);
  EXPECT_FALSE(stat->is_kernel_thread());
}

TEST(ParseStat, CommWithSpacesAndParentheses) {
  const auto stat = parse_stat(fixture("stat_weird_comm.txt"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->flags, 4194304u);
  EXPECT_EQ(stat->start_time, 98765u);
}

TEST(ParseStat, CommThatLooksLikeFields) {
  const auto stat = parse_stat(
      "7 (x) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19) S 1 1 1 0 -1 64 "
      "0 0 0 0 0 0 0 0 20 0 1 0 555 0 0\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->flags, 64u);
  EXPECT_EQ(stat->start_time, 555u);
}

TEST(ParseStat, KernelThread) {
  const auto stat = parse_stat(fixture("stat_kthread.txt"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->state, 'I');
  EXPECT_TRUE(stat->is_kernel_thread());
  EXPECT_EQ(stat->start_time, 187u);
}

TEST(ParseStat, Zombie) {
  const auto stat = parse_stat(fixture("stat_zombie.txt"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->state, 'Z');
  EXPECT_FALSE(stat->is_kernel_thread());
  EXPECT_EQ(stat->start_time, 120455u);
}

TEST(ParseStat, EmptyIsNotAStatLine) { EXPECT_FALSE(parse_stat("")); }

TEST(ParseStat, TruncatedIsNotAStatLine) {
  const auto full = fixture("stat_weird_comm.txt");
  EXPECT_FALSE(parse_stat(std::string_view(full).substr(0, 12)));  // inside comm
  const auto before_start_time = full.find(" 98765");
  ASSERT_NE(before_start_time, std::string::npos);
  EXPECT_FALSE(parse_stat(std::string_view(full).substr(0, before_start_time)));
}

TEST(ParseStat, GarbageIsNotAStatLine) {
  EXPECT_FALSE(parse_stat("hello world"));
  EXPECT_FALSE(parse_stat("(cat) R 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));    // no pid
  EXPECT_FALSE(parse_stat("x (cat) R 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));  // bad pid
  EXPECT_FALSE(parse_stat("1 (cat) R 1 1 1 0 -1 sixty 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));
  EXPECT_FALSE(parse_stat("1 (cat) R 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 -5 0 0"));
  EXPECT_FALSE(parse_stat("1 (cat) RR 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));
  EXPECT_FALSE(parse_stat("1 )cat( R 1 1 1 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));
  for (unsigned seed = 0; seed < 200; ++seed) {
    parse_stat(random_bytes(seed, 400));
    parse_stat(random_procfs_like(seed, 400));
  }
}

// --- parse_cgroup_file -----------------------------------------------------

TEST(ParseCgroupFile, V1ManyHierarchies) {
  const auto memberships = parse_cgroup_file(fixture("cgroup_v1.txt"));
  ASSERT_EQ(memberships.size(), 13u);
  const std::string container = "/kubepods/burstable/pod6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c10/3c1f8e2ab9d4";

  EXPECT_EQ(memberships[0].hierarchy_id, 12);
  EXPECT_EQ(memberships[0].controllers, std::vector<std::string>{"hugetlb"});
  EXPECT_EQ(memberships[0].path, "/");

  EXPECT_EQ(memberships[2].controllers, (std::vector<std::string>{"net_cls", "net_prio"}));
  EXPECT_EQ(memberships[8].hierarchy_id, 4);
  EXPECT_EQ(memberships[8].controllers, std::vector<std::string>{"memory"});
  EXPECT_EQ(memberships[8].path, container);
  EXPECT_EQ(memberships[11].controllers, std::vector<std::string>{"name=systemd"});

  EXPECT_EQ(memberships[12].hierarchy_id, 0);
  EXPECT_TRUE(memberships[12].controllers.empty());
  EXPECT_EQ(memberships[12].path, "/system.slice/containerd.service");
}

TEST(ParseCgroupFile, V2Unified) {
  const auto memberships = parse_cgroup_file(fixture("cgroup_v2.txt"));
  ASSERT_EQ(memberships.size(), 1u);
  EXPECT_EQ(memberships[0].hierarchy_id, 0);
  EXPECT_TRUE(memberships[0].controllers.empty());
  EXPECT_EQ(memberships[0].path, "/kubepods.slice/kubepods-burstable.slice/cri-containerd-3c1f8e2ab9d4.scope");
}

TEST(ParseCgroupFile, PathMayContainColons) {
  const auto memberships = parse_cgroup_file("0::/system.slice/run-u1:2:3.scope\n");
  ASSERT_EQ(memberships.size(), 1u);
  EXPECT_EQ(memberships[0].path, "/system.slice/run-u1:2:3.scope");
}

TEST(ParseCgroupFile, WithoutTrailingNewline) { EXPECT_EQ(parse_cgroup_file("0::/a").size(), 1u); }

TEST(ParseCgroupFile, EmptyAndTruncated) {
  EXPECT_TRUE(parse_cgroup_file("").empty());
  EXPECT_TRUE(parse_cgroup_file("\n\n").empty());
  EXPECT_TRUE(parse_cgroup_file("4:memo").empty());
  EXPECT_TRUE(parse_cgroup_file("4:memory:").empty());
  const auto full = fixture("cgroup_v1.txt");
  const auto cut = full.find("4:memory:") + 5;
  EXPECT_EQ(parse_cgroup_file(std::string_view(full).substr(0, cut)).size(), 8u);
}

TEST(ParseCgroupFile, MalformedLinesAreSkipped) {
  const auto memberships = parse_cgroup_file(
      "x:memory:/a\n"
      "-1::/b\n"
      "4:cpu,,memory:/c\n"
      "4:memory:relative\n"
      "garbage\n"
      "4:memory:/good\n");
  ASSERT_EQ(memberships.size(), 1u);
  EXPECT_EQ(memberships[0].path, "/good");
  for (unsigned seed = 0; seed < 200; ++seed) {
    parse_cgroup_file(random_bytes(seed, 400));
    for (const auto& membership : parse_cgroup_file(random_procfs_like(seed, 400))) {
      EXPECT_TRUE(membership.path.starts_with('/'));
    }
  }
}

// --- parse_cmdline ---------------------------------------------------------

TEST(ParseCmdline, JoinsArgumentsWithSpaces) {
  EXPECT_EQ(parse_cmdline("python3\0-m\0gunicorn\0app:app\0"sv), "python3 -m gunicorn app:app");
}

TEST(ParseCmdline, DropsTrailingNuls) {
  EXPECT_EQ(parse_cmdline("nginx: worker process\0\0\0\0"sv), "nginx: worker process");
  EXPECT_EQ(parse_cmdline("nginx: worker process"sv), "nginx: worker process");
}

TEST(ParseCmdline, EmptyForKernelThreadsAndZombies) {
  EXPECT_EQ(parse_cmdline(""), "");
  EXPECT_EQ(parse_cmdline("\0\0"sv), "");
}

TEST(ParseCmdline, GarbageDoesNotCrash) {
  for (unsigned seed = 0; seed < 50; ++seed) {
    EXPECT_EQ(parse_cmdline(random_bytes(seed, 300)).find('\0'), std::string::npos);
  }
}

// --- readers ---------------------------------------------------------------

TEST(ReadTextFile, ReadsProcfsFilesThatReportSizeZero) {
  const auto text = read_text_file("/proc/self/status");
  ASSERT_TRUE(text);
  EXPECT_TRUE(text->starts_with("Name:"));
}

TEST(ReadTextFile, ReadsPastOneChunk) {
  TempDir tmp;
  const std::string big = random_bytes(7, 100'000);
  write_file(tmp.path() / "big", big);
  EXPECT_EQ(read_text_file(tmp.path() / "big"), big);
}

TEST(ReadTextFile, MissingFileIsNullopt) {
  TempDir tmp;
  EXPECT_FALSE(read_text_file(tmp.path() / "missing"));
  EXPECT_FALSE(read_text_file(tmp.path()));  // a directory cannot be read
}

class FakeProc : public ::testing::Test {
 protected:
  fs::path pid_dir(pid_t pid) const { return tmp_.path() / "proc" / std::to_string(pid); }
  HostPaths paths() const { return {.proc = tmp_.path() / "proc", .cgroup = tmp_.path() / "sys/fs/cgroup"}; }

  TempDir tmp_;
};

TEST_F(FakeProc, ReadsEveryFile) {
  const auto dir = pid_dir(48213);
  write_file(dir / "stat", fixture("stat_normal.txt"));
  write_file(dir / "status", fixture("status_normal.txt"));
  write_file(dir / "cmdline", "gunicorn\0-w\0004\0app:app\0"sv);
  write_file(dir / "cgroup", fixture("cgroup_v2.txt"));
  for (const auto* fd : {"0", "1", "2", "7"}) write_file(dir / "fd" / fd, "");

  const auto info = read_process(paths(), 48213);
  EXPECT_EQ(info.pid, 48213);
  EXPECT_EQ(info.stat.state, 'S');
  EXPECT_EQ(info.stat.start_time, 31148u);
  EXPECT_EQ(info.status.vm_rss, 402716ull * 1024);
  EXPECT_EQ(info.cmdline, "gunicorn -w 4 app:app");
  EXPECT_EQ(info.open_fds, 4u);
  ASSERT_EQ(info.cgroups.size(), 1u);
  EXPECT_EQ(info.cgroups[0].hierarchy_id, 0);
}

TEST_F(FakeProc, OptionalFilesMissingStayUnknown) {
  write_file(pid_dir(117) / "stat", fixture("stat_kthread.txt"));
  const auto info = read_process(paths(), 117);
  EXPECT_TRUE(info.stat.is_kernel_thread());
  EXPECT_FALSE(info.status.name);
  EXPECT_FALSE(info.status.vm_rss);
  EXPECT_EQ(info.cmdline, "");
  EXPECT_FALSE(info.open_fds);
  EXPECT_TRUE(info.cgroups.empty());
}

TEST_F(FakeProc, EmptyFdDirectoryIsZeroNotUnknown) {
  write_file(pid_dir(51007) / "stat", fixture("stat_zombie.txt"));
  fs::create_directories(pid_dir(51007) / "fd");
  EXPECT_EQ(read_process(paths(), 51007).open_fds, 0u);
}

TEST_F(FakeProc, MissingPidThrowsNoSuchProcess) {
  fs::create_directories(paths().proc);
  EXPECT_EQ(thrown_kind([&] { read_process(paths(), 4242); }), ErrorKind::no_such_process);
  EXPECT_FALSE(read_stat(paths(), 4242));
}

TEST_F(FakeProc, StatVanishedThrowsProcessExited) {
  fs::create_directories(pid_dir(4242));
  EXPECT_EQ(thrown_kind([&] { read_process(paths(), 4242); }), ErrorKind::process_exited);
}

TEST_F(FakeProc, GarbledStatThrows) {
  write_file(pid_dir(4242) / "stat", "not a stat line\n");
  EXPECT_EQ(thrown_kind([&] { read_process(paths(), 4242); }), ErrorKind::io);
  EXPECT_FALSE(read_stat(paths(), 4242));
}

// One process with an unparsable stat fails neither the others nor the
// round: it is skipped and counted (it used to throw out of the round).
TEST_F(FakeProc, AnUnreadableProcessIsSkippedAndCountedNotTheRound) {
  for (const pid_t pid : {48213, 48214}) {
    write_file(pid_dir(pid) / "stat", fixture("stat_normal.txt"));
    write_file(pid_dir(pid) / "status", fixture("status_normal.txt"));
  }
  write_file(pid_dir(4242) / "stat", "not a stat line\n");
  fs::create_directories(pid_dir(4343));  // exited between listing and reading

  RoundInputs round;
  const PodIdentityResolver pods(tmp_.path() / "log");
  read_target_processes(paths(), list_pids(paths()), TargetFilter{}, CgroupNamespace{}, pods, round);
  ASSERT_EQ(round.processes.size(), 2u);
  EXPECT_EQ(round.processes[0].info.pid, 48213);
  EXPECT_EQ(round.processes[1].info.pid, 48214);
  EXPECT_EQ(round.processes_unreadable, 1u);
  EXPECT_EQ(round.processes_exited, 1u);
}

TEST_F(FakeProc, ReadStat) {
  write_file(pid_dir(48377) / "stat", fixture("stat_weird_comm.txt"));
  const auto stat = read_stat(paths(), 48377);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->start_time, 98765u);
}

TEST(ReadProcess, Self) {
  const auto info = read_process(HostPaths{}, ::getpid());
  EXPECT_EQ(info.pid, ::getpid());
  EXPECT_EQ(info.stat.state, 'R');
  EXPECT_FALSE(info.stat.is_kernel_thread());
  EXPECT_GT(info.stat.start_time, 0u);
  EXPECT_EQ(info.status.tgid, ::getpid());
  ASSERT_TRUE(info.status.vm_rss);
  EXPECT_GT(*info.status.vm_rss, 0u);
  EXPECT_TRUE(info.status.name);
  EXPECT_FALSE(info.cmdline.empty());
  ASSERT_TRUE(info.open_fds);
  EXPECT_GE(*info.open_fds, 3u);
  EXPECT_FALSE(info.cgroups.empty());
  EXPECT_EQ(read_stat(HostPaths{}, ::getpid())->start_time, info.stat.start_time);
}

TEST(ReadProcess, NonexistentPidThrowsNoSuchProcess) {
  // Above PID_MAX_LIMIT (2^22), so no kernel can have it.
  constexpr pid_t kImpossiblePid = 2'147'483'000;
  EXPECT_EQ(thrown_kind([] { read_process(HostPaths{}, kImpossiblePid); }), ErrorKind::no_such_process);
  EXPECT_EQ(thrown_kind([] { read_process(HostPaths{}, -1); }), ErrorKind::no_such_process);
  EXPECT_FALSE(read_stat(HostPaths{}, kImpossiblePid));
}

}  // namespace
}  // namespace lw
