#include "collect/cgroup.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "fake_files.h"
#include "fixture.h"

namespace lw {
namespace {

namespace fs = std::filesystem;
using test::fixture;

constexpr std::string_view kPodPath = "/kubepods/burstable/pod6f2c1a4e-9b1d-4c1e-8a57-3f0f6e2d9c10/3c1f8e2ab9d4";
constexpr std::string_view kScopePath = "/kubepods.slice/kubepods-burstable.slice/cri-containerd-3c1f8e2ab9d4.scope";

std::string random_text(unsigned seed, size_t size, std::string_view alphabet) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string text(size, '\0');
  for (auto& c : text) c = alphabet[pick(generator)];
  return text;
}

using test::TempDir;
using test::write_file;

fs::path under(const fs::path& root, std::string_view cgroup_path) { return root / cgroup_path.substr(1); }

// --- parse_counter ---------------------------------------------------------

TEST(ParseCounter, TrimsWhitespace) {
  EXPECT_EQ(parse_counter("123\n"), 123u);
  EXPECT_EQ(parse_counter("  42 \t\n"), 42u);
  EXPECT_EQ(parse_counter("0\n"), 0u);
  EXPECT_EQ(parse_counter("18446744073709551615\n"), UINT64_MAX);
}

TEST(ParseCounter, GarbageIsUnknown) {
  for (const auto* text :
       {"", "\n", "   ", "12a", "a12", "-1", "+1", "1 2", "0x10", "1.5", "max", "18446744073709551616"}) {
    EXPECT_FALSE(parse_counter(text)) << '"' << text << '"';
  }
  for (unsigned seed = 0; seed < 200; ++seed) {
    const auto text = random_text(seed, 24, "0123456789 \n-+x");
    if (parse_counter(text)) {
      EXPECT_EQ(text.find_first_of("-+x"), std::string::npos);
    }
  }
}

// --- parse_limit -----------------------------------------------------------

TEST(ParseLimit, MaxMeansNoLimit) {
  const auto limit = parse_limit("max\n");
  ASSERT_TRUE(limit);
  EXPECT_FALSE(limit->bytes);
}

TEST(ParseLimit, V1SentinelMeansNoLimit) {
  for (const auto* text : {"9223372036854771712\n", "4611686018427387904", "18446744073709551615"}) {
    const auto limit = parse_limit(text);
    ASSERT_TRUE(limit) << text;
    EXPECT_FALSE(limit->bytes) << text;
  }
}

TEST(ParseLimit, Bytes) {
  EXPECT_EQ(parse_limit("536870912\n")->bytes, 536870912u);
  EXPECT_EQ(parse_limit("4611686018427387903")->bytes, 4611686018427387903u);
  EXPECT_EQ(parse_limit("0\n")->bytes, 0u);
}

TEST(ParseLimit, GarbageIsUnknown) {
  for (const auto* text : {"", "\n", "ma", "max2", "maximum", "-1", "12 kB", "none"}) {
    EXPECT_FALSE(parse_limit(text)) << '"' << text << '"';
  }
}

// --- parse_memory_stat -----------------------------------------------------

TEST(ParseMemoryStat, V2) {
  const auto stat = parse_memory_stat(fixture("memory_stat_v2.txt"));
  EXPECT_EQ(stat.at("anon"), 381247488u);
  EXPECT_EQ(stat.at("file"), 31219712u);
  EXPECT_EQ(stat.at("sock"), 1610612736u);
  EXPECT_EQ(stat.at("sec_pagetables"), 0u);
  EXPECT_EQ(stat.size(), 49u);
}

TEST(ParseMemoryStat, V1) {
  const auto stat = parse_memory_stat(fixture("memory_stat_v1.txt"));
  EXPECT_EQ(stat.at("rss"), 4767744u);
  EXPECT_EQ(stat.at("cache"), 9646080u);
  EXPECT_EQ(stat.at("total_rss"), 8769536u);
  EXPECT_EQ(stat.at("hierarchical_memory_limit"), 9223372036854771712u);
  EXPECT_FALSE(stat.contains("sock"));
}

TEST(ParseMemoryStat, EmptyAndTruncated) {
  EXPECT_TRUE(parse_memory_stat("").empty());
  EXPECT_TRUE(parse_memory_stat("\n").empty());
  const auto truncated = parse_memory_stat("anon 381247488\nfile");
  EXPECT_EQ(truncated.size(), 1u);
  EXPECT_FALSE(truncated.contains("file"));
  EXPECT_TRUE(parse_memory_stat("sock ").empty());
}

TEST(ParseMemoryStat, MalformedLinesAreSkipped) {
  const auto stat = parse_memory_stat(
      "anon abc\n"
      " sock 5\n"
      "file -1\n"
      "kernel 1 2\n"
      "shmem\t7\n"
      "percpu 1520\n");
  EXPECT_EQ(stat.size(), 1u);
  EXPECT_EQ(stat.at("percpu"), 1520u);
  for (unsigned seed = 0; seed < 200; ++seed) {
    for (const auto& [key, value] : parse_memory_stat(random_text(seed, 400, "anosck 0123456789\n\t-"))) {
      EXPECT_FALSE(key.empty());
    }
  }
}

// --- locate_memory_cgroup and read_cgroup_memory on fake hosts -------------

class FakeHost : public ::testing::Test {
 protected:
  fs::path cgroup_root() const { return tmp_.path() / "sys/fs/cgroup"; }
  HostPaths paths() const { return {.proc = tmp_.path() / "proc", .cgroup = cgroup_root()}; }

  // A v1 host: one directory per controller, the unified hierarchy aside.
  fs::path make_v1_host() const {
    for (const auto* controller : {"cpu,cpuacct", "pids", "systemd"}) {
      fs::create_directories(cgroup_root() / controller);
    }
    write_file(cgroup_root() / "unified/cgroup.controllers", "");
    const auto directory = under(cgroup_root() / "memory", kPodPath);
    fs::create_directories(directory);
    return directory;
  }

  fs::path make_v2_host(std::string_view path) const {
    write_file(cgroup_root() / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    const auto directory = under(cgroup_root(), path);
    fs::create_directories(directory);
    return directory;
  }

  TempDir tmp_;
};

TEST_F(FakeHost, V1) {
  const auto directory = make_v1_host();
  write_file(directory / "memory.usage_in_bytes", "54886400\n");
  write_file(directory / "memory.limit_in_bytes", "9223372036854771712\n");
  write_file(directory / "memory.kmem.tcp.usage_in_bytes", "1048576\n");
  write_file(directory / "memory.stat", "cache 9646080\nrss 4767744\nshmem 0\n");

  const auto location = locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v1.txt")));
  ASSERT_TRUE(location);
  EXPECT_EQ(location->version, CgroupVersion::v1);
  EXPECT_EQ(location->path, kPodPath);
  EXPECT_EQ(location->directory, directory);

  const auto memory = read_cgroup_memory(*location);
  EXPECT_EQ(memory.version, CgroupVersion::v1);
  EXPECT_EQ(memory.path, kPodPath);
  EXPECT_EQ(memory.usage, 54886400u);
  ASSERT_TRUE(memory.limit);
  EXPECT_FALSE(memory.limit->bytes);
  EXPECT_EQ(memory.sock, 1048576u);
  EXPECT_EQ(memory.anon, 4767744u);
  EXPECT_EQ(memory.file, 9646080u);
}

TEST_F(FakeHost, V1TcpMemoryIsUnknownUntilAccountingIsOn) {
  const auto directory = make_v1_host();
  const auto location = locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v1.txt")));
  ASSERT_TRUE(location);
  // No kmem.tcp limit written: the kernel does not account, the file says 0.
  write_file(directory / "memory.kmem.tcp.usage_in_bytes", "0\n");
  write_file(directory / "memory.kmem.tcp.limit_in_bytes", "9223372036854771712\n");
  EXPECT_FALSE(read_cgroup_memory(*location).sock);
  // A limit is set: accounting is on and 0 is a real 0.
  write_file(directory / "memory.kmem.tcp.limit_in_bytes", "1073741824\n");
  EXPECT_EQ(read_cgroup_memory(*location).sock, 0u);
}

TEST_F(FakeHost, V1PrefersHierarchicalTotals) {
  const auto directory = make_v1_host();
  write_file(directory / "memory.stat", fixture("memory_stat_v1.txt"));
  write_file(directory / "memory.limit_in_bytes", "536870912\n");

  const auto memory = read_cgroup_memory(*locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v1.txt"))));
  EXPECT_EQ(memory.anon, 8769536u);
  EXPECT_EQ(memory.file, 40280064u);
  EXPECT_EQ(memory.limit->bytes, 536870912u);
  EXPECT_FALSE(memory.usage);
  EXPECT_FALSE(memory.sock);
}

TEST_F(FakeHost, V2) {
  const auto directory = make_v2_host(kScopePath);
  write_file(directory / "memory.current", "429916160\n");
  write_file(directory / "memory.max", "max\n");
  write_file(directory / "memory.stat", fixture("memory_stat_v2.txt"));

  const auto location = locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v2.txt")));
  ASSERT_TRUE(location);
  EXPECT_EQ(location->version, CgroupVersion::v2);
  EXPECT_EQ(location->path, kScopePath);
  EXPECT_EQ(location->directory, directory);

  const auto memory = read_cgroup_memory(*location);
  EXPECT_EQ(memory.version, CgroupVersion::v2);
  EXPECT_EQ(memory.path, kScopePath);
  EXPECT_EQ(memory.usage, 429916160u);
  ASSERT_TRUE(memory.limit);
  EXPECT_FALSE(memory.limit->bytes);
  EXPECT_EQ(memory.anon, 381247488u);
  EXPECT_EQ(memory.file, 31219712u);
  EXPECT_EQ(memory.sock, 1610612736u);
}

TEST_F(FakeHost, V2NumericLimit) {
  const auto directory = make_v2_host(kScopePath);
  write_file(directory / "memory.max", "2147483648\n");
  const auto memory = read_cgroup_memory(*locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v2.txt"))));
  ASSERT_TRUE(memory.limit);
  EXPECT_EQ(memory.limit->bytes, 2147483648u);
}

TEST_F(FakeHost, V2RootCgroup) {
  make_v2_host("/");
  const auto location = locate_memory_cgroup(paths(), parse_cgroup_file("0::/\n"));
  ASSERT_TRUE(location);
  EXPECT_EQ(location->directory, cgroup_root());
  EXPECT_EQ(location->path, "/");
}

TEST_F(FakeHost, HybridWithoutV1Memory) {
  const auto unified = cgroup_root() / "unified";
  write_file(unified / "cgroup.controllers", "");
  fs::create_directories(cgroup_root() / "pids");
  const auto directory = under(unified, kScopePath);
  write_file(directory / "memory.current", "8192\n");

  const std::string file = "3:pids:/\n1:name=systemd:/\n0::" + std::string(kScopePath) + "\n";
  const auto location = locate_memory_cgroup(paths(), parse_cgroup_file(file));
  ASSERT_TRUE(location);
  EXPECT_EQ(location->version, CgroupVersion::v2);
  EXPECT_EQ(location->directory, directory);
  EXPECT_EQ(read_cgroup_memory(*location).usage, 8192u);
}

TEST_F(FakeHost, MemoryControllerListedButNotMountedFallsBackToV2) {
  const auto directory = make_v2_host(kScopePath);
  const std::string file = "4:memory:/elsewhere\n0::" + std::string(kScopePath) + "\n";
  const auto location = locate_memory_cgroup(paths(), parse_cgroup_file(file));
  ASSERT_TRUE(location);
  EXPECT_EQ(location->version, CgroupVersion::v2);
  EXPECT_EQ(location->directory, directory);
}

TEST_F(FakeHost, MissingFilesStayUnknown) {
  const auto directory = make_v2_host(kScopePath);
  write_file(directory / "memory.current", "4096\n");
  const auto memory = read_cgroup_memory(*locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v2.txt"))));
  EXPECT_EQ(memory.usage, 4096u);
  EXPECT_FALSE(memory.limit);
  EXPECT_FALSE(memory.sock);
  EXPECT_FALSE(memory.anon);
  EXPECT_FALSE(memory.file);
}

TEST_F(FakeHost, GarbledFilesStayUnknown) {
  const auto directory = make_v2_host(kScopePath);
  write_file(directory / "memory.current", "garbage\n");
  write_file(directory / "memory.max", "");
  write_file(directory / "memory.stat", "anon\nsock x\n");
  const auto memory = read_cgroup_memory(*locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v2.txt"))));
  EXPECT_FALSE(memory.usage);
  EXPECT_FALSE(memory.limit);
  EXPECT_FALSE(memory.sock);
  EXPECT_FALSE(memory.anon);
}

TEST_F(FakeHost, MissingDirectoryIsNotLocated) {
  make_v2_host("/other");
  EXPECT_FALSE(locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v2.txt"))));
  make_v1_host();
  EXPECT_FALSE(locate_memory_cgroup(paths(), parse_cgroup_file("4:memory:/gone\n0::/other\n")));
}

TEST_F(FakeHost, NothingMountedIsNotLocated) {
  fs::create_directories(cgroup_root());
  EXPECT_FALSE(locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v1.txt"))));
  EXPECT_FALSE(locate_memory_cgroup(paths(), parse_cgroup_file(fixture("cgroup_v2.txt"))));
}

TEST_F(FakeHost, NoMembershipsIsNotLocated) {
  make_v2_host("/");
  EXPECT_FALSE(locate_memory_cgroup(paths(), {}));
}

}  // namespace
}  // namespace lw
