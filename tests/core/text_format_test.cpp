// Numbers put into text: thousands grouped as Keras' summary prints them, and the shortest text of a double.
#include "core/text_format.hpp"

#include <gtest/gtest.h>

namespace ringtrain {
namespace {

TEST(TextFormat, ThousandsAreGroupedFromTheRight) {
  EXPECT_EQ(with_thousands(0), "0");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(7850), "7,850");
  EXPECT_EQ(with_thousands(1287983), "1,287,983");
  EXPECT_EQ(with_thousands(-1234567), "-1,234,567");
  EXPECT_EQ(with_thousands(-123), "-123");
}

TEST(TextFormat, TheShortestTextReadsBackAsTheSameDouble) {
  EXPECT_EQ(shortest_text(0.003), "0.003");
  EXPECT_EQ(shortest_text(0.99999999999), "0.99999999999");
  EXPECT_EQ(std::stod(shortest_text(0.1 + 0.2)), 0.1 + 0.2);
  EXPECT_EQ(format_number("%.1f%%", 12.345), "12.3%");
}

}  // namespace
}  // namespace ringtrain
