#include "alertmanager_client.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "curl_ptr.h"
#include "util/error.h"
#include "util/json_text.h"
#include "util/log.h"

namespace lw {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Connecting takes no longer than this even when a post may take longer.
constexpr std::chrono::milliseconds kMaxConnectTimeout{3000};
// What is kept of an answer's body, for the log line of a refused post.
constexpr size_t kMaxAnswerBytes = 256;

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(t));
}

std::string summary(const ActiveFinding& f, std::string_view kind) {
  const std::string where = f.pod.pod.empty() ? "" : fmt::format(" of pod {}/{}", f.pod.namespace_, f.pod.pod);
  return f.process ? fmt::format("{} in {} (PID {}){}", kind, f.comm, f.process->pid, where)
                   : fmt::format("{} in cgroup {}{}", kind, f.cgroup, where);
}

nlohmann::json alert(const ActiveFinding& f, const std::string& node, std::chrono::system_clock::time_point ends) {
  const std::string kind(to_string(f.finding.kind));
  nlohmann::json labels{{"alertname", "LeakwatchLeakSuspected"},
                        {"kind", kind},
                        {"severity", std::string(to_string(f.finding.severity))},
                        {"pid", f.process ? std::to_string(f.process->pid) : ""},
                        {"comm", f.comm},
                        {"cgroup", f.cgroup},
                        {"node", node}};
  for (const auto& [name, value] : pod_labels(f.pod)) labels[name] = value;
  return {
      {"labels", std::move(labels)},
      {"annotations",
       {{"summary", summary(f, kind)}, {"description", f.finding.explanation}, {"fix", f.finding.suggested_fix}}},
      {"endsAt", rfc3339(ends)},
  };
}

int64_t ticks(SteadyClock::time_point t) { return t.time_since_epoch().count(); }

// curl_global_init is not safe once other threads may use libcurl: it runs
// once, from the thread that builds the first poster (the agent's main
// thread, before the sender and the exposer start).
void init_curl_once() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    throw Error(ErrorKind::io, fmt::format("cannot initialize libcurl: {}", curl_easy_strerror(rc)));
  }
}

size_t keep_answer(char* data, size_t size, size_t count, void* user) {
  auto& answer = *static_cast<std::string*>(user);
  const size_t bytes = size * count;
  answer.append(data, std::min(bytes, kMaxAnswerBytes - std::min(answer.size(), kMaxAnswerBytes)));
  return bytes;
}

int check_cancelled(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto& cancelled = *static_cast<const std::function<bool()>*>(user);
  return cancelled() ? 1 : 0;
}

class CurlPoster final : public AlertPoster {
 public:
  explicit CurlPoster(const AlertmanagerConfig& config) : endpoint_(config.url + "/api/v2/alerts") {
    init_curl_once();
    easy_.reset(curl_easy_init());
    if (!easy_) throw Error(ErrorKind::io, "cannot create a libcurl handle");
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    if (!headers) throw Error(ErrorKind::io, "cannot allocate HTTP headers");
    headers_.reset(headers);
    const auto connect_timeout = std::min(config.timeout, kMaxConnectTimeout);
    set(CURLOPT_URL, endpoint_.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: the agent's signals are its own
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(config.timeout.count()));
    set(CURLOPT_HTTPHEADER, headers_.get());
    set(CURLOPT_USERAGENT, "leakwatch-agent/" LEAKWATCH_VERSION);
    set(CURLOPT_ERRORBUFFER, error_);
    set(CURLOPT_WRITEFUNCTION, &keep_answer);
    set(CURLOPT_WRITEDATA, &answer_);
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &check_cancelled);
    // libcurl copies string options: the secrets live on in it, not here.
    if (!config.ca_file.empty()) set(CURLOPT_CAINFO, config.ca_file.c_str());
    if (!config.username.empty()) {
      set(CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      set(CURLOPT_USERNAME, config.username.c_str());
      set(CURLOPT_PASSWORD, config.password.c_str());
    }
    if (!config.bearer_token.empty()) {
      set(CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
      set(CURLOPT_XOAUTH2_BEARER, config.bearer_token.c_str());
    }
  }

  void post(const std::string& json, const std::function<bool()>& cancelled) override {
    answer_.clear();
    error_[0] = '\0';
    set(CURLOPT_POSTFIELDS, json.c_str());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json.size()));
    set(CURLOPT_XFERINFODATA, &cancelled);
    const CURLcode rc = curl_easy_perform(easy_.get());
    set(CURLOPT_XFERINFODATA, static_cast<void*>(nullptr));
    if (rc == CURLE_ABORTED_BY_CALLBACK) throw std::runtime_error("given up: the agent is stopping");
    if (rc != CURLE_OK) {
      throw std::runtime_error(
          fmt::format("{}{}{}", curl_easy_strerror(rc), error_[0] ? ": " : "", static_cast<const char*>(error_)));
    }
    long status = 0;
    curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) {
      std::string said = answer_;
      std::replace_if(
          said.begin(), said.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
      throw std::runtime_error(fmt::format("{} answered HTTP {}: {}", endpoint_, status, said));
    }
  }

 private:
  template <typename Value>
  void set(CURLoption option, Value value) {
    if (const CURLcode rc = curl_easy_setopt(easy_.get(), option, value); rc != CURLE_OK) {
      throw Error(ErrorKind::usage,
                  fmt::format("libcurl refused an option for {}: {}", endpoint_, curl_easy_strerror(rc)));
    }
  }

  std::string endpoint_;
  CurlEasyPtr easy_;
  CurlListPtr headers_;
  std::string answer_;
  char error_[CURL_ERROR_SIZE] = {};
};

}  // namespace

void AlertCounters::add(const AlertDrops& drops) {
  if (drops.superseded) dropped_superseded += drops.superseded;
  if (drops.queue_full) dropped_queue_full += drops.queue_full;
}

AlertDelivery AlertCounters::snapshot() const {
  return {.posts_ok = posts_ok.load(),
          .posts_failed = posts_failed.load(),
          .dropped_superseded = dropped_superseded.load(),
          .dropped_queue_full = dropped_queue_full.load()};
}

nlohmann::json alerts_body(const AlertBatch& batch, const std::string& node, std::chrono::system_clock::time_point now,
                           std::chrono::seconds valid_for) {
  nlohmann::json body = nlohmann::json::array();
  for (const auto& r : batch.resolved) body.push_back(alert(r.finding, node, r.ended_at));
  if (batch.active) {
    for (const auto& f : *batch.active) body.push_back(alert(f, node, now + valid_for));
  }
  return body;
}

std::unique_ptr<AlertPoster> make_curl_poster(const AlertmanagerConfig& config) {
  return std::make_unique<CurlPoster>(config);
}

AlertSender::AlertSender(std::unique_ptr<AlertPoster> poster, AlertSenderOptions options)
    : poster_(std::move(poster)), options_(std::move(options)), queue_(options_.max_resolved) {
  thread_ = std::thread([this] { run(); });
}

AlertSender::~AlertSender() { stop(); }

void AlertSender::enqueue(std::vector<ActiveFinding> active, const std::vector<FindingChange>& changes) {
  AlertDrops drops;
  {
    std::lock_guard lock(mutex_);
    drops = queue_.offer(std::move(active), changes, std::chrono::system_clock::now());
  }
  counters_->add(drops);
  wake_.notify_one();
}

void AlertSender::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) give_up_at_ = ticks(SteadyClock::now() + options_.final_flush);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool AlertSender::cancelled() const { return ticks(SteadyClock::now()) >= give_up_at_.load(); }

void AlertSender::run() {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  auto retry_at = SteadyClock::now();
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!stopping_ && !(queue_.has_pending() && SteadyClock::now() >= retry_at)) {
      if (queue_.has_pending()) {
        wake_.wait_until(lock, retry_at);
      } else {
        wake_.wait(lock);
      }
    }
    if (stopping_) break;
    AlertBatch batch = queue_.take();
    if (deliver(batch, lock)) {
      backoff.reset();
      retry_at = SteadyClock::now();
    } else {
      counters_->add(queue_.give_back(std::move(batch)));
      retry_at = SteadyClock::now() + backoff.after_failure();
    }
  }
  // The final flush: one attempt, whatever the backoff said, until give_up_at_.
  if (queue_.has_pending() && !cancelled()) {
    AlertBatch batch = queue_.take();
    deliver(batch, lock);
  }
}

bool AlertSender::deliver(AlertBatch& batch, std::unique_lock<std::mutex>& lock) {
  if (!batch.has_alerts()) return true;
  const nlohmann::json body = alerts_body(batch, options_.node, std::chrono::system_clock::now(), options_.valid_for);
  lock.unlock();
  std::optional<std::string> error;
  try {
    poster_->post(json_text(body), [this] { return cancelled(); });
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error) {
    counters_->posts_ok++;
    if (std::exchange(failing_, false)) log::info("posting alerts to {} works again", options_.target);
  } else {
    counters_->posts_failed++;
    failing_ = true;
    log::warn("posting {} alerts to {} failed: {}", body.size(), options_.target, *error);
  }
  lock.lock();
  return !error;
}

}  // namespace lw
