#include "collect/socket_sharers.h"

#include <gtest/gtest.h>

#include "record_builder.h"

namespace lw::test {
namespace {

SocketRecord with_refs(SocketRecord r, uint32_t refs) {
  r.file_refs = refs;
  return r;
}

// A socket is possibly shared when its file has more references than the
// process has descriptors of it.
TEST(SocketSharers, MoreReferencesThanDescriptorsIsPossiblyShared) {
  const SocketRecord alone = with_refs(RecordBuilder::unix_stream().inode(1).fd(3), 1);
  const SocketRecord duplicated = with_refs(RecordBuilder::unix_stream().inode(2).fd(4), 2);
  SocketRecord duplicate = duplicated;
  duplicate.fd = 9;
  const SocketRecord inherited = with_refs(RecordBuilder::unix_stream().inode(3).fd(7), 3);
  SocketRecord inherited_dup = inherited;
  inherited_dup.fd = 5;
  const std::vector<SocketRecord> held{alone, duplicated, duplicate, inherited, inherited_dup};
  const auto shared = possibly_shared(held);
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].socket.inode, 3u);
  EXPECT_EQ(shared[0].socket.fd, 5u) << "named by its lowest fd";
  EXPECT_EQ(shared[0].descriptors, 2u);
  EXPECT_TRUE(shared[0].others.empty()) << "not looked for yet";
}

TEST(SocketSharers, UnknownReferencesAreNeverShared) {
  const std::vector<SocketRecord> held{RecordBuilder::unix_stream().inode(1).fd(3)};
  EXPECT_TRUE(possibly_shared(held).empty());
}

}  // namespace
}  // namespace lw::test
