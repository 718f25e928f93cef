// valid_utf8: what a process may put in its name comes out as text that
// Prometheus and JSON accept, unchanged when it already was.
#include "util/utf8.h"

#include <gtest/gtest.h>

namespace lw {
namespace {

TEST(ValidUtf8, WellFormedTextIsUnchanged) {
  for (const std::string text : {"", "gunicorn", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x90\x8D py", "\x7F"}) {
    EXPECT_EQ(valid_utf8(text), text);
    EXPECT_TRUE(is_valid_utf8(text)) << text;
  }
}

TEST(ValidUtf8, EachByteThatStartsNoSequenceBecomesOneReplacement) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(valid_utf8("lw\xFF\xFE"
                       "bad"),
            "lw" + r + r + "bad");
  EXPECT_EQ(valid_utf8("\x80x"), r + "x");                   // a lone continuation byte
  EXPECT_EQ(valid_utf8("ab\xE2\x82"), "ab" + r + r);         // cut short at the end
  EXPECT_EQ(valid_utf8("\xC0\x80"), r + r);                  // overlong NUL
  EXPECT_EQ(valid_utf8("\xE0\x80\xAF"), r + r + r);          // overlong '/'
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), r + r + r);          // a UTF-16 surrogate
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"), r + r + r + r);  // past U+10FFFF
  EXPECT_EQ(valid_utf8("\xF5\x80"), r + r);
  for (const std::string text : {"lw\xFF", "\x80", "ab\xE2\x82", "\xC0\x80", "\xED\xA0\x80", "\xF5"}) {
    EXPECT_FALSE(is_valid_utf8(text)) << text;
  }
}

}  // namespace
}  // namespace lw
