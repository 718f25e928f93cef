// What the agent's libcurl poster puts on the wire, read by a server on
// loopback that keeps every request's headers: Alertmanager itself cannot
// check a bearer token, so only this shows the exact Authorization header.
// The credentials come from their files through the agent's own flags, as
// at start.
#include "alertmanager_client.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent_config.h"
#include "alert_targets.h"
#include "fake_files.h"

namespace lw {
namespace {

using test::HttpRequest;
using test::RecordingServer;
using test::TempDir;
using test::write_file;

// The Alertmanager settings of these flags, read as leakwatch-agent reads them.
AlertmanagerConfig alertmanager_of(std::vector<std::string> args) {
  args.insert(args.begin(), "leakwatch-agent");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  return std::get<AgentConfig>(parse_agent_config(static_cast<int>(argv.size()), argv.data())).alertmanager;
}

// One post of an empty alert list; the request the server got.
HttpRequest posted(const RecordingServer& server, const AlertmanagerConfig& config) {
  make_curl_poster(config)->post("[]", [] { return false; });
  const auto requests = server.requests();
  EXPECT_EQ(requests.size(), 1u);
  if (requests.empty()) return {};
  EXPECT_EQ(requests[0].request_line, "POST /api/v2/alerts HTTP/1.1");
  EXPECT_EQ(requests[0].header_lines("Content-Type"), std::vector<std::string>{"Content-Type: application/json"});
  EXPECT_EQ(requests[0].body, "[]");
  return requests[0];
}

TEST(AlertmanagerClient, BearerTokenFromItsFileIsTheAuthorizationHeader) {
  RecordingServer server;
  TempDir dir;
  // As `kubectl create secret --from-file` leaves it: a trailing newline,
  // which is not part of the token.
  write_file(dir.path() / "token", "tok-123.abc_XYZ\n");
  const auto request =
      posted(server, alertmanager_of({"--alertmanager-url", server.url() + "/", "--alertmanager-bearer-token-file",
                                      (dir.path() / "token").string()}));
  EXPECT_EQ(request.header_lines("Authorization"), std::vector<std::string>{"Authorization: Bearer tok-123.abc_XYZ"});
}

TEST(AlertmanagerClient, BasicAuthIsTheAuthorizationHeader) {
  RecordingServer server;
  TempDir dir;
  write_file(dir.path() / "password", "s3cret-pw\r\n");
  const auto request =
      posted(server, alertmanager_of({"--alertmanager-url", server.url(), "--alertmanager-username", "leakwatch",
                                      "--alertmanager-password-file", (dir.path() / "password").string()}));
  // base64("leakwatch:s3cret-pw")
  EXPECT_EQ(request.header_lines("Authorization"),
            std::vector<std::string>{"Authorization: Basic bGVha3dhdGNoOnMzY3JldC1wdw=="});
}

TEST(AlertmanagerClient, NoCredentialsNoAuthorizationHeader) {
  RecordingServer server;
  const auto request = posted(server, alertmanager_of({"--alertmanager-url", server.url()}));
  EXPECT_TRUE(request.header_lines("Authorization").empty());
}

}  // namespace
}  // namespace lw
