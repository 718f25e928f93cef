#include "collect/record_bytes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "record_builder.h"
#include "util/error.h"

namespace lw::test {
namespace {

template <typename T>
std::vector<std::byte> bytes_of(const std::vector<T>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

TEST(RecordBytes, WholeRecordsAreCounted) {
  EXPECT_EQ(whole_socket_records(3 * sizeof(SocketRecord)), 3u);
  EXPECT_EQ(whole_socket_records(0), 0u);
}

TEST(RecordBytes, ARecordCutShortIsALayoutDisagreement) {
  try {
    whole_socket_records(2 * sizeof(SocketRecord) - 1);
    FAIL() << "a partial record was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::bpf_refused);
  }
}

TEST(RecordBytes, ACloseEventIsExactlyOneEventsSize) {
  lw_close_event event{};
  event.inode = 4242;
  event.bytes_received = 200000;
  auto bytes = bytes_of(std::vector<lw_close_event>{event});
  const auto decoded = close_event_from_bytes(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->inode, 4242u);
  EXPECT_EQ(decoded->bytes_received, 200000u);
  EXPECT_FALSE(close_event_from_bytes(std::span(bytes).first(bytes.size() - 1)));
  bytes.push_back(std::byte{0});
  EXPECT_FALSE(close_event_from_bytes(bytes));  // never read past a sample's end, nor trust a longer one
  EXPECT_FALSE(close_event_from_bytes({}));
}

}  // namespace
}  // namespace lw::test
