// The real close-event programs against TCP connections this process opens
// and closes on loopback. Sockets are identified by their inodes (fstat),
// so connections of other processes on the host never match.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "bpf_test_support.h"
#include "collect/socket_close.h"
#include "collect/socket_iter.h"
#include "util/owned_fd.h"

namespace lw::test {
namespace {

constexpr size_t kRequestBytes = 100;
constexpr size_t kReplyBytes = 10000;
constexpr uint8_t kFinWait2 = 5;
constexpr uint8_t kLastAck = 9;

OwnedFd tcp_socket(int family) {
  const int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + strerror(errno));
  return OwnedFd(fd);
}

uint64_t inode_of(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) ADD_FAILURE() << "fstat: " << strerror(errno);
  return st.st_ino;
}

sockaddr_storage loopback(int family, uint16_t port) {
  sockaddr_storage addr{};
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in->sin_port = htons(port);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    in6->sin6_port = htons(port);
  }
  return addr;
}

// The loopback address as lw_close_event encodes it.
std::vector<uint8_t> loopback_bytes(int family) {
  const auto addr = loopback(family, 0);
  const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  std::vector<uint8_t> bytes(LW_ADDR_LEN, 0);
  if (family == AF_INET)
    std::memcpy(bytes.data(), &in->sin_addr, 4);
  else
    std::memcpy(bytes.data(), &in6->sin6_addr, LW_ADDR_LEN);
  return bytes;
}

void send_all(int fd, size_t bytes) {
  const std::vector<char> data(bytes, 'x');
  for (size_t sent = 0; sent < bytes;) {
    const ssize_t n = send(fd, data.data() + sent, bytes - sent, MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << strerror(errno);
    sent += static_cast<size_t>(n);
  }
}

size_t receive_exactly(int fd, size_t bytes) {
  std::vector<char> buffer(bytes);
  size_t received = 0;
  while (received < bytes) {
    const ssize_t n = recv(fd, buffer.data() + received, bytes - received, 0);
    if (n <= 0) break;
    received += static_cast<size_t>(n);
  }
  return received;
}

size_t receive_until_eof(int fd) {
  std::vector<char> buffer(65536);
  size_t received = 0;
  for (ssize_t n; (n = recv(fd, buffer.data(), buffer.size(), 0)) > 0;) received += static_cast<size_t>(n);
  return received;
}

// A listener on loopback whose thread serves `connections` clients one at a
// time: reads the request, sends the reply and closes first.
class LoopbackServer {
 public:
  LoopbackServer(int family, int connections, size_t request_bytes)
      : listener_(tcp_socket(family)), request_bytes_(request_bytes) {
    auto addr = loopback(family, 0);
    socklen_t len = sizeof(addr);
    if (bind(listener_->get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(listener_->get(), 64) != 0 ||
        getsockname(listener_->get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error(std::string("loopback listener: ") + strerror(errno));
    }
    port_ = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);  // same offset in sockaddr_in6
    listener_inode_ = inode_of(listener_->get());
    thread_ = std::thread([this, connections] { serve(connections); });
  }
  // Closes the listener after every client was served.
  ~LoopbackServer() { finish(); }

  void finish() {
    if (thread_.joinable()) thread_.join();
    listener_.reset();
  }
  uint16_t port() const { return port_; }
  uint64_t listener_inode() const { return listener_inode_; }
  // Inodes of the accepted sockets; read after finish().
  const std::vector<uint64_t>& accepted_inodes() const { return accepted_; }

 private:
  void serve(int connections) {
    for (int i = 0; i < connections; i++) {
      const int raw = accept(listener_->get(), nullptr, nullptr);
      if (raw < 0) return;
      const OwnedFd conn(raw);
      accepted_.push_back(inode_of(conn.get()));
      EXPECT_EQ(receive_exactly(conn.get(), request_bytes_), request_bytes_);
      send_all(conn.get(), kReplyBytes);
    }
  }

  std::optional<OwnedFd> listener_;
  size_t request_bytes_;
  uint16_t port_ = 0;
  uint64_t listener_inode_ = 0;
  std::vector<uint64_t> accepted_;
  std::thread thread_;
};

struct Client {
  uint64_t inode = 0;
  size_t received = 0;
};

// Connects, sends the request, reads the whole reply up to end-of-file, closes.
Client exchange(int family, uint16_t port) {
  const OwnedFd fd = tcp_socket(family);
  const auto addr = loopback(family, port);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect: " << strerror(errno);
    return {};
  }
  send_all(fd.get(), kRequestBytes);
  return {inode_of(fd.get()), receive_until_eof(fd.get())};
}

// Connects and closes once the whole reply sits in the receive queue, unread.
uint64_t connect_and_abandon(int family, uint16_t port) {
  const OwnedFd fd = tcp_socket(family);
  const auto addr = loopback(family, port);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect: " << strerror(errno);
    return 0;
  }
  EXPECT_TRUE(eventually([&] {
    int queued = 0;
    return ioctl(fd.get(), FIONREAD, &queued) == 0 && static_cast<size_t>(queued) == kReplyBytes;
  }));
  return inode_of(fd.get());
}

// The inode of our cgroup's directory in the unified hierarchy, which is its
// cgroup v2 id. The hierarchy is /sys/fs/cgroup on pure v2 hosts and
// /sys/fs/cgroup/unified on hybrid ones.
uint64_t own_cgroup_v2_id() {
  std::ifstream in("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  }
  const std::filesystem::path root =
      std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
  struct stat st {};
  if (path.empty() || stat((root.string() + path).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

class CloseEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    load_or_skip([&] { source_ = std::make_unique<BpfCloseEvents>(); });
  }

  struct Collected {
    std::multimap<uint64_t, CloseEvent> ours;  // by inode
    size_t others = 0;                         // events of other sockets on the host
  };
  // Drains until an event arrived for each of the inodes, or 5 s passed.
  Collected wait_for(const std::set<uint64_t>& inodes) {
    Collected found;
    eventually(
        [&] {
          std::vector<CloseEvent> events;
          source_->drain(events);
          for (const auto& e : events) {
            if (inodes.contains(e.inode))
              found.ours.emplace(e.inode, e);
            else
              found.others++;
          }
          return found.ours.size() >= inodes.size();
        },
        std::chrono::seconds(5));
    return found;
  }

  std::unique_ptr<BpfCloseEvents> source_;
};

void expect_one_each(const std::multimap<uint64_t, CloseEvent>& events, const std::set<uint64_t>& inodes) {
  EXPECT_EQ(events.size(), inodes.size());
  for (const uint64_t inode : inodes) EXPECT_EQ(events.count(inode), 1u) << "inode " << inode;
}

// A socket of ours whose application read everything it was sent.
void expect_fully_read(const CloseEvent& e, uint8_t old_state, size_t received, size_t acked) {
  EXPECT_EQ(e.old_state, old_state);
  EXPECT_EQ(e.bytes_received, received);
  EXPECT_EQ(e.bytes_consumed, received);
  EXPECT_EQ(e.bytes_acked, acked);
  EXPECT_EQ(e.tgid, static_cast<uint32_t>(getpid()));
}

// A client socket of exchange(): it closed last, the server's ACK taking it
// out of LAST_ACK. The kernel counts our SYN and FIN as acked bytes on the
// connecting side.
void expect_client_event(const CloseEvent& e, int family, uint16_t server_port) {
  expect_fully_read(e, kLastAck, kReplyBytes, kRequestBytes + 2);
  EXPECT_EQ(e.family, family);
  EXPECT_EQ(e.remote_port, server_port);
  EXPECT_NE(e.local_port, 0);
  EXPECT_EQ(std::vector<uint8_t>(e.remote_addr, e.remote_addr + LW_ADDR_LEN), loopback_bytes(family));
}

// A socket the LoopbackServer accepted: it closed first, so it reached CLOSE
// through TIME_WAIT, in softirq. Only our FIN adds to the acked bytes on the
// accepting side.
void expect_server_event(const CloseEvent& e, uint16_t server_port) {
  expect_fully_read(e, kFinWait2, kRequestBytes, kReplyBytes + 1);
  EXPECT_EQ(e.local_port, server_port);
}

TEST_F(CloseEventsTest, ShortConnectionsReportEveryByteOnBothSides) {
  constexpr int kConnections = 200;
  const uint64_t cgroup_id = own_cgroup_v2_id();
  ASSERT_NE(cgroup_id, 0u);
  LoopbackServer server(AF_INET, kConnections, kRequestBytes);
  std::set<uint64_t> client_inodes;
  for (int i = 0; i < kConnections; i++) {
    const Client c = exchange(AF_INET, server.port());
    ASSERT_EQ(c.received, kReplyBytes);
    client_inodes.insert(c.inode);
  }
  server.finish();
  const std::set<uint64_t> server_inodes(server.accepted_inodes().begin(), server.accepted_inodes().end());

  std::set<uint64_t> all = client_inodes;
  all.insert(server_inodes.begin(), server_inodes.end());
  const auto events = wait_for(all).ours;
  expect_one_each(events, all);
  for (const auto& [inode, e] : events) {
    EXPECT_EQ(e.cgroup_id, cgroup_id);
    if (client_inodes.contains(inode))
      expect_client_event(e, AF_INET, server.port());
    else
      expect_server_event(e, server.port());
  }
}

TEST_F(CloseEventsTest, UnreadBytesAreReceivedButNotConsumed) {
  LoopbackServer server(AF_INET, 1, 0);
  const uint64_t inode = connect_and_abandon(AF_INET, server.port());
  server.finish();

  const auto events = wait_for({inode}).ours;
  expect_one_each(events, {inode});
  for (const auto& [_, e] : events) {
    EXPECT_EQ(e.bytes_received, kReplyBytes);
    EXPECT_EQ(e.bytes_consumed, 0u);
    EXPECT_EQ(e.tgid, static_cast<uint32_t>(getpid()));
  }
}

TEST_F(CloseEventsTest, Ipv6ConnectionsAreReported) {
  constexpr int kConnections = 3;
  LoopbackServer server(AF_INET6, kConnections, kRequestBytes);
  std::set<uint64_t> inodes;
  for (int i = 0; i < kConnections; i++) inodes.insert(exchange(AF_INET6, server.port()).inode);
  server.finish();

  const auto events = wait_for(inodes).ours;
  expect_one_each(events, inodes);
  for (const auto& [_, e] : events) expect_client_event(e, AF_INET6, server.port());
}

// The live socket and its close are one socket to the ledger only if both
// programs name it alike; and a source keeps its ring when it moves.
TEST_F(CloseEventsTest, TheCloseEventCarriesTheInodeTheIteratorSaw) {
  std::unique_ptr<SocketIterator> iterator;
  load_or_skip([&] { iterator = std::make_unique<SocketIterator>(); });
  if (!iterator) return;
  source_ = std::make_unique<BpfCloseEvents>(std::move(*source_));

  LoopbackServer server(AF_INET, 1, kRequestBytes);
  std::optional<OwnedFd> fd(tcp_socket(AF_INET));
  const auto addr = loopback(AF_INET, server.port());
  ASSERT_EQ(connect(fd->get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
  const auto records = iterator->for_process(getpid());
  const auto mine = std::find_if(records.begin(), records.end(),
                                 [&](const SocketRecord& r) { return r.fd == static_cast<uint32_t>(fd->get()); });
  ASSERT_NE(mine, records.end());
  const uint64_t inode = mine->inode;
  send_all(fd->get(), kRequestBytes);
  EXPECT_EQ(receive_until_eof(fd->get()), kReplyBytes);
  fd.reset();
  server.finish();

  const auto events = wait_for({inode}).ours;
  expect_one_each(events, {inode});
  for (const auto& [_, e] : events) expect_client_event(e, AF_INET, server.port());
}

TEST_F(CloseEventsTest, FullRingBufferCountsEveryLostEvent) {
  // One page holds 63 events with their 8-byte headers; we cause 201 closes.
  constexpr int kConnections = 100;
  std::unique_ptr<BpfCloseEvents> small;
  load_or_skip([&] { small = std::make_unique<BpfCloseEvents>(4096); });
  if (!small) return;

  std::set<uint64_t> ours;
  {
    LoopbackServer server(AF_INET, kConnections, kRequestBytes);
    for (int i = 0; i < kConnections; i++) ours.insert(exchange(AF_INET, server.port()).inode);
    server.finish();
    ours.insert(server.accepted_inodes().begin(), server.accepted_inodes().end());
    ours.insert(server.listener_inode());
  }
  // The fixture's large ring loses nothing: it says when all our closes
  // happened, and how many closes of other processes' sockets came with them.
  auto seen = wait_for(ours);
  ASSERT_EQ(seen.ours.size(), ours.size());

  const auto counters = small->counters();
  std::vector<CloseEvent> rest;
  source_->drain(rest);
  seen.others += rest.size();
  ASSERT_EQ(source_->counters().lost, 0u);
  EXPECT_GT(counters.lost, 0u);
  // Every program sees every close on the host: bracket the total between
  // ours alone and ours plus everything else the large ring saw meanwhile.
  EXPECT_GE(counters.sent + counters.lost, ours.size());
  EXPECT_LE(counters.sent + counters.lost, ours.size() + seen.others);
  // While full, the ring stops taking events, so it holds exactly `sent`;
  // draining makes room for others' events, hence the loop.
  std::vector<CloseEvent> drained;
  EXPECT_TRUE(eventually([&] {
    small->drain(drained);
    return drained.size() == small->counters().sent;
  }));
}

}  // namespace
}  // namespace lw::test
