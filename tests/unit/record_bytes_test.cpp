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

TEST(RecordBytes, WholeRecordsKeepEveryByte) {
  const std::vector<SocketRecord> records{RecordBuilder::tcp4("10.0.0.1", 40000, "10.0.0.7", 8080),
                                          RecordBuilder::unix_stream()};
  const auto bytes = bytes_of(records);
  const auto decoded = socket_records_from_bytes(bytes);
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(std::memcmp(decoded.data(), bytes.data(), bytes.size()), 0);
  EXPECT_TRUE(socket_records_from_bytes({}).empty());
}

TEST(RecordBytes, ARecordCutShortIsALayoutDisagreement) {
  auto bytes = bytes_of(std::vector<SocketRecord>{RecordBuilder::udp4(53)});
  bytes.pop_back();
  try {
    socket_records_from_bytes(bytes);
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
