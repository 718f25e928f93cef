// lw-workload: a real process that holds sockets in known states, on loopback only.
//
// The bpf and scenario test tiers and the benchmarks start it as a child process,
// read its stdout through a pipe and steer it with signals. Each subcommand ("mode")
// is one config struct, one parse function and one run function; add a mode by adding
// all three and a row in kModes.
//
// Protocol (stdout, one line each, flushed):
//   ready <info>          exactly once, when setup is complete
//   <status> <number>     later, documented per mode
// Errors: one line on stderr; exit 2 for bad arguments, 1 for runtime failures.
// SIGTERM, SIGINT, parent death (PR_SET_PDEATHSIG) and --max-seconds: exit 0.
// SIGUSR1/SIGUSR2 are read from a signalfd in the event loop, never acted on in a
// signal handler.
//
// Only 127.0.0.0/8 and ::1 are accepted as addresses: this program must never talk to
// anything but the local machine.

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51  // linux/in.h, Linux >= 6.3
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "util/owned_fd.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

constexpr double kDefaultMaxSeconds = 120.0;
constexpr double kMaxMaxSeconds = 7.0 * 24 * 3600;  // a week: anything longer is a typo
constexpr int kListenBacklog = 4096;
constexpr std::uint64_t kMaxLeaderThreads =
    64;  // leader-exits --threads                 // the kernel caps it at somaxconn
constexpr std::size_t kIoChunk = 64 * 1024;      // bytes per send()/recv() call
constexpr std::size_t kConnectWindow = 512;      // non-blocking connects in flight
constexpr std::uint16_t kPortWindow = 64;        // ports per IP_LOCAL_PORT_RANGE hint
constexpr std::uint64_t kFdHeadroom = 16;        // stdio, epoll, signalfd, spares
constexpr std::uint64_t kMaxCount = 1'000'000;   // sanity bound for --count
constexpr std::uint64_t kMaxSiblings = 1000;     // sanity bound for --processes
constexpr std::uint64_t kMaxUdpPayload = 65507;  // largest IPv4 UDP datagram
// Fits a unix stream's default send buffer (212,992 bytes) with the 100
// bytes read back.
constexpr std::uint64_t kMaxUnixUnread = 100000;
constexpr std::uint64_t kMaxSharedTcpUnread = 1 << 17;            // fits the receive buffer asked for
constexpr int kUdpArrivalTimeoutMs = 2000;                        // wait for our own datagram
constexpr int kMaxWaitMs = 60'000;                                // longest single epoll_wait
constexpr std::uint64_t kMaxListeners = 16'384;                   // sanity bound for serve --listeners
constexpr std::uint64_t kMaxParallel = 16'384;                    // sanity bound for churn --parallel
constexpr std::uint64_t kMaxPeriodMs = 3'600'000;                 // an hour between periodic actions at most
constexpr std::uint64_t kHeapChunksPerSecond = 10;                // heap-grow allocations per second
constexpr std::uint64_t kMaxHeapBytes = std::uint64_t{64} << 30;  // heap-grow --cap bound
constexpr std::uint64_t kSecondsPerDay = 86400;                   // heap-grow --release-every bound
constexpr std::uint64_t kMaxRate = std::uint64_t{1} << 40;        // bytes/s bound for --rate, --read-rate
constexpr std::chrono::milliseconds kRateTick{10};                // token buckets refill this often
constexpr std::uint64_t kRateBurstTicks = 10;                     // a bucket holds at most this many ticks' worth
constexpr std::uint64_t kDefaultMaxOpened = 5000;                 // connect --max-connections, fd-leak --max
constexpr std::uint64_t kMinRcvbuf = 4096;                        // connect --rcvbuf bounds; the kernel
constexpr std::uint64_t kMaxRcvbuf = std::uint64_t{1} << 30;      // doubles it and must fit an int

// ---------------------------------------------------------------------------
// Errors, fds, output

// Bad arguments: exit 2.
class UsageError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The system refused something: exit 1.
class RuntimeError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail_errno(const std::string& what) { throw RuntimeError(what + ": " + std::strerror(errno)); }

using lw::OwnedFd;

// One protocol line on stdout, flushed at once: the parent reads through a pipe.
void say(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// The repeating byte pattern servers send: byte i of a stream is kPattern[i % 26].
// The buffer is one chunk plus one period long so any offset has a full chunk after it.
constexpr std::size_t kPatternPeriod = 26;
const std::array<char, kIoChunk + kPatternPeriod>& pattern_buffer() {
  static const auto buffer = [] {
    std::array<char, kIoChunk + kPatternPeriod> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>('a' + i % kPatternPeriod);
    return b;
  }();
  return buffer;
}

// ---------------------------------------------------------------------------
// Arguments

// A whole decimal integer in [min, max], or nothing.
std::optional<std::uint64_t> parse_integer(std::string_view text, std::uint64_t min, std::uint64_t max) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < min || n > max) return std::nullopt;
  return n;
}

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// "--name value" and "--name=value" pairs after the subcommand, and bare "--flag"
// switches (names in `flags`); every name must be known.
class Args {
 public:
  static Args parse(std::span<char* const> words, const std::vector<std::string_view>& known,
                    const std::vector<std::string_view>& flags = {}) {
    Args args;
    for (std::size_t i = 0; i < words.size(); ++i) {
      std::string_view word = words[i];
      if (!word.starts_with("--") || word.size() == 2) {
        throw UsageError("unexpected argument '" + std::string(word) + "'");
      }
      std::string name;
      std::string value;
      if (auto eq = word.find('='); eq != std::string_view::npos) {
        name = std::string(word.substr(2, eq - 2));
        value = std::string(word.substr(eq + 1));
        if (contains(flags, name)) throw UsageError("--" + name + " takes no value");
      } else {
        name = std::string(word.substr(2));
        if (!contains(flags, name)) {
          if (i + 1 >= words.size()) throw UsageError("--" + name + " needs a value");
          value = words[++i];
        }
      }
      if (!contains(known, name) && !contains(flags, name)) {
        throw UsageError("unknown option --" + name);
      }
      if (!args.values_.emplace(name, value).second) {
        throw UsageError("--" + name + " given twice");
      }
    }
    return args;
  }

  bool has(const std::string& name) const { return values_.contains(name); }

  std::string text(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw UsageError("--" + name + " is required");
    return it->second;
  }

  // An integer in [min, max]; `fallback` when absent (required when there is none).
  std::uint64_t number(const std::string& name, std::uint64_t min, std::uint64_t max,
                       std::optional<std::uint64_t> fallback = std::nullopt) const {
    if (!has(name)) {
      if (fallback) return *fallback;
      throw UsageError("--" + name + " is required");
    }
    const std::string value = text(name);
    const std::optional<std::uint64_t> n = parse_integer(value, min, max);
    if (!n) {
      throw UsageError("--" + name + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                       "], got '" + value + "'");
    }
    return *n;
  }

  // A comma-separated list of integers in [min, max], at least one.
  std::vector<std::uint64_t> numbers(const std::string& name, std::uint64_t min, std::uint64_t max) const {
    const std::string value = text(name);
    std::vector<std::uint64_t> out;
    std::string_view rest = value;
    for (;;) {
      const std::size_t comma = rest.find(',');
      const std::optional<std::uint64_t> n = parse_integer(rest.substr(0, comma), min, max);
      if (!n) {
        throw UsageError("--" + name + " must be a comma-separated list of integers in [" + std::to_string(min) + ", " +
                         std::to_string(max) + "], got '" + value + "'");
      }
      out.push_back(*n);
      if (comma == std::string_view::npos) return out;
      rest.remove_prefix(comma + 1);
    }
  }

  // A positive number of seconds, fractions allowed.
  double seconds(const std::string& name, double fallback, double max) const {
    if (!has(name)) return fallback;
    const std::string value = text(name);
    char* end = nullptr;
    errno = 0;
    const double s = std::strtod(value.c_str(), &end);
    if (errno != 0 || value.empty() || *end != '\0' || !std::isfinite(s) || s <= 0 || s > max) {
      throw UsageError("--" + name + " must be a number of seconds in (0, " + std::to_string(static_cast<long>(max)) +
                       "], got '" + value + "'");
    }
    return s;
  }

 private:
  std::map<std::string, std::string> values_;
};

// ---------------------------------------------------------------------------
// Loopback endpoints

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // as given, for messages

  int family() const { return addr.ss_family; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

// Parses a numeric address; refuses anything outside 127.0.0.0/8 and ::1.
Endpoint loopback_endpoint(const std::string& text, std::uint16_t port) {
  Endpoint ep;
  ep.text = text;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) != 127) {
      throw UsageError("address " + text + " is not loopback (only 127.0.0.0/8 and ::1)");
    }
    auto* sin = reinterpret_cast<sockaddr_in*>(&ep.addr);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr = v4;
    ep.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6)) {
      throw UsageError("address " + text + " is not loopback (only 127.0.0.0/8 and ::1)");
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ep.addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = v6;
    ep.len = sizeof(sockaddr_in6);
  } else {
    throw UsageError("'" + text + "' is not a numeric IPv4 or IPv6 address");
  }
  return ep;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail_errno("getsockname");
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

OwnedFd open_socket(int family, int type) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_errno("socket");
  return OwnedFd(fd);
}

// What one read_available() call found.
struct ReadResult {
  std::uint64_t bytes = 0;  // read and dropped
  bool eof = false;         // the peer has closed and everything before that was read
  int error = 0;            // errno of a failed recv (not EAGAIN); 0 when none
};

// Reads and drops everything readable on a socket now, without blocking; at most
// `limit` bytes.
ReadResult read_available(int fd, std::uint64_t limit = UINT64_MAX) {
  static std::array<char, kIoChunk> sink;
  ReadResult result;
  while (result.bytes < limit) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(sink.size(), limit - result.bytes));
    const ssize_t n = ::recv(fd, sink.data(), want, MSG_DONTWAIT);
    if (n > 0) {
      result.bytes += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0) {
      result.eof = true;
      return result;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) result.error = errno;
    return result;
  }
  return result;
}

// A byte budget of `bytes_per_second`, refilled by a loop timer every kRateTick. It
// holds at most kRateBurstTicks ticks' worth (but at least `min_cap`, the largest
// single take), so an idle spell does not become a burst. Fractions of a byte carry
// over, so the rate is exact over time.
class TokenBucket {
 public:
  explicit TokenBucket(std::uint64_t bytes_per_second, std::uint64_t min_cap = 1)
      : rate_per_tick_(bytes_per_second * static_cast<std::uint64_t>(kRateTick.count())),
        cap_(std::max<std::uint64_t>(rate_per_tick_ * kRateBurstTicks / 1000, min_cap)) {}

  void refill(std::uint64_t ticks) {
    const std::uint64_t scaled = rate_per_tick_ * std::min(ticks, kRateBurstTicks) + milli_bytes_;
    tokens_ = std::min(tokens_ + scaled / 1000, cap_);
    milli_bytes_ = scaled % 1000;
  }

  std::uint64_t available() const { return tokens_; }
  void take(std::uint64_t bytes) { tokens_ -= std::min(bytes, tokens_); }

 private:
  std::uint64_t rate_per_tick_;  // bytes per second times milliseconds per tick
  std::uint64_t cap_;
  std::uint64_t tokens_ = 0;
  std::uint64_t milli_bytes_ = 0;  // the fraction of a byte carried over, in 1/1000 bytes
};

// ---------------------------------------------------------------------------
// Process setup

// Signals the loop reads from its signalfd.
sigset_t loop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  return set;
}

void block_loop_signals() {
  const sigset_t set = loop_signals();
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) fail_errno("sigprocmask");
  std::signal(SIGPIPE, SIG_IGN);  // peers may vanish; send() then reports EPIPE
}

// SIGTERM when the parent dies. Returns false when it is already gone.
bool follow_parent(pid_t parent_at_start) {
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) fail_errno("prctl(PR_SET_PDEATHSIG)");
  return getppid() == parent_at_start;
}

// Soft RLIMIT_NOFILE up to the hard limit; returns the new limit.
std::uint64_t raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) fail_errno("getrlimit(RLIMIT_NOFILE)");
  if (lim.rlim_cur != lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) fail_errno("setrlimit(RLIMIT_NOFILE)");
  }
  return lim.rlim_cur;
}

void require_fds(std::uint64_t needed, std::uint64_t limit) {
  if (needed + kFdHeadroom > limit) {
    throw RuntimeError("needs " + std::to_string(needed) + " file descriptors but RLIMIT_NOFILE is " +
                       std::to_string(limit) + "; spread the sockets over several processes");
  }
}

// ---------------------------------------------------------------------------
// Event loop

// One epoll set plus a signalfd: the only place a mode waits. Runs until SIGTERM,
// SIGINT or the deadline; hands I/O readiness, SIGUSR1/SIGUSR2 and, if asked for with
// every() (up to kMaxTimers times), periodic ticks to the mode. Keys from
// kFirstReservedKey up are the loop's own.
class EventLoop {
 public:
  using IoHandler = std::function<void(std::uint64_t key, std::uint32_t events)>;
  using SignalHandler = std::function<void(int signo)>;
  using TickHandler = std::function<void(std::uint64_t ticks)>;  // ticks elapsed, >= 1

  static constexpr std::size_t kMaxTimers = 4;
  static constexpr std::uint64_t kFirstReservedKey = UINT64_MAX - kMaxTimers;

  explicit EventLoop(Clock::time_point deadline)
      : deadline_(deadline), epoll_(open_epoll()), signals_(open_signalfd()) {
    watch(signals_.get(), EPOLLIN, kSignalKey);
  }

  void watch(int fd, std::uint32_t events, std::uint64_t key) { control(EPOLL_CTL_ADD, fd, events, key); }
  void change(int fd, std::uint32_t events, std::uint64_t key) { control(EPOLL_CTL_MOD, fd, events, key); }
  void unwatch(int fd) {
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0) fail_errno("epoll_ctl(DEL)");
  }

  // Calls on_tick every `period` (a timerfd of its own) while run() runs.
  void every(std::chrono::milliseconds period, TickHandler on_tick) {
    if (timers_.size() == kMaxTimers) throw std::logic_error("EventLoop::every called too often");
    const int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd < 0) fail_errno("timerfd_create");
    OwnedFd timer(timer_fd);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(period).count();
    itimerspec spec{};
    spec.it_interval.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_interval.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    spec.it_value = spec.it_interval;
    if (timerfd_settime(timer.get(), 0, &spec, nullptr) != 0) fail_errno("timerfd_settime");
    watch(timer.get(), EPOLLIN, kFirstTimerKey + timers_.size());
    timers_.push_back(Timer{std::move(timer), std::move(on_tick)});
  }

  // Milliseconds to the deadline, rounded up, capped at kMaxWaitMs; 0 once it passed.
  int remaining_ms() const {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, kMaxWaitMs));
  }

  void run(const IoHandler& on_io, const SignalHandler& on_signal) {
    std::array<epoll_event, 1024> ready{};
    for (;;) {
      const int timeout = remaining_ms();
      if (timeout == 0) return;
      const int n = epoll_wait(epoll_.get(), ready.data(), static_cast<int>(ready.size()), timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("epoll_wait");
      }
      for (const epoll_event& ev : std::span(ready).first(static_cast<std::size_t>(n))) {
        if (ev.data.u64 == kSignalKey) {
          if (!dispatch_signals(on_signal)) return;
        } else if (ev.data.u64 >= kFirstTimerKey) {
          dispatch_ticks(timers_.at(static_cast<std::size_t>(ev.data.u64 - kFirstTimerKey)));
        } else {
          on_io(ev.data.u64, ev.events);
        }
      }
    }
  }

 private:
  static constexpr std::uint64_t kSignalKey = UINT64_MAX;
  static constexpr std::uint64_t kFirstTimerKey = kFirstReservedKey;  // timer i: kFirstTimerKey + i

  struct Timer {
    OwnedFd fd;
    TickHandler on_tick;
  };

  static OwnedFd open_epoll() {
    const int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) fail_errno("epoll_create1");
    return OwnedFd(fd);
  }

  static OwnedFd open_signalfd() {
    const sigset_t set = loop_signals();
    const int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) fail_errno("signalfd");
    return OwnedFd(fd);
  }

  void control(int op, int fd, std::uint32_t events, std::uint64_t key) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = key;
    if (epoll_ctl(epoll_.get(), op, fd, &ev) != 0) fail_errno("epoll_ctl");
  }

  // Returns false on a terminating signal.
  bool dispatch_signals(const SignalHandler& on_signal) {
    signalfd_siginfo info{};
    while (::read(signals_.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      const int signo = static_cast<int>(info.ssi_signo);
      if (signo == SIGTERM || signo == SIGINT) return false;
      on_signal(signo);
    }
    return true;
  }

  static void dispatch_ticks(const Timer& timer) {
    std::uint64_t ticks = 0;
    if (::read(timer.fd.get(), &ticks, sizeof(ticks)) == static_cast<ssize_t>(sizeof(ticks)) && ticks > 0) {
      timer.on_tick(ticks);
    }
  }

  Clock::time_point deadline_;
  OwnedFd epoll_;  // opened before signals_: members start in declaration order
  OwnedFd signals_;
  std::vector<Timer> timers_;  // index i has epoll key kFirstTimerKey + i
};

// What every mode gets besides its own config.
struct Runtime {
  EventLoop& loop;
  std::uint64_t fd_limit;
  Clock::time_point deadline;  // --max-seconds, for processes that run no loop
};

// ---------------------------------------------------------------------------
// Mode: serve

// serve: listen on one or more ports, accept forever, write --send-bytes to each
// connection (then, with --close-after-send, shut it down and close it), or with
// --stream write for as long as it lives (at most --rate bytes/s), or with
// --close-on-accept close it at once; discard input.
struct ServeConfig {
  Endpoint bind;
  std::uint64_t send_bytes = 0;
  std::optional<std::uint64_t> count;  // report "accepted N" and "sent N" at this count
  bool close_after_send = false;
  std::uint64_t listeners = 1;        // ephemeral ports on --bind (needs --port 0 when > 1)
  bool stream = false;                // write pattern data without end
  std::optional<std::uint64_t> rate;  // --stream: bytes per second per connection at most
  bool keep_unsent = false;           // --rate: what a connection does not take is kept for it in memory
  bool close_on_accept = false;       // close every connection as soon as it is accepted
  bool accept = true;                 // --no-accept: connections stay in the accept queue
  std::uint64_t backlog = kListenBacklog;
};

ServeConfig parse_serve(const Args& args) {
  ServeConfig cfg;
  const auto port = static_cast<std::uint16_t>(args.number("port", 0, 65535));
  cfg.bind = loopback_endpoint(args.text("bind"), port);
  cfg.send_bytes = args.number("send-bytes", 0, std::uint64_t{1} << 50, 0);
  if (args.has("count")) cfg.count = args.number("count", 1, kMaxCount);
  cfg.close_after_send = args.has("close-after-send");
  cfg.listeners = args.number("listeners", 1, kMaxListeners, 1);
  if (cfg.listeners > 1 && port != 0) throw UsageError("--listeners above 1 needs --port 0");
  cfg.stream = args.has("stream");
  cfg.close_on_accept = args.has("close-on-accept");
  const bool sends_bytes = args.has("send-bytes") || cfg.close_after_send;
  if (cfg.stream && sends_bytes) throw UsageError("--stream excludes --send-bytes and --close-after-send");
  if (cfg.close_on_accept && (cfg.stream || sends_bytes)) {
    throw UsageError("--close-on-accept excludes --stream, --send-bytes and --close-after-send");
  }
  if (args.has("rate")) {
    if (!cfg.stream) throw UsageError("--rate needs --stream");
    cfg.rate = args.number("rate", 1, kMaxRate);
  }
  cfg.keep_unsent = args.has("keep-unsent");
  if (cfg.keep_unsent && !cfg.rate) throw UsageError("--keep-unsent needs --stream --rate");
  cfg.accept = !args.has("no-accept");
  if (!cfg.accept && (cfg.stream || sends_bytes || cfg.close_on_accept)) {
    throw UsageError("--no-accept excludes --stream, --send-bytes, --close-after-send and --close-on-accept");
  }
  cfg.backlog = args.number("backlog", 1, kListenBacklog, kListenBacklog);
  return cfg;
}

// A listening TCP socket on `bind`.
OwnedFd open_listener(const Endpoint& bind, std::uint64_t backlog) {
  OwnedFd fd = open_socket(bind.family(), SOCK_STREAM);
  const int on = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    fail_errno("setsockopt(SO_REUSEADDR)");
  }
  if (bind.family() == AF_INET6 && setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) {
    fail_errno("setsockopt(IPV6_V6ONLY)");
  }
  if (::bind(fd.get(), bind.sa(), bind.len) != 0) fail_errno("bind " + bind.text);
  if (listen(fd.get(), static_cast<int>(backlog)) != 0) fail_errno("listen");
  return fd;
}

class Server {
 public:
  Server(const ServeConfig& cfg, EventLoop& loop) : cfg_(cfg), loop_(loop) {
    listeners_.reserve(static_cast<std::size_t>(cfg.listeners));
    for (std::uint64_t i = 0; i < cfg.listeners; ++i) {
      listeners_.push_back(open_listener(cfg.bind, cfg.backlog));
      if (cfg.accept) loop_.watch(listeners_.back().get(), EPOLLIN, kListenerKeyBase + i);
    }
  }

  // The listening ports, in the order they were opened.
  std::vector<std::uint16_t> ports() const {
    std::vector<std::uint16_t> out;
    for (const OwnedFd& fd : listeners_) out.push_back(local_port(fd.get()));
    return out;
  }

  void on_io(std::uint64_t key, std::uint32_t events) {
    if (key >= kListenerKeyBase) {
      accept_pending(listeners_.at(static_cast<std::size_t>(key - kListenerKeyBase)).get());
      return;
    }
    auto it = conns_.find(static_cast<int>(key));
    if (it == conns_.end()) return;  // closed earlier in this batch
    Conn& conn = it->second;
    bool alive = true;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) alive = discard_input(conn);
    if (alive && (events & EPOLLOUT)) alive = pump(conn);
    if (!alive) conns_.erase(it);
    report_progress();
  }

  // --rate: refill every connection's bucket and write what it allows; one that waits
  // for EPOLLOUT (its peer reads slower than --rate) is written to when that comes.
  // With --keep-unsent, what the bucket allowed is owed at once: a publisher's
  // message for every subscriber, kept in memory until its socket takes it.
  void on_tick(std::uint64_t ticks) {
    for (auto it = conns_.begin(); it != conns_.end();) {
      Conn& conn = it->second;
      conn.bucket->refill(ticks);
      if (cfg_.keep_unsent) owe(conn);
      it = conn.writing || pump(conn) ? std::next(it) : conns_.erase(it);
    }
  }

  // SIGUSR1: close every accepted connection.
  void on_signal(int signo) {
    if (signo != SIGUSR1) return;
    const std::size_t closed = conns_.size();
    conns_.clear();  // OwnedFd destructors close; close() also removes them from epoll
    say("closed " + std::to_string(closed));
  }

 private:
  // Connections are keyed by fd (below 2^31); listener i by kListenerKeyBase + i.
  static constexpr std::uint64_t kListenerKeyBase = std::uint64_t{1} << 32;

  struct Conn {
    OwnedFd fd;
    std::uint64_t sent = 0;               // bytes written so far
    bool writing = false;                 // EPOLLOUT is in its epoll set
    std::optional<TokenBucket> bucket{};  // with --rate
    std::string unsent;                   // with --keep-unsent: owed, not yet taken by the socket
  };

  // Moves what the bucket allows into the connection's unsent bytes.
  void owe(Conn& conn) {
    const std::uint64_t due = conn.bucket->available();
    conn.bucket->take(due);
    const auto& pattern = pattern_buffer();
    for (std::uint64_t left = due; left > 0;) {
      const std::size_t from = (conn.sent + conn.unsent.size()) % kPatternPeriod;
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, pattern.size() - from));
      conn.unsent.append(pattern.data() + from, n);
      left -= n;
    }
  }

  void accept_pending(int listener) {
    for (;;) {
      const int raw = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (raw < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        fail_errno("accept");
      }
      OwnedFd fd(raw);
      ++accepted_;
      if (cfg_.close_on_accept) continue;  // fd closes here; the peer sees EOF
      Conn& conn = conns_.insert_or_assign(raw, Conn{std::move(fd)}).first->second;
      if (cfg_.rate) conn.bucket.emplace(*cfg_.rate);
      loop_.watch(raw, EPOLLIN, static_cast<std::uint64_t>(raw));
      if (!pump(conn)) conns_.erase(raw);
    }
    report_progress();
  }

  // Bytes `conn` may be sent now: the rest of --send-bytes, or with --stream no end
  // but what its --rate bucket holds.
  std::uint64_t allowance(const Conn& conn) const {
    if (cfg_.keep_unsent) return conn.unsent.size();
    if (!cfg_.stream) return cfg_.send_bytes - conn.sent;
    return conn.bucket ? conn.bucket->available() : UINT64_MAX;
  }

  // Waits for EPOLLOUT on `conn` or stops waiting for it.
  void want_writable(Conn& conn, bool writable) {
    if (conn.writing == writable) return;
    conn.writing = writable;
    loop_.change(conn.fd.get(), writable ? EPOLLIN | EPOLLOUT : EPOLLIN, static_cast<std::uint64_t>(conn.fd.get()));
  }

  // Writes as much of allowance() as the socket takes now. Returns false when the
  // connection is dead, or done and to be closed (--close-after-send).
  bool pump(Conn& conn) {
    if (!cfg_.stream && cfg_.send_bytes == 0) return !cfg_.close_after_send;
    const auto& pattern = pattern_buffer();
    while (const std::uint64_t left = allowance(conn)) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kIoChunk));
      const char* data = cfg_.keep_unsent ? conn.unsent.data() : pattern.data() + conn.sent % kPatternPeriod;
      const ssize_t n = ::send(conn.fd.get(), data, want, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          want_writable(conn, true);
          return true;
        }
        return false;  // EPIPE, ECONNRESET: the peer is gone
      }
      conn.sent += static_cast<std::uint64_t>(n);
      if (cfg_.keep_unsent) {
        conn.unsent.erase(0, static_cast<std::size_t>(n));
      } else if (conn.bucket) {
        conn.bucket->take(static_cast<std::uint64_t>(n));
      }
      if (!cfg_.stream && conn.sent == cfg_.send_bytes) {
        ++completed_;
        if (cfg_.close_after_send) {
          ::shutdown(conn.fd.get(), SHUT_WR);  // FIN after the queued bytes; the caller closes
          return false;
        }
      }
    }
    want_writable(conn, false);  // all sent, or the --rate bucket is empty until the next tick
    return true;
  }

  // Reads and drops whatever the peer sent, so this side holds no receive backlog.
  // Returns false on EOF or error: the peer is gone and the connection is closed.
  static bool discard_input(Conn& conn) {
    const ReadResult r = read_available(conn.fd.get());
    return !r.eof && r.error == 0;
  }

  void report_progress() {
    if (!cfg_.count) return;
    const std::uint64_t n = *cfg_.count;
    if (!said_accepted_ && accepted_ >= n) {
      said_accepted_ = true;
      say("accepted " + std::to_string(n));
    }
    const std::uint64_t done = cfg_.send_bytes == 0 ? accepted_ : completed_;
    if (said_accepted_ && !said_sent_ && !cfg_.stream && done >= n) {
      said_sent_ = true;
      say("sent " + std::to_string(n));
    }
  }

  const ServeConfig& cfg_;
  EventLoop& loop_;
  std::vector<OwnedFd> listeners_;       // index i has epoll key kListenerKeyBase + i
  std::unordered_map<int, Conn> conns_;  // keyed by fd, which is also the epoll key
  std::uint64_t accepted_ = 0;
  std::uint64_t completed_ = 0;  // connections that got all --send-bytes
  bool said_accepted_ = false;
  bool said_sent_ = false;
};

int run_mode(const ServeConfig& cfg, Runtime& rt) {
  require_fds(cfg.listeners, rt.fd_limit);
  Server server(cfg, rt.loop);
  std::string ready = "ready";
  for (std::uint16_t port : server.ports()) ready += " " + std::to_string(port);
  say(ready);
  if (cfg.rate) rt.loop.every(kRateTick, [&](std::uint64_t ticks) { server.on_tick(ticks); });
  rt.loop.run([&](std::uint64_t key, std::uint32_t events) { server.on_io(key, events); },
              [&](int signo) { server.on_signal(signo); });
  return kExitOk;
}

// ---------------------------------------------------------------------------
// Mode: connect

// connect: open --count connections to --port (or to each of --ports), then with
// --open-every one more every MS up to --max-connections, and never read them until
// told to, or (--read-every) drain them all periodically, or (--read-rate) read them
// at a fixed total rate.
struct ConnectConfig {
  std::vector<Endpoint> targets;  // one per port; --count connections to each
  std::uint64_t count = 0;
  std::optional<std::chrono::milliseconds> read_every;
  std::optional<std::uint64_t> read_rate;  // bytes per second across all connections
  std::optional<std::chrono::milliseconds> open_every;
  std::uint64_t max_connections = 0;  // initial plus opened later; total() without --open-every
  std::uint64_t rcvbuf = 0;           // SO_RCVBUF for every connection; 0: kernel autotuning

  std::uint64_t total() const { return count * targets.size(); }  // the initial connections
};

ConnectConfig parse_connect(const Args& args) {
  ConnectConfig cfg;
  const std::string to = args.text("to");
  if (args.has("port") == args.has("ports")) throw UsageError("give exactly one of --port and --ports");
  const std::vector<std::uint64_t> ports =
      args.has("ports") ? args.numbers("ports", 1, 65535) : std::vector{args.number("port", 1, 65535)};
  for (std::uint64_t port : ports) cfg.targets.push_back(loopback_endpoint(to, static_cast<std::uint16_t>(port)));
  if (args.has("open-every")) cfg.open_every = std::chrono::milliseconds(args.number("open-every", 1, kMaxPeriodMs));
  cfg.count = args.number("count", cfg.open_every ? 0 : 1, kMaxCount);
  if (cfg.total() > kMaxCount) {
    throw UsageError("--count times the number of --ports must be at most " + std::to_string(kMaxCount));
  }
  if (args.has("max-connections") && !cfg.open_every) throw UsageError("--max-connections needs --open-every");
  cfg.max_connections = cfg.open_every ? args.number("max-connections", 1, kMaxCount, kDefaultMaxOpened) : cfg.total();
  if (cfg.max_connections < cfg.total()) {
    throw UsageError("--max-connections (default " + std::to_string(kDefaultMaxOpened) +
                     ") is below the initial --count connections");
  }
  if (args.has("read-every") && args.has("read-rate"))
    throw UsageError("give at most one of --read-every and --read-rate");
  if (args.has("read-every")) cfg.read_every = std::chrono::milliseconds(args.number("read-every", 1, kMaxPeriodMs));
  if (args.has("read-rate")) cfg.read_rate = args.number("read-rate", 1, kMaxRate);
  cfg.rcvbuf = args.number("rcvbuf", kMinRcvbuf, kMaxRcvbuf, 0);
  return cfg;
}

// Source ports for many connections to one destination. Left alone, the kernel's
// ephemeral search walks past every port this destination already uses: O(n) per
// connect, about 3.4 s for 18,000. A per-socket IP_LOCAL_PORT_RANGE window starting
// after the last port handed out keeps each search short. The kernel still picks the
// port and checks the 4-tuple, so the sockets are ordinary autobound ones. Without
// kernel support (ENOPROTOOPT) it quietly does nothing.
class PortHint {
 public:
  PortHint() {
    if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
      unsigned lo = 0;
      unsigned hi = 0;
      if (std::fscanf(f, "%u %u", &lo, &hi) == 2 && lo > 0 && lo <= hi && hi <= 65535) {
        low_ = static_cast<std::uint16_t>(lo);
        high_ = static_cast<std::uint16_t>(hi);
      }
      std::fclose(f);
    }
    next_ = low_;
  }

  bool active() const { return supported_; }

  // Restricts fd's port search to the window after the last port used.
  void narrow(int fd) {
    if (!supported_) return;
    if (next_ < low_ || next_ > high_) next_ = low_;
    const auto last = static_cast<std::uint16_t>(std::min<unsigned>(next_ + kPortWindow - 1u, high_));
    set(fd, static_cast<std::uint32_t>(next_) | static_cast<std::uint32_t>(last) << 16);
  }

  // Back to the system-wide range, for when the window was full.
  void widen(int fd) {
    if (supported_) set(fd, 0);
  }

  void used(std::uint16_t port) { next_ = static_cast<std::uint16_t>(port + 1u); }

 private:
  void set(int fd, std::uint32_t range) {
    if (setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) == 0) return;
    if (errno != ENOPROTOOPT && errno != EINVAL) fail_errno("setsockopt(IP_LOCAL_PORT_RANGE)");
    supported_ = false;
  }

  std::uint16_t low_ = 32768;
  std::uint16_t high_ = 60999;
  std::uint16_t next_ = 32768;
  bool supported_ = true;
};

// A non-blocking TCP connect, started.
struct Dial {
  OwnedFd fd;
  bool connected = false;  // already established; otherwise in progress (EPOLLOUT when done)
};

// SO_RCVBUF before connect (the window scale is settled by the SYN): fixes the receive
// buffer at 2 x `bytes` and turns autotuning off. SO_RCVBUFFORCE (CAP_NET_ADMIN) passes
// net.core.rmem_max; without the capability, plain SO_RCVBUF is capped there.
void set_receive_buffer(int fd, std::uint64_t bytes) {
  const int value = static_cast<int>(bytes);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, sizeof(value)) == 0) return;
  if (errno != EPERM || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof(value)) != 0) {
    fail_errno("setsockopt(SO_RCVBUF)");
  }
}

// Starts connecting to `to`, with the source port search narrowed by `ports` and, when
// `rcvbuf` is not 0, the receive buffer set by set_receive_buffer().
Dial start_dial(const Endpoint& to, PortHint& ports, std::uint64_t rcvbuf = 0) {
  Dial dial{open_socket(to.family(), SOCK_STREAM)};
  const int fd = dial.fd.get();
  if (rcvbuf != 0) set_receive_buffer(fd, rcvbuf);
  ports.narrow(fd);
  int rc = ::connect(fd, to.sa(), to.len);
  if (rc != 0 && errno == EADDRNOTAVAIL && ports.active()) {
    ports.widen(fd);  // the window was taken; let the kernel search everywhere
    rc = ::connect(fd, to.sa(), to.len);
  }
  if (rc == 0) {
    dial.connected = true;
  } else if (errno != EINPROGRESS) {
    fail_errno("connect to " + to.text);
  }
  ports.used(local_port(fd));
  return dial;
}

// After EPOLLOUT on a connect in progress: throws if it failed.
void finish_dial(int fd, const Endpoint& to) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) fail_errno("getsockopt(SO_ERROR)");
  if (err != 0) {
    errno = err;
    fail_errno("connect to " + to.text);
  }
}

class Connector {
 public:
  Connector(const ConnectConfig& cfg, EventLoop& loop) : cfg_(cfg), loop_(loop) {
    conns_.reserve(static_cast<std::size_t>(cfg.max_connections));
    if (cfg.read_rate) bucket_.emplace(*cfg.read_rate, kIoChunk);
  }

  // The initial --count connections are up.
  bool all_connected() const { return connected_ >= cfg_.total(); }

  // Starts connects until kConnectWindow are in flight or all wanted have been started.
  void start_more() {
    while (in_flight_ < kConnectWindow && conns_.size() < wanted_) {
      const std::uint64_t key = conns_.size();
      Dial dial = start_dial(target(key), ports_, cfg_.rcvbuf);
      conns_.push_back(std::move(dial.fd));
      if (dial.connected) {
        established();
      } else {
        ++in_flight_;
        loop_.watch(conns_.back().get(), EPOLLOUT, key);
      }
    }
  }

  // A connect in flight finished.
  void on_io(std::uint64_t key, std::uint32_t /*events*/) {
    const int fd = conns_.at(static_cast<std::size_t>(key)).get();
    finish_dial(fd, target(key));
    loop_.unwatch(fd);
    --in_flight_;
    established();
    start_more();
  }

  // --read-every: a periodic drain; SIGUSR1 then reports the running total.
  void on_read_tick() { drained_total_ += drain(); }

  // --read-rate: read what the bucket allows, round robin over the connections.
  void on_rate_tick(std::uint64_t ticks) {
    bucket_->refill(ticks);
    drained_total_ += read_round_robin(*bucket_);
  }

  // --open-every: one more connection per tick, once the initial ones are up.
  void on_open_tick(std::uint64_t ticks) {
    if (!all_connected()) return;
    wanted_ = std::min(wanted_ + ticks, cfg_.max_connections);
    start_more();
  }

  void on_signal(int signo) {
    if (signo == SIGUSR1) {
      if (cfg_.read_rate) {
        say("drained " + std::to_string(drained_total_));  // no extra read: the rate holds
      } else if (cfg_.read_every) {
        drained_total_ += drain();
        say("drained " + std::to_string(drained_total_));
      } else {
        say("drained " + std::to_string(drain()));
      }
    }
    if (signo == SIGUSR2) say("eof " + std::to_string(count_eof()));
  }

 private:
  // Connection `key` goes to target key / count: --count to the first port, then the
  // next; those opened later (--open-every) go to the ports in turn.
  const Endpoint& target(std::uint64_t key) const {
    const std::uint64_t initial = cfg_.total();
    const std::uint64_t index = key < initial ? key / cfg_.count : (key - initial) % cfg_.targets.size();
    return cfg_.targets.at(static_cast<std::size_t>(index));
  }

  // A connect finished; those beyond the initial ones are reported one by one.
  void established() {
    ++connected_;
    if (connected_ > cfg_.total()) say("opened " + std::to_string(connected_));
  }

  // While `budget` holds a whole kIoChunk, reads up to one chunk from each connection
  // in turn, carrying on from where the last call stopped; returns the bytes read.
  // Whole-chunk reads, like an application's 64 KiB buffer: copying more than the
  // initial receive space (about 64 KiB) in one go is what makes the kernel autotune
  // the receive buffer up, so the unread backlog can grow into megabytes.
  std::uint64_t read_round_robin(TokenBucket& budget) {
    std::uint64_t total = 0;
    std::size_t idle = 0;  // connections in a row that had nothing to read
    while (budget.available() >= kIoChunk && idle < conns_.size()) {
      const int fd = conns_[next_read_].get();
      next_read_ = (next_read_ + 1) % conns_.size();
      const std::uint64_t got = read_available(fd, kIoChunk).bytes;
      budget.take(got);
      total += got;
      idle = got > 0 ? 0 : idle + 1;
    }
    return total;
  }

  // Reads everything readable now from every connection; returns the bytes read.
  std::uint64_t drain() {
    std::uint64_t total = 0;
    for (const OwnedFd& fd : conns_) total += read_available(fd.get()).bytes;
    return total;
  }

  // Connections whose peer has closed and that have no unread data, checked without
  // consuming anything and without closing: they stay in CLOSE_WAIT.
  std::uint64_t count_eof() const {
    std::uint64_t eof = 0;
    char byte = 0;
    for (const OwnedFd& fd : conns_) {
      if (::recv(fd.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) ++eof;
    }
    return eof;
  }

  const ConnectConfig& cfg_;
  EventLoop& loop_;
  std::vector<OwnedFd> conns_;  // index is the epoll key
  PortHint ports_;
  std::uint64_t wanted_ = cfg_.total();  // connections to open; grows with --open-every
  std::size_t in_flight_ = 0;
  std::uint64_t connected_ = 0;
  std::uint64_t drained_total_ = 0;    // with --read-every or --read-rate: bytes read since start
  std::optional<TokenBucket> bucket_;  // with --read-rate
  std::size_t next_read_ = 0;          // --read-rate: the connection read first next time
};

int run_mode(const ConnectConfig& cfg, Runtime& rt) {
  require_fds(cfg.max_connections, rt.fd_limit);
  Connector connector(cfg, rt.loop);
  bool said_ready = false;
  auto report_ready = [&] {
    if (!said_ready && connector.all_connected()) {
      said_ready = true;
      say("ready " + std::to_string(cfg.total()));
    }
  };
  connector.start_more();
  report_ready();
  if (cfg.read_every) rt.loop.every(*cfg.read_every, [&](std::uint64_t) { connector.on_read_tick(); });
  if (cfg.read_rate) rt.loop.every(kRateTick, [&](std::uint64_t ticks) { connector.on_rate_tick(ticks); });
  if (cfg.open_every) rt.loop.every(*cfg.open_every, [&](std::uint64_t ticks) { connector.on_open_tick(ticks); });
  rt.loop.run(
      [&](std::uint64_t key, std::uint32_t events) {
        connector.on_io(key, events);
        report_ready();
      },
      [&](int signo) { connector.on_signal(signo); });
  return kExitOk;
}

// ---------------------------------------------------------------------------
// Mode: churn

// churn: --count short-lived connections, at most --parallel at a time; each is read
// until the server closes it (serve --close-after-send), then closed. --forever: again,
// round after round, until --max-seconds. --rate: at most that many connections opened a
// second (a token bucket refilled every kRateTick).
struct ChurnConfig {
  Endpoint to;
  std::uint64_t count = 0;
  std::uint64_t parallel = 1;
  bool forever = false;
  std::uint64_t rate = 0;  // connections opened per second at most; 0: as fast as they finish
};

ChurnConfig parse_churn(const Args& args) {
  ChurnConfig cfg;
  const auto port = static_cast<std::uint16_t>(args.number("port", 1, 65535));
  cfg.to = loopback_endpoint(args.text("to"), port);
  cfg.count = args.number("count", 1, kMaxCount);
  cfg.parallel = args.number("parallel", 1, kMaxParallel, 1);
  cfg.forever = args.has("forever");
  cfg.rate = args.number("rate", 1, kMaxCount, 0);
  return cfg;
}

class Churner {
 public:
  Churner(const ChurnConfig& cfg, EventLoop& loop) : cfg_(cfg), loop_(loop) {}

  // All --count connections of this round are finished.
  bool finished() const { return finished_ == cfg_.count; }
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t round() const { return round_; }

  // Opens connections until --parallel are open, all --count of this round have been
  // opened or, with --rate, the bucket is empty.
  void start_more() {
    while (open_.size() < cfg_.parallel && started_ < cfg_.count && (cfg_.rate == 0 || tokens_milli_ >= 1000)) {
      if (cfg_.rate != 0) tokens_milli_ -= 1000;
      ++started_;
      const std::uint64_t key = next_key_++;
      Dial dial = start_dial(cfg_.to, ports_);
      const int fd = dial.fd.get();
      loop_.watch(fd, dial.connected ? EPOLLIN : EPOLLIN | EPOLLOUT, key);
      open_.emplace(key, Conn{std::move(dial.fd), !dial.connected});
    }
  }

  void on_io(std::uint64_t key, std::uint32_t events) {
    auto it = open_.find(key);
    if (it == open_.end()) return;
    Conn& conn = it->second;
    if (conn.connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      finish_dial(conn.fd.get(), cfg_.to);
      conn.connecting = false;
      loop_.change(conn.fd.get(), EPOLLIN, key);
    }
    const ReadResult r = read_available(conn.fd.get());
    bytes_read_ += r.bytes;
    if (r.error != 0) {
      errno = r.error;
      fail_errno("recv from " + cfg_.to.text);
    }
    if (!r.eof) return;
    open_.erase(it);  // closes; close() also removes it from epoll
    ++finished_;
    start_more();
  }

  // With --rate: `ticks` more kRateTick periods' worth of connections may open.
  void refill(std::uint64_t ticks) {
    const std::uint64_t per_tick_milli = cfg_.rate * static_cast<std::uint64_t>(kRateTick.count());
    tokens_milli_ = std::min(tokens_milli_ + per_tick_milli * ticks, per_tick_milli * kRateBurstTicks + 1000);
    start_more();
  }

  // After a finished round: the next one, --count connections again.
  void next_round() {
    ++round_;
    started_ = 0;
    finished_ = 0;
    start_more();
  }

 private:
  struct Conn {
    OwnedFd fd;
    bool connecting = false;  // connect in progress: waiting for EPOLLOUT
  };

  const ChurnConfig& cfg_;
  EventLoop& loop_;
  std::unordered_map<std::uint64_t, Conn> open_;  // keyed by sequence number, the epoll key
  PortHint ports_;
  std::uint64_t next_key_ = 0;  // sequence number over all rounds, so keys are never reused
  std::uint64_t round_ = 1;
  std::uint64_t started_ = 0;   // in this round
  std::uint64_t finished_ = 0;  // in this round: read to EOF and closed
  std::uint64_t bytes_read_ = 0;
  std::uint64_t tokens_milli_ = 1000;  // --rate bucket, in thousandths of a connection
};

int run_mode(const ChurnConfig& cfg, Runtime& rt) {
  require_fds(cfg.parallel, rt.fd_limit);
  Churner churner(cfg, rt.loop);
  std::uint64_t reported = 0;  // the last round reported
  if (cfg.rate != 0) rt.loop.every(kRateTick, [&](std::uint64_t ticks) { churner.refill(ticks); });
  churner.start_more();
  rt.loop.run(
      [&](std::uint64_t key, std::uint32_t events) {
        churner.on_io(key, events);
        if (!churner.finished() || reported == churner.round()) return;
        reported = churner.round();
        if (reported == 1) {
          say("done " + std::to_string(cfg.count) + " " + std::to_string(churner.bytes_read()));
        } else {
          say("round " + std::to_string(reported));
        }
        if (cfg.forever) churner.next_round();
      },
      [](int) {});
  return kExitOk;
}

// ---------------------------------------------------------------------------
// Mode: heap-grow

// heap-grow: allocate and touch --bytes-per-second every second, in kHeapChunksPerSecond
// chunks, and never free them; stop growing at --cap (a cache that warms up and levels off);
// with --release-every, free them all every that many seconds (a garbage collector's sawtooth).
struct HeapGrowConfig {
  std::uint64_t bytes_per_second = 0;
  std::uint64_t cap = kMaxHeapBytes;
  std::uint64_t release_every = 0;  // seconds; 0: never
};

HeapGrowConfig parse_heap_grow(const Args& args) {
  HeapGrowConfig cfg;
  cfg.bytes_per_second = args.number("bytes-per-second", 1, kMaxHeapBytes);
  cfg.cap = args.number("cap", 0, kMaxHeapBytes, kMaxHeapBytes);
  cfg.release_every = args.number("release-every", 1, kSecondsPerDay, 0);
  return cfg;
}

class HeapGrower {
 public:
  explicit HeapGrower(const HeapGrowConfig& cfg) : cfg_(cfg) {}

  // One chunk: the tick-th tenth of this second's bytes, exact over a whole second.
  void grow() {
    const std::uint64_t step = ticks_ % kHeapChunksPerSecond;
    const std::uint64_t chunk =
        cfg_.bytes_per_second * (step + 1) / kHeapChunksPerSecond - cfg_.bytes_per_second * step / kHeapChunksPerSecond;
    const std::uint64_t size = std::min(chunk, cfg_.cap - total_);
    ++ticks_;
    if (size == 0) return;
    auto block = std::make_unique_for_overwrite<char[]>(static_cast<std::size_t>(size));
    std::memset(block.get(), 0x5a, static_cast<std::size_t>(size));  // touch every page
    blocks_.push_back(std::move(block));
    total_ += size;
  }

  bool second_done() const { return ticks_ % kHeapChunksPerSecond == 0; }
  bool release_due() const {
    return cfg_.release_every > 0 && ticks_ % (cfg_.release_every * kHeapChunksPerSecond) == 0;
  }
  // Frees every block and hands the pages back to the kernel, as a
  // collection does: the chunks are small enough to live in malloc's heap,
  // which free() alone would keep.
  void release() {
    blocks_.clear();
    total_ = 0;
    malloc_trim(0);
  }
  std::uint64_t total() const { return total_; }

 private:
  const HeapGrowConfig& cfg_;
  std::vector<std::unique_ptr<char[]>> blocks_;  // held until exit or release()
  std::uint64_t ticks_ = 0;
  std::uint64_t total_ = 0;
};

int run_mode(const HeapGrowConfig& cfg, Runtime& rt) {
  HeapGrower grower(cfg);
  say("ready");
  rt.loop.every(std::chrono::milliseconds(1000 / kHeapChunksPerSecond), [&](std::uint64_t ticks) {
    // Catch up on ticks missed while busy or stopped, at most one second's worth.
    for (std::uint64_t i = 0; i < std::min(ticks, kHeapChunksPerSecond); ++i) {
      grower.grow();
      if (grower.second_done()) say("grown " + std::to_string(grower.total()));
      if (grower.release_due()) {
        grower.release();
        say("released");
      }
    }
  });
  rt.loop.run([](std::uint64_t, std::uint32_t) {}, [](int) {});
  return kExitOk;
}

// ---------------------------------------------------------------------------
// Mode: fd-leak

// fd-leak: open one /dev/null descriptor every --every ms and never close it, up to --max.
struct FdLeakConfig {
  std::chrono::milliseconds every{0};
  std::uint64_t max = kDefaultMaxOpened;
};

FdLeakConfig parse_fd_leak(const Args& args) {
  FdLeakConfig cfg;
  cfg.every = std::chrono::milliseconds(args.number("every", 1, kMaxPeriodMs));
  cfg.max = args.number("max", 1, kMaxCount, kDefaultMaxOpened);
  return cfg;
}

int run_mode(const FdLeakConfig& cfg, Runtime& rt) {
  require_fds(cfg.max, rt.fd_limit);
  std::vector<OwnedFd> leaked;  // held until exit, never closed before
  leaked.reserve(static_cast<std::size_t>(cfg.max));
  say("ready");
  rt.loop.every(cfg.every, [&](std::uint64_t ticks) {
    for (std::uint64_t i = 0; i < ticks && leaked.size() < cfg.max; ++i) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) fail_errno("open /dev/null");
      leaked.push_back(OwnedFd(fd));
      say("fds " + std::to_string(leaked.size()));
    }
  });
  rt.loop.run([](std::uint64_t, std::uint32_t) {}, [](int) {});
  return kExitOk;
}

// ---------------------------------------------------------------------------
// Mode: sockets

// sockets: hold a bound UDP socket (optionally with an unread datagram) and unix
// stream socketpairs until exit.
struct SocketsConfig {
  std::optional<Endpoint> udp_bind;
  std::uint64_t unix_pairs = 0;
  std::uint64_t udp_unread = 0;   // bytes in one datagram left unread on the bound socket
  std::uint64_t unix_unread = 0;  // bytes left unread at the second end of each unix pair
  std::uint64_t processes = 1;    // this one plus forked siblings holding --unix-pairs each
  std::uint64_t shared_tcp = 0;   // bytes left unread on a TCP socket held twice and by every sibling
};

SocketsConfig parse_sockets(const Args& args) {
  SocketsConfig cfg;
  if (args.has("udp-bind")) cfg.udp_bind = loopback_endpoint(args.text("udp-bind"), 0);
  cfg.unix_pairs = args.number("unix-pairs", 0, kMaxCount, 0);
  cfg.udp_unread = args.number("udp-unread", 0, kMaxUdpPayload, 0);
  cfg.unix_unread = args.number("unix-unread", 0, kMaxUnixUnread, 0);
  if (cfg.udp_unread > 0 && !cfg.udp_bind) throw UsageError("--udp-unread needs --udp-bind");
  if (cfg.unix_unread > 0 && cfg.unix_pairs == 0) throw UsageError("--unix-unread needs --unix-pairs");
  cfg.processes = args.number("processes", 1, kMaxSiblings, 1);
  cfg.shared_tcp = args.number("shared-tcp", 0, kMaxSharedTcpUnread, 0);
  return cfg;
}

struct HeldSockets {
  std::optional<OwnedFd> udp;         // --udp-bind: bound, possibly holding one unread datagram
  std::optional<OwnedFd> udp_sender;  // --udp-unread: sent that datagram (bound to the same address,
                                      // port 0); kept open
  std::vector<std::pair<OwnedFd, OwnedFd>> unix_pairs;
  std::vector<OwnedFd> shared_tcp;  // --shared-tcp: receiver, its dup(), sender
};

// Binds the UDP socket and, if asked, leaves `unread` bytes queued on it; returns its port.
std::uint16_t open_udp(const Endpoint& bind_to, std::uint64_t unread, HeldSockets& held) {
  const int udp = held.udp.emplace(open_socket(bind_to.family(), SOCK_DGRAM)).get();
  if (bind(udp, bind_to.sa(), bind_to.len) != 0) fail_errno("bind " + bind_to.text);
  const std::uint16_t port = local_port(udp);
  if (unread == 0) return port;

  Endpoint target = bind_to;
  if (target.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&target.addr)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&target.addr)->sin6_port = htons(port);
  }
  const int sender = held.udp_sender.emplace(open_socket(bind_to.family(), SOCK_DGRAM)).get();
  // Bound to loopback too, so no socket here ever listens on a wildcard address.
  if (bind(sender, bind_to.sa(), bind_to.len) != 0) fail_errno("bind " + bind_to.text);
  std::vector<char> payload(static_cast<std::size_t>(unread));
  const auto& pattern = pattern_buffer();
  std::copy_n(pattern.begin(), payload.size(), payload.begin());
  const ssize_t n = ::sendto(sender, payload.data(), payload.size(), 0, target.sa(), target.len);
  if (n < 0) fail_errno("sendto");
  if (static_cast<std::uint64_t>(n) != unread) throw RuntimeError("sendto: short datagram");

  pollfd pfd{udp, POLLIN, 0};
  const int r = ::poll(&pfd, 1, kUdpArrivalTimeoutMs);
  if (r < 0) fail_errno("poll");
  if (r == 0) throw RuntimeError("the datagram to our own UDP socket did not arrive");
  return port;
}

// Leaves `unread` bytes waiting at the second end: unread + 100 bytes
// written in three messages, the first 100 read back, so one message waits
// partly read, as a reader that stopped mid-message leaves it.
void leave_unix_unread(int writer, int reader, std::uint64_t unread) {
  constexpr std::uint64_t kReadBack = 100;
  const std::uint64_t total = unread + kReadBack;
  const auto& pattern = pattern_buffer();
  for (const std::uint64_t part : {total / 2, total / 4, total - total / 2 - total / 4}) {
    if (::send(writer, pattern.data(), part, 0) != static_cast<ssize_t>(part)) fail_errno("send on a unix pair");
  }
  std::array<char, kReadBack> head{};
  if (::recv(reader, head.data(), head.size(), MSG_WAITALL) != static_cast<ssize_t>(head.size())) {
    fail_errno("recv on a unix pair");
  }
  int queued = 0;
  if (ioctl(reader, FIONREAD, &queued) != 0) fail_errno("FIONREAD");
  if (static_cast<std::uint64_t>(queued) != unread) throw RuntimeError("the unix pair's unread bytes are not waiting");
}

void open_unix_pairs(std::uint64_t count, std::uint64_t unread, HeldSockets& held) {
  held.unix_pairs.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) fail_errno("socketpair");
    held.unix_pairs.emplace_back(OwnedFd(fds[0]), OwnedFd(fds[1]));
    if (unread > 0) leave_unix_unread(fds[0], fds[1], unread);
  }
}

// A forked sibling: holds its own unix pairs until SIGTERM, its parent's
// death or the deadline. Forked rather than started, so it is born in the
// parent's cgroup: a test that starts hundreds of processes in one cgroup
// moves one process instead of hundreds.
[[noreturn]] void run_sibling(std::uint64_t unix_pairs, int ready_fd, Clock::time_point deadline) {
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) _exit(kExitRuntime);
  HeldSockets held;
  open_unix_pairs(unix_pairs, 0, held);
  if (::write(ready_fd, "r", 1) != 1) _exit(kExitRuntime);
  ::close(ready_fd);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
    if (left.count() <= 0) _exit(kExitOk);
    timespec ts{static_cast<time_t>(left.count() / 1'000'000'000), static_cast<long>(left.count() % 1'000'000'000)};
    // The stop signals were blocked before the fork, so they wait here.
    if (sigtimedwait(&stop, nullptr, &ts) > 0) _exit(kExitOk);
  }
}

// Forks count siblings and returns once every one holds its sockets.
std::vector<pid_t> start_siblings(std::uint64_t count, std::uint64_t unix_pairs, Clock::time_point deadline) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) fail_errno("pipe2");
  std::vector<pid_t> siblings;
  for (std::uint64_t i = 0; i < count; ++i) {
    const pid_t pid = fork();
    if (pid < 0) fail_errno("fork");
    if (pid == 0) {
      ::close(ready[0]);
      run_sibling(unix_pairs, ready[1], deadline);
    }
    siblings.push_back(pid);
  }
  ::close(ready[1]);
  for (std::uint64_t got = 0; got < count;) {
    char buf[256];
    const ssize_t n = ::read(ready[0], buf, std::min<std::uint64_t>(sizeof(buf), count - got));
    if (n <= 0) throw RuntimeError("a sibling process failed before holding its sockets");
    got += static_cast<std::uint64_t>(n);
  }
  ::close(ready[0]);
  return siblings;
}

void end_siblings(const std::vector<pid_t>& siblings) {
  for (const pid_t pid : siblings) ::kill(pid, SIGTERM);
  for (const pid_t pid : siblings) ::waitpid(pid, nullptr, 0);
}

// --shared-tcp: a loopback connection to ourselves with `unread` bytes
// waiting at the receiver, whose descriptor is dup()ed; opened before the
// siblings are forked, so each of them holds the same sockets too (a fork
// after connect, as pre-fork servers do with their listener).
void open_shared_tcp(std::uint64_t unread, HeldSockets& held) {
  const Endpoint any_port = loopback_endpoint("127.0.0.1", 0);
  const OwnedFd listener = open_socket(AF_INET, SOCK_STREAM);
  if (bind(listener.get(), any_port.sa(), any_port.len) != 0 || listen(listener.get(), 1) != 0) fail_errno("listen");
  const Endpoint server = loopback_endpoint("127.0.0.1", local_port(listener.get()));
  OwnedFd receiver = open_socket(AF_INET, SOCK_STREAM);
  // Room for all of it unread: the kernel doubles this, and caps it at rmem_max (212,992 by default).
  const int room = static_cast<int>(2 * unread);
  if (setsockopt(receiver.get(), SOL_SOCKET, SO_RCVBUF, &room, sizeof(room)) != 0) fail_errno("SO_RCVBUF");
  if (connect(receiver.get(), server.sa(), server.len) != 0 && errno != EINPROGRESS) fail_errno("connect");
  pollfd pending{listener.get(), POLLIN, 0};
  if (::poll(&pending, 1, kUdpArrivalTimeoutMs) != 1) throw RuntimeError("our own connection was not accepted");
  OwnedFd sender(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (sender.get() < 0) fail_errno("accept4");
  const auto& pattern = pattern_buffer();
  for (std::uint64_t sent = 0; sent < unread;) {
    const ssize_t n = ::send(sender.get(), pattern.data(), std::min<std::uint64_t>(unread - sent, kIoChunk), 0);
    if (n <= 0) fail_errno("send");
    sent += static_cast<std::uint64_t>(n);
  }
  // Returns once every byte waits at the receiver.
  for (int waited = 0;; ++waited) {
    int queued = 0;
    if (ioctl(receiver.get(), FIONREAD, &queued) != 0) fail_errno("FIONREAD");
    if (static_cast<std::uint64_t>(queued) == unread) break;
    if (waited == kUdpArrivalTimeoutMs) throw RuntimeError("our own bytes did not arrive");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  OwnedFd duplicate(fcntl(receiver.get(), F_DUPFD_CLOEXEC, 0));
  if (duplicate.get() < 0) fail_errno("dup");
  held.shared_tcp.push_back(std::move(receiver));
  held.shared_tcp.push_back(std::move(duplicate));
  held.shared_tcp.push_back(std::move(sender));
}

int run_mode(const SocketsConfig& cfg, Runtime& rt) {
  require_fds(2 * cfg.unix_pairs + 5, rt.fd_limit);
  HeldSockets held;
  if (cfg.shared_tcp > 0) open_shared_tcp(cfg.shared_tcp, held);
  const std::vector<pid_t> siblings = start_siblings(cfg.processes - 1, cfg.unix_pairs, rt.deadline);
  std::uint16_t udp_port = 0;
  if (cfg.udp_bind) udp_port = open_udp(*cfg.udp_bind, cfg.udp_unread, held);
  open_unix_pairs(cfg.unix_pairs, cfg.unix_unread, held);
  std::string siblings_text;
  for (const pid_t pid : siblings) siblings_text += " sibling=" + std::to_string(pid);
  say("ready udp=" + std::to_string(udp_port) + " unix=" + std::to_string(cfg.unix_pairs) + siblings_text);
  rt.loop.run([](std::uint64_t, std::uint32_t) {}, [](int) {});
  end_siblings(siblings);
  return kExitOk;
}

// ---------------------------------------------------------------------------
// Mode: leader-exits

// leader-exits: hold --unix-pairs N socketpairs, start --threads T threads, then end the
// main thread alone (pthread_exit), as a program whose main() ends that way does:
// /proc/PID shows a zombie leader with no memory or files while the threads hold them.
struct LeaderExitsConfig {
  std::uint64_t unix_pairs = 1;
  std::uint64_t threads = 1;
};

LeaderExitsConfig parse_leader_exits(const Args& args) {
  LeaderExitsConfig cfg;
  cfg.unix_pairs = args.number("unix-pairs", 1, kMaxCount, 1);
  cfg.threads = args.number("threads", 1, kMaxLeaderThreads, 1);
  return cfg;
}

int run_mode(const LeaderExitsConfig& cfg, Runtime& rt) {
  require_fds(2 * cfg.unix_pairs + 2, rt.fd_limit);
  // Outlives the main thread: pthread_exit unwinds its stack, not statics.
  static HeldSockets held;
  open_unix_pairs(cfg.unix_pairs, 0, held);
  for (std::uint64_t i = 0; i < cfg.threads; ++i) {
    std::thread([deadline = rt.deadline, first = i == 0] {
      // With no loop left to read them, SIGTERM and the parent's death end the process.
      const sigset_t signals = loop_signals();
      pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
      std::this_thread::sleep_until(deadline);
      if (first) std::_Exit(kExitOk);
    }).detach();
  }
  say("ready threads=" + std::to_string(cfg.threads) + " unix=" + std::to_string(cfg.unix_pairs));
  pthread_exit(nullptr);
}

// ---------------------------------------------------------------------------
// Mode: unix-backlog

// unix-backlog: a unix stream listener that accepts nothing, and --connect
// connections to it from this process: too few workers behind nginx on a
// unix socket. A connect() past the queue's limit fails (EAGAIN: ours are
// non-blocking) and is counted, as nginx logs it.
struct UnixBacklogConfig {
  std::string path;  // "@name": abstract
  std::uint64_t backlog = 0;
  std::uint64_t connect = 0;
};

UnixBacklogConfig parse_unix_backlog(const Args& args) {
  UnixBacklogConfig cfg;
  cfg.path = std::string(args.text("path"));
  if (cfg.path.empty() || cfg.path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw UsageError("--path must be 1 to " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
  }
  cfg.backlog = args.number("backlog", 1, kListenBacklog);
  cfg.connect = args.number("connect", 0, 2 * kListenBacklog);
  return cfg;
}

int run_mode(const UnixBacklogConfig& cfg, Runtime& rt) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, cfg.path.data(), cfg.path.size());
  const bool abstract = cfg.path.front() == '@';
  if (abstract) address.sun_path[0] = '\0';
  // An abstract name is exactly its bytes; a path ends at its NUL.
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + cfg.path.size() + (abstract ? 0 : 1));
  const auto* sa = reinterpret_cast<const sockaddr*>(&address);
  OwnedFd listener = open_socket(AF_UNIX, SOCK_STREAM);
  if (bind(listener.get(), sa, length) != 0) fail_errno("bind " + cfg.path);
  if (listen(listener.get(), static_cast<int>(cfg.backlog)) != 0) fail_errno("listen");
  std::vector<OwnedFd> clients;
  std::uint64_t refused = 0;
  for (std::uint64_t i = 0; i < cfg.connect; ++i) {
    OwnedFd client = open_socket(AF_UNIX, SOCK_STREAM);
    if (connect(client.get(), sa, length) == 0) {
      clients.push_back(std::move(client));
    } else if (errno == EAGAIN) {
      ++refused;
    } else {
      fail_errno("connect " + cfg.path);
    }
  }
  say("ready waiting=" + std::to_string(clients.size()) + " refused=" + std::to_string(refused));
  rt.loop.run([](std::uint64_t, std::uint32_t) {}, [](int) {});
  if (!abstract) unlink(cfg.path.c_str());
  return kExitOk;
}

// ---------------------------------------------------------------------------
// Mode table and main

using ModeConfig = std::variant<ServeConfig, ConnectConfig, ChurnConfig, HeapGrowConfig, FdLeakConfig, SocketsConfig,
                                LeaderExitsConfig, UnixBacklogConfig>;

struct ModeSpec {
  std::string_view name;
  std::string_view usage;
  std::string_view help;                  // what it does, its options and output lines
  std::vector<std::string_view> options;  // besides --max-seconds
  std::vector<std::string_view> flags;    // options without a value
  ModeConfig (*parse)(const Args&);
};

const std::vector<ModeSpec>& modes() {
  static const std::vector<ModeSpec> table = {
      {"serve",
       "serve --bind ADDR --port P [--send-bytes K] [--count N] [--close-after-send] [--listeners L]\n"
       "              [--stream [--rate BYTES_PER_SEC [--keep-unsent]] | --close-on-accept | --no-accept]\n"
       "              [--backlog B]",
       "Listens on ADDR:P and accepts forever; writes K bytes (default 0) to every connection\n"
       "and discards what it receives. --close-after-send: then shuts the connection down and\n"
       "closes it (the client sees EOF). --listeners L (needs --port 0): L ephemeral ports.\n"
       "--stream (not with --send-bytes or --close-after-send): writes pattern data to every\n"
       "connection for as long as it lives, as fast as the socket takes it or, with --rate,\n"
       "at most BYTES_PER_SEC per connection (refilled every 10 ms); with --keep-unsent, each\n"
       "connection is owed BYTES_PER_SEC and what its socket does not take is kept in memory\n"
       "for it (a publisher's per-subscriber queue). --close-on-accept (not\n"
       "with --stream, --send-bytes or --close-after-send): closes every connection as soon\n"
       "as it is accepted; a peer that never closes sits in CLOSE_WAIT. --no-accept (not with\n"
       "the options that send or close): accepts nothing, so connections wait in the accept\n"
       "queue, at most B + 1 (--backlog, default 4096, capped by somaxconn).\n"
       "Prints 'ready P1 ... PL' (one port by default), 'accepted N' and 'sent N' once N\n"
       "connections were accepted / fully sent (with --count; never 'sent N' with --stream),\n"
       "'closed C' on SIGUSR1, which closes every accepted connection.",
       {"bind", "port", "send-bytes", "count", "listeners", "rate", "backlog"},
       {"close-after-send", "stream", "keep-unsent", "close-on-accept", "no-accept"},
       [](const Args& a) -> ModeConfig { return parse_serve(a); }},
      {"connect",
       "connect --to ADDR (--port P | --ports P1,P2,...) --count N [--read-every MS | --read-rate B]\n"
       "              [--open-every MS [--max-connections M]] [--rcvbuf BYTES]",
       "Opens N connections to P, or N to each of P1,P2,..., and does not read them. Prints\n"
       "'ready T' once all T connections are up. SIGUSR1: reads all that is readable and\n"
       "prints 'drained BYTES', the bytes read by that drain; with --read-every it also drains\n"
       "every MS milliseconds and BYTES is the total read since start. SIGUSR2: prints\n"
       "'eof E', the connections the peer closed with nothing left unread (not closed here).\n"
       "--read-rate B (not with --read-every): reads at most B bytes a second in all, in\n"
       "64 KiB reads round robin over the connections (budget refilled every 10 ms); a faster\n"
       "stream piles up unread. SIGUSR1 then only prints 'drained BYTES', the total read\n"
       "since start. --rcvbuf BYTES: SO_RCVBUF (forced past rmem_max when allowed) on every\n"
       "connection before it connects, so the unread backlog can reach about 2 x BYTES; without\n"
       "it the kernel autotunes (since Linux 6.16 it does not grow the buffer of a reader\n"
       "that leaves bytes queued, so the backlog stays near tcp_rmem[1]).\n"
       "--open-every MS: once the first T are up (N may be 0), opens one more connection\n"
       "every MS milliseconds, to the ports in turn, up to M in all (default 5000; M must fit\n"
       "RLIMIT_NOFILE), and prints 'opened TOTAL' as each one is up. They are never closed.",
       {"to", "port", "ports", "count", "read-every", "read-rate", "open-every", "max-connections", "rcvbuf"},
       {},
       [](const Args& a) -> ModeConfig { return parse_connect(a); }},
      {"churn",
       "churn --to ADDR --port P --count N [--parallel M] [--forever] [--rate R]",
       "Opens N short-lived connections, at most M (default 1) at a time; reads each until\n"
       "EOF (the server must use --close-after-send), then closes it. Prints 'done N BYTES'\n"
       "(BYTES read in all) when all N are finished, then stays alive. --forever: then does\n"
       "it again, round after round until --max-seconds, and prints 'round R' as round R\n"
       "(2, 3, ...) finishes. --rate R: opens at most R connections a second.",
       {"to", "port", "count", "parallel", "rate"},
       {"forever"},
       [](const Args& a) -> ModeConfig { return parse_churn(a); }},
      {"heap-grow",
       "heap-grow --bytes-per-second B [--cap BYTES] [--release-every S]",
       "Allocates and touches B bytes a second on the heap, in 10 chunks, and never frees\n"
       "them; stops growing at BYTES. Prints 'ready' at start and 'grown TOTAL' every second.\n"
       "--release-every S: frees them all every S seconds, returns the pages to the kernel\n"
       "(malloc_trim) and prints 'released': a garbage collector's sawtooth.",
       {"bytes-per-second", "cap", "release-every"},
       {},
       [](const Args& a) -> ModeConfig { return parse_heap_grow(a); }},
      {"fd-leak",
       "fd-leak --every MS [--max N]",
       "Opens /dev/null every MS milliseconds and never closes it, up to N descriptors\n"
       "(default 5000; N must fit RLIMIT_NOFILE). Prints 'ready' at start and 'fds TOTAL'\n"
       "(descriptors leaked so far) after each one.",
       {"every", "max"},
       {},
       [](const Args& a) -> ModeConfig { return parse_fd_leak(a); }},
      {"sockets",
       "sockets [--udp-bind ADDR] [--unix-pairs N [--unix-unread U]] [--udp-unread K] [--processes P]\n"
       "              [--shared-tcp B]",
       "Holds a UDP socket bound to ADDR (port 0), with one unread K-byte datagram if asked,\n"
       "and N unix stream socketpairs; --unix-unread U: U bytes wait unread at the second\n"
       "end of each (at most 100000; one message partly read). With --processes P, forks P-1 siblings that hold N\n"
       "unix pairs each and end with it. --shared-tcp B: first opens a loopback TCP connection\n"
       "to itself with B bytes left unread at the receiver, whose fd is dup()ed, so that the\n"
       "process and each sibling hold 3 descriptors of 2 TCP sockets. Prints\n"
       "'ready udp=PORT unix=N [sibling=PID]...' once all hold them.",
       {"udp-bind", "unix-pairs", "unix-unread", "udp-unread", "processes", "shared-tcp"},
       {},
       [](const Args& a) -> ModeConfig { return parse_sockets(a); }},
      {"leader-exits",
       "leader-exits [--unix-pairs N] [--threads T]",
       "Holds N unix stream socketpairs (default 1), starts T threads (default 1), prints\n"
       "'ready threads=T unix=N' and ends its main thread alone (pthread_exit): /proc/PID then\n"
       "shows a zombie leader while the threads keep the process and its sockets.",
       {"unix-pairs", "threads"},
       {},
       [](const Args& a) -> ModeConfig { return parse_leader_exits(a); }},
      {"unix-backlog",
       "unix-backlog --path PATH --backlog B --connect N",
       "Listens on the unix stream socket PATH ('@name': abstract) with backlog B and accepts\n"
       "nothing; opens N non-blocking connections to it, which wait in its accept queue, at\n"
       "most B + 1: connect() fails with EAGAIN past that. Prints 'ready waiting=W refused=R'.\n"
       "Removes PATH when it ends.",
       {"path", "backlog", "connect"},
       {},
       [](const Args& a) -> ModeConfig { return parse_unix_backlog(a); }},
  };
  return table;
}

// "serve, connect, ...", for messages.
std::string mode_names() {
  std::string names;
  for (const ModeSpec& m : modes()) names += (names.empty() ? "" : ", ") + std::string(m.name);
  return names;
}

// Indents every line of `text` by `prefix`.
std::string indented(std::string_view text, std::string_view prefix) {
  std::string out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    out += std::string(prefix) + std::string(text.substr(0, nl)) + "\n";
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return out;
}

void print_help() {
  std::string text = "usage: lw-workload MODE [options] [--max-seconds S]\n";
  for (const ModeSpec& m : modes()) text += "  lw-workload " + std::string(m.usage) + "\n";
  text +=
      "Addresses must be loopback (127.0.0.0/8 or ::1). Prints 'ready <info>' when set up.\n"
      "Exits 0 on SIGTERM/SIGINT, parent death or after --max-seconds (default 120).\n";
  for (const ModeSpec& m : modes()) text += "\n" + std::string(m.usage) + "\n" + indented(m.help, "  ");
  text +=
      "\nEvery mode: --max-seconds S (default 120, fractions allowed) exits 0 after S seconds.\n"
      "Options take '--name value' or '--name=value'; switches (--close-after-send, --stream,\n"
      "--close-on-accept, --forever) take none.\n"
      "Bad arguments exit 2, runtime failures exit 1 (one line on stderr).\n";
  std::fputs(text.c_str(), stdout);
}

struct Invocation {
  ModeConfig config;
  double max_seconds = kDefaultMaxSeconds;
};

Invocation parse_invocation(std::span<char* const> argv) {
  if (argv.size() < 2) throw UsageError("missing mode (" + mode_names() + "); see --help");
  const std::string_view name = argv[1];
  for (const ModeSpec& m : modes()) {
    if (m.name != name) continue;
    std::vector<std::string_view> known = m.options;
    known.push_back("max-seconds");
    const Args args = Args::parse(argv.subspan(2), known, m.flags);
    return Invocation{m.parse(args), args.seconds("max-seconds", kDefaultMaxSeconds, kMaxMaxSeconds)};
  }
  throw UsageError("unknown mode '" + std::string(name) + "' (" + mode_names() + ")");
}

int run(const Invocation& inv, pid_t parent_at_start) {
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(inv.max_seconds));
  block_loop_signals();
  EventLoop loop(deadline);
  if (!follow_parent(parent_at_start)) return kExitOk;
  Runtime rt{loop, raise_fd_limit(), deadline};
  return std::visit([&](const auto& cfg) { return run_mode(cfg, rt); }, inv.config);
}

void report_error(const char* what) {
  std::fflush(stdout);
  std::fprintf(stderr, "lw-workload: %s\n", what);
}

}  // namespace

int main(int argc, char** argv) {
  const pid_t parent_at_start = getppid();
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::span<char* const> words(argv, static_cast<std::size_t>(argc));
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    print_help();
    return kExitOk;
  }
  try {
    return run(parse_invocation(words), parent_at_start);
  } catch (const UsageError& e) {
    report_error(e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    report_error(e.what());
    return kExitRuntime;
  }
}
